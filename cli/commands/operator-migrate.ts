/**
 * `coffer operator migrate --from-vault ADDR`: the source token from a file or
 * VAULT_SOURCE_TOKEN (never an argument), the target as every client command finds its
 * server and token. Prints what was copied, what was not and why; exits 2 when something
 * that should have been copied failed (run it again: it continues).
 */
import { readFileSync } from "node:fs";
import { createClient } from "../client.ts";
import { migrateFromVault } from "../migrate/vault-migration.ts";
import { connect } from "./connection.ts";
import { EXIT_REMOTE, LocalError } from "./exit-codes.ts";

export async function runMigration(options: {
  fromVault: string;
  sourceTokenFile?: string;
  address?: string;
}): Promise<void> {
  let sourceToken: string | undefined;
  if (options.sourceTokenFile !== undefined) {
    try {
      sourceToken = readFileSync(options.sourceTokenFile, "utf8").trim();
    } catch (error) {
      throw new LocalError(`cannot read ${options.sourceTokenFile}: ${(error as Error).message}`);
    }
  } else {
    sourceToken = process.env.VAULT_SOURCE_TOKEN?.trim();
  }
  if (!sourceToken) {
    throw new LocalError("give the source Vault's token: --source-token-file, or VAULT_SOURCE_TOKEN");
  }
  let sourceAddress: URL;
  try {
    sourceAddress = new URL(options.fromVault);
  } catch {
    throw new LocalError(`--from-vault: "${options.fromVault}" is not an address (https://host:port)`);
  }
  const source = createClient({ address: sourceAddress.toString(), token: sourceToken });
  const target = await connect({ address: options.address });
  const report = await migrateFromVault(source, target.client, (line) => process.stderr.write(`${line}\n`));

  const lines = [
    ...report.copied.map((what) => `copied      ${what}`),
    ...report.notCopied.map(({ what, why }) => `not copied  ${what}: ${why}`),
    ...report.failed.map(({ what, why }) => `FAILED      ${what}: ${why}`),
    "",
    `${report.copied.length} copied, ${report.notCopied.length} not copied, ${report.failed.length} failed.`,
    "Creation times are the migration's own; every version keeps its number.",
    "",
  ];
  process.stdout.write(lines.join("\n"));
  if (report.failed.length > 0) process.exitCode = EXIT_REMOTE;
}
