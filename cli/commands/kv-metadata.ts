/**
 * `coffer kv metadata get|put|delete`: a secret's settings and version history, and the
 * removal of a secret with every version.
 */
import type { Command } from "commander";
import { type ClientOptions, clientCommand, commandGroup } from "./client-command.ts";
import { LocalError, runAction } from "./exit-codes.ts";
import { booleanArgument, keyValueArgument, nonNegativeInteger } from "./input.ts";
import { explainNotFound, MOUNT_OPTION, openKv, requireVersion2 } from "./kv-path.ts";
import { heading, printField, printStructured, printSuccess, rowsOf, table } from "./output.ts";

interface MetadataOptions extends ClientOptions {
  mount?: string;
}

interface MetadataPutOptions extends MetadataOptions {
  maxVersions?: number;
  casRequired?: boolean;
  deleteVersionAfter?: string;
  customMetadata?: Record<string, string>;
}

export function registerKvMetadataCommands(kv: Command): void {
  const metadata = commandGroup(kv, "metadata", "a secret's settings and versions, and deleting it entirely");

  clientCommand(metadata, "get <path>", "show a secret's settings and the state of each version")
    .option(...MOUNT_OPTION)
    .action(
      runAction(async (path: string, options: MetadataOptions) => {
        const { connection, located, at } = await openKv(path, options);
        requireVersion2(located, "metadata get");
        const response = await connection.request("GET", at("metadata")).catch((error) => {
          throw explainNotFound(error, located, "metadata");
        });
        if (options.field) return printField(response?.data, options.field);
        if (await printStructured(options, response)) return;
        const { versions, ...settings } = (response?.data ?? {}) as Record<string, unknown>;
        let text = `${heading("Metadata Path")}${at("metadata")}\n\n${heading("Metadata")}${table(rowsOf(settings))}`;
        const byVersion = Object.entries((versions ?? {}) as Record<string, Record<string, unknown>>).sort(
          ([a], [b]) => Number(a) - Number(b),
        );
        for (const [version, state] of byVersion)
          text += `\n${heading(`Version ${version}`)}${table(rowsOf(state))}`;
        process.stdout.write(text);
      }),
    );

  clientCommand(metadata, "put <path>", "change a secret's settings (creates the metadata if needed)")
    .option(...MOUNT_OPTION)
    .option(
      "--max-versions <n>",
      "versions to keep (0: the mount's setting)",
      nonNegativeInteger("max-versions"),
    )
    .option("--cas-required <bool>", "require --cas on every write", booleanArgument)
    .option(
      "--delete-version-after <duration>",
      'delete each version this long after it is written, e.g. "720h"',
    )
    .option(
      "--custom-metadata <key=value>",
      "custom metadata (repeatable); replaces the existing set",
      keyValueArgument,
    )
    .addHelpText(
      "after",
      "\nExample:\n  coffer kv metadata put --max-versions 5 --custom-metadata owner=team-a secret/app/db\n",
    )
    .action(
      runAction(async (path: string, options: MetadataPutOptions) => {
        const body: Record<string, unknown> = {};
        if (options.maxVersions !== undefined) body.max_versions = options.maxVersions;
        if (options.casRequired !== undefined) body.cas_required = options.casRequired;
        if (options.deleteVersionAfter !== undefined) body.delete_version_after = options.deleteVersionAfter;
        if (options.customMetadata) body.custom_metadata = options.customMetadata;
        if (Object.keys(body).length === 0) {
          throw new LocalError(
            "nothing to change: pass --max-versions, --cas-required, --delete-version-after or --custom-metadata",
          );
        }
        const { connection, located, at } = await openKv(path, options);
        requireVersion2(located, "metadata put");
        await connection.request("POST", at("metadata"), { body });
        printSuccess(options, `Metadata written to: ${at("metadata")}`);
      }),
    );

  clientCommand(metadata, "delete <path>", "delete a secret: its metadata and every version, for good")
    .option(...MOUNT_OPTION)
    .action(
      runAction(async (path: string, options: MetadataOptions) => {
        const { connection, located, at } = await openKv(path, options);
        requireVersion2(located, "metadata delete");
        await connection.request("DELETE", at("metadata"));
        printSuccess(options, `Data and metadata deleted (if they existed) at: ${at("metadata")}`);
      }),
    );
}
