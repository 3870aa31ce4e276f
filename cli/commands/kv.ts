/**
 * `coffer kv`: the KV version 2 engine, as the vault CLI's `kv` commands use it.
 */
import type { Command } from "commander";
import { ApiError, type VaultResponse } from "../client.ts";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { runAction } from "./exit-codes.ts";
import { nonNegativeInteger, parseKeyValues, parseVersions } from "./input.ts";
import { registerKvMetadataCommands } from "./kv-metadata.ts";
import { explainNotFound, MOUNT_OPTION, openKv, requireVersion2 } from "./kv-path.ts";
import { heading, printField, printKeys, printStructured, printSuccess, rowsOf, table } from "./output.ts";

interface KvOptions extends ClientOptions {
  mount?: string;
}

async function printWritten(response: VaultResponse | undefined, options: KvOptions, where: string) {
  if (options.field) printField(response?.data, options.field);
  else if (!(await printStructured(options, response ?? {})))
    process.stdout.write(
      `${heading("Secret Path")}${where}\n\n${heading("Metadata")}${table(rowsOf(response?.data))}`,
    );
}

function withCas(data: Record<string, unknown>, cas: number | undefined) {
  return cas === undefined ? { data } : { data, options: { cas } };
}

const DATA_HELP =
  "\nData: key=value, key=@file (the file's content), key=- (standard input), @file.json (a JSON object).\n";

export function registerKvCommands(program: Command): void {
  const kv = commandGroup(program, "kv", "read and write secrets in a KV version 2 mount");

  clientCommand(kv, "get <path>", "read a secret (the latest version unless --version)")
    .option(...MOUNT_OPTION)
    .option("--version <n>", "the version to read", nonNegativeInteger("the version"))
    .addHelpText(
      "after",
      "\nExamples:\n  coffer kv get secret/app/db\n  coffer kv get -field=password secret/app/db\n",
    )
    .action(
      runAction(async (path: string, options: KvOptions & { version?: number }) => {
        const { connection, located, at } = await openKv(path, options);
        if (options.version !== undefined) requireVersion2(located, "get --version");
        const query = options.version === undefined ? undefined : { version: String(options.version) };
        const response = await connection.request("GET", at("data"), { query }).catch((error) => {
          throw explainNotFound(error, located);
        });
        // Version 2 wraps the secret with its metadata; version 1 answers the secret itself.
        const secret =
          located.version === 2
            ? ((response?.data ?? {}) as {
                data?: Record<string, unknown>;
                metadata?: Record<string, unknown>;
              })
            : { data: response?.data ?? {} };
        if (options.field) return printField(secret.data, options.field);
        if (await printStructured(options, response)) return;
        const metadata = secret.metadata ? `${heading("Metadata")}${table(rowsOf(secret.metadata))}\n` : "";
        process.stdout.write(
          `${heading("Secret Path")}${at("data")}\n\n${metadata}${heading("Data")}${table(rowsOf(secret.data))}`,
        );
      }),
    );

  clientCommand(kv, "put <path> <data...>", "write a new version of a secret, replacing all of its data")
    .option(...MOUNT_OPTION)
    .option(
      "--cas <version>",
      "write only if the current version is this one (0: only if none)",
      nonNegativeInteger("cas"),
    )
    .addHelpText(
      "after",
      `${DATA_HELP}\nExample:\n  coffer kv put secret/app/db username=app password=@password.txt\n`,
    )
    .action(
      runAction(async (path: string, pairs: string[], options: KvOptions & { cas?: number }) => {
        const data = await parseKeyValues(pairs);
        const { connection, located, at } = await openKv(path, options);
        if (located.version === 1) {
          if (options.cas !== undefined) requireVersion2(located, "put --cas");
          await connection.request("POST", at("data"), { body: data });
          return printSuccess(options, `Data written to: ${at("data")}`);
        }
        const response = await connection.request("POST", at("data"), { body: withCas(data, options.cas) });
        await printWritten(response, options, at("data"));
      }),
    );

  clientCommand(kv, "patch <path> <data...>", "change some keys of a secret, keeping the others")
    .option(...MOUNT_OPTION)
    .option("--cas <version>", "patch only if the current version is this one", nonNegativeInteger("cas"))
    .addHelpText("after", `${DATA_HELP}\nExample:\n  coffer kv patch secret/app/db password=new-password\n`)
    .action(
      runAction(async (path: string, pairs: string[], options: KvOptions & { cas?: number }) => {
        const data = await parseKeyValues(pairs);
        const { connection, located, at } = await openKv(path, options);
        requireVersion2(located, "patch");
        const response = await connection
          .request("PATCH", at("data"), {
            body: withCas(data, options.cas),
            contentType: "application/merge-patch+json",
          })
          .catch((error) => {
            throw explainNotFound(error, located);
          });
        await printWritten(response, options, at("data"));
      }),
    );

  clientCommand(kv, "list <path>", "list the keys below a path (folders end with /)")
    .option(...MOUNT_OPTION)
    .addHelpText("after", "\nExample:\n  coffer kv list secret/app\n")
    .action(
      runAction(async (path: string, options: KvOptions) => {
        const { connection, at } = await openKv(path, options, true);
        const where = at("metadata").replace(/\/*$/, "/");
        const response = await connection
          .request("GET", where, { query: { list: "true" } })
          .catch((error) => {
            const empty = error instanceof ApiError && error.status === 404 && error.errors.length === 0;
            throw empty ? new Error(`no entries found at ${where}`) : error;
          });
        if (options.field) return printField(response?.data, options.field);
        await printKeys(((response?.data?.keys ?? []) as unknown[]).map(String), options);
      }),
    );

  clientCommand(kv, "delete <path>", "soft-delete the latest version, or the given versions")
    .option(...MOUNT_OPTION)
    .option("--versions <list>", "versions to delete, e.g. 1,2 (default: the latest)")
    .action(
      runAction(async (path: string, options: KvOptions & { versions?: string }) => {
        const versions = options.versions === undefined ? undefined : parseVersions(options.versions);
        const { connection, located, at } = await openKv(path, options);
        if (versions) requireVersion2(located, "delete --versions");
        if (versions) await connection.request("POST", at("delete"), { body: { versions } });
        else await connection.request("DELETE", at("data"));
        printSuccess(options, `Data deleted (if it existed) at: ${at("data")}`);
      }),
    );

  for (const [kind, description, done] of [
    ["undelete", "restore soft-deleted versions", "Versions restored (if they were deleted) at"],
    ["destroy", "destroy versions for good: their data is gone", "Versions destroyed at"],
  ] as const) {
    clientCommand(kv, `${kind} <path>`, description)
      .option(...MOUNT_OPTION)
      .requiredOption("--versions <list>", `versions to ${kind}, e.g. 1,2`)
      .action(
        runAction(async (path: string, options: KvOptions & { versions: string }) => {
          const versions = parseVersions(options.versions);
          const { connection, located, at } = await openKv(path, options);
          requireVersion2(located, kind);
          await connection.request("POST", at(kind), { body: { versions } });
          printSuccess(options, `${done}: ${at("data")} (versions ${versions.join(", ")})`);
        }),
      );
  }

  registerKvMetadataCommands(kv);
}
