/**
 * `coffer read|write|list|delete|patch <path>`: any API path, as the vault CLI's commands
 * of the same names send them. write and patch take data (key=value, key=@file, key=-,
 * @file.json, -); read and delete take key=value pairs as query parameters.
 */
import type { Command } from "commander";
import { ApiError, type VaultResponse } from "../client.ts";
import { type ClientOptions, clientCommand } from "./client-command.ts";
import { connect } from "./connection.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import { parseKeyValues, parseQuery, trimPath } from "./input.ts";
import {
  outputFormat,
  printKeys,
  printSecret,
  printStructured,
  printSuccess,
  printWarnings,
} from "./output.ts";

const DATA_HELP =
  "\nData: key=value (a key given twice is a list), key=@file (the file's content), key=- (standard input),\n" +
  "@file.json (a JSON object), - (a JSON object on standard input).\n";

interface WriteOptions extends ClientOptions {
  force?: boolean;
}

/** A 404 without a message: nothing at the path, said as the vault CLI says it. */
function noValue(error: unknown, path: string): unknown {
  return error instanceof ApiError && error.status === 404 && error.errors.length === 0
    ? new Error(`no value found at ${path}`)
    : error;
}

/** write and patch need data, unless -force says the path takes none. */
async function dataOf(pairs: string[], options: WriteOptions): Promise<Record<string, unknown>> {
  if (pairs.length === 0 && !options.force) {
    throw new LocalError("no data given: pass key=value pairs, or -force to send none");
  }
  return parseKeyValues(pairs);
}

/**
 * What a write answered: nothing, or nothing but warnings, is a success line (the warnings
 * on stderr); anything else is shown as a read shows it.
 */
async function printWritten(
  response: VaultResponse | undefined,
  options: ClientOptions,
  message: string,
): Promise<void> {
  const nothing = !response || (!response.data && !response.auth && !response.lease_duration);
  if (!nothing || options.field || outputFormat(options) !== "table") {
    if (response) return printSecret(response, options);
  }
  if (response) printWarnings(response);
  printSuccess(options, message);
}

export function registerLogicalCommands(program: Command): void {
  clientCommand(program, "read <path> [data...]", "read data at a path: secrets, configuration, credentials")
    .addHelpText(
      "after",
      "\nExamples:\n  coffer read secret/data/app/db\n  coffer read -field=access_key aws/creds/deploy\n" +
        "  coffer read transit/keys/orders\n",
    )
    .action(
      runAction(async (pathArgument: string, pairs: string[], options: ClientOptions) => {
        const path = trimPath(pathArgument);
        const query = await parseQuery(pairs);
        const connection = await connect(options);
        const response = await connection.request("GET", path, { query }).catch((error) => {
          // A deleted KV version answers 404 with its metadata: the vault CLI shows it.
          if (error instanceof ApiError && error.status === 404 && error.body) return error.body;
          throw noValue(error, path);
        });
        if (!response) throw new Error(`no value found at ${path}`);
        await printSecret(response, options);
      }),
    );

  clientCommand(program, "write <path> [data...]", "write data to a path: secrets, configuration, actions")
    .option("-f, --force", "write even with no data, for paths that take none")
    .addHelpText(
      "after",
      `${DATA_HELP}\nExamples:\n  coffer write auth/kubernetes/role/app bound_service_account_names=app ` +
        "bound_service_account_namespaces=default token_policies=app\n  coffer write -f transit/keys/orders\n",
    )
    .action(
      runAction(async (pathArgument: string, pairs: string[], options: WriteOptions) => {
        const path = trimPath(pathArgument);
        const data = await dataOf(pairs, options);
        const connection = await connect(options);
        const response = await connection.request("PUT", path, { body: data });
        await printWritten(response, options, `Data written to: ${path}`);
      }),
    );

  clientCommand(program, "patch <path> [data...]", "change some fields at a path, keeping the others")
    .option("-f, --force", "patch even with no data")
    .addHelpText(
      "after",
      `${DATA_HELP}\nExample:\n  echo '{"data": {"password": "n3w"}}' | coffer patch secret/data/app/db -\n`,
    )
    .action(
      runAction(async (pathArgument: string, pairs: string[], options: WriteOptions) => {
        const path = trimPath(pathArgument);
        const data = await dataOf(pairs, options);
        const connection = await connect(options);
        const response = await connection.request("PATCH", path, {
          body: data,
          contentType: "application/merge-patch+json",
        });
        await printWritten(response, options, `Data written to: ${path}`);
      }),
    );

  clientCommand(program, "list <path>", "list the keys below a path (folders end with /)")
    .addHelpText(
      "after",
      "\nExamples:\n  coffer list secret/metadata/app\n  coffer list auth/kubernetes/role\n",
    )
    .action(
      runAction(async (pathArgument: string, options: ClientOptions) => {
        const path = `${trimPath(pathArgument)}/`;
        const connection = await connect(options);
        const response = await connection.request("GET", path, { query: { list: "true" } }).catch((error) => {
          if (error instanceof ApiError && error.status === 404 && error.errors.length === 0)
            return undefined;
          throw error;
        });
        const keys = response?.data?.keys;
        if (!Array.isArray(keys)) {
          // As the vault CLI: an empty object for scripts, and the failure's exit code.
          await printStructured(options, {});
          throw new Error(`no entries found at ${path}`);
        }
        if (options.field) return printSecret(response as VaultResponse, options);
        await printKeys(keys.map(String), options);
      }),
    );

  clientCommand(program, "delete <path> [data...]", "delete what is at a path")
    .addHelpText("after", "\nExample:\n  coffer delete secret/metadata/app/db\n")
    .action(
      runAction(async (pathArgument: string, pairs: string[], options: ClientOptions) => {
        const path = trimPath(pathArgument);
        const query = await parseQuery(pairs);
        const connection = await connect(options);
        const response = await connection.request("DELETE", path, { query });
        await printWritten(response, options, `Data deleted (if it existed) at: ${path}`);
      }),
    );
}
