/**
 * `coffer operator export` and `import`: the archive (shared/operator/) between a file and
 * a deployment, audited as sys/storage/export and sys/storage/import. The passphrase is
 * never an argument (a command line is visible to every user of the machine): it comes
 * from a file or COFFER_ARCHIVE_PASSPHRASE.
 */
import { readFileSync } from "node:fs";
import { readArchive, type Sealing } from "../../shared/operator/archive-format.ts";
import { exportArchive } from "../../shared/operator/export-archive.ts";
import { importArchive } from "../../shared/operator/import-archive.ts";
import { audited } from "../../shared/operator/operator-audit.ts";
import { isInitialized } from "../../shared/sys/init.ts";
import { LocalError } from "./exit-codes.ts";
import type { OperatorStoreOptions } from "./operator.ts";
import { openOperatorDeployment } from "./operator-deployment.ts";
import { createSecretOutputFile } from "./secret-output-file.ts";

function passphrase(file: string | undefined): string | undefined {
  if (file !== undefined) {
    try {
      return readFileSync(file, "utf8").split(/\r?\n/)[0];
    } catch (error) {
      throw new LocalError(`cannot read the passphrase file ${file}: ${(error as Error).message}`);
    }
  }
  return process.env.COFFER_ARCHIVE_PASSPHRASE || undefined;
}

export type ExportOptions = OperatorStoreOptions & {
  outputFile: string;
  kmsKey?: string;
  passphraseFile?: string;
  includeTokens: boolean;
  includeLeases: boolean;
};

export type ImportOptions = OperatorStoreOptions & { inputFile: string; passphraseFile?: string };

export async function runExport(options: ExportOptions): Promise<void> {
  const secret = passphrase(options.passphraseFile);
  if ((options.kmsKey === undefined) === (secret === undefined)) {
    throw new LocalError(
      "seal the archive to one thing: --kms-key, or a passphrase (--passphrase-file or COFFER_ARCHIVE_PASSPHRASE)",
    );
  }
  const file = createSecretOutputFile(options.outputFile);
  const deployment = await openOperatorDeployment(options).catch((error: unknown) => {
    file.discard();
    throw error;
  });
  try {
    const sealing: Sealing =
      options.kmsKey === undefined
        ? { kind: "passphrase", passphrase: secret! }
        : { kind: "kms", keyId: options.kmsKey, provider: deployment.kmsProvider(options.kmsKey) };
    const contents = { tokens: options.includeTokens, leases: options.includeLeases };
    const result = await audited(
      deployment.broker,
      {
        path: "sys/storage/export",
        operation: "update",
        requestData: { include_tokens: contents.tokens, include_leases: contents.leases },
      },
      async () => {
        if (!(await isInitialized(deployment.broker))) {
          throw new LocalError("the deployment is not initialized: there is nothing to export");
        }
        const exported = await exportArchive({
          store: deployment.store,
          keyProvider: deployment.keyProvider,
          contents,
          sealing,
          onRejectedItem: (item) =>
            process.stderr.write(
              `Warning: left out ${item.pk} ${item.sk}: it does not verify (${item.reason})\n`,
            ),
        });
        return { ...exported, responseData: { items: exported.items, rejected: exported.rejected } };
      },
    );
    file.write(result.archive);
    process.stdout.write(
      `Exported ${result.items} items and ${result.keyringVersions} keyring versions to ${options.outputFile} (archive ${result.archiveId}, sealed to ${sealing.kind === "kms" ? options.kmsKey : "a passphrase"}).\n`,
    );
    if (result.rejected > 0)
      process.stderr.write(`${result.rejected} items did not verify and were left out.\n`);
  } catch (error) {
    file.discard();
    throw error;
  } finally {
    await deployment.close();
  }
}

export async function runImport(options: ImportOptions): Promise<void> {
  let archive: Uint8Array;
  try {
    archive = new Uint8Array(readFileSync(options.inputFile));
  } catch (error) {
    throw new LocalError(`cannot read ${options.inputFile}: ${(error as Error).message}`);
  }
  const deployment = await openOperatorDeployment(options);
  try {
    const { header, records } = await readArchive(archive, {
      passphrase: passphrase(options.passphraseFile),
      kmsProvider: (keyId) => deployment.kmsProvider(keyId),
    });
    const result = await audited(
      deployment.broker,
      // Numbers and booleans only: the target's audit key may not exist yet.
      { path: "sys/storage/import", operation: "update", requestData: { format: header.format } },
      async () => {
        const imported = await importArchive({
          store: deployment.store,
          keyProvider: deployment.keyProvider,
          keyWrapper: deployment.keyWrapper,
          header,
          records,
        });
        return { ...imported, responseData: { items: imported.items, resumed_at: imported.resumedAt } };
      },
    );
    if (result.alreadyDone) {
      process.stdout.write(`Archive ${result.archiveId} was already imported here: nothing to do.\n`);
      return;
    }
    const resumed =
      result.resumedAt > 0 ? `, continuing after the ${result.resumedAt} an earlier run wrote` : "";
    process.stdout.write(`Imported ${result.items} items from archive ${result.archiveId}${resumed}.\n`);
    if (!header.contents.tokens) {
      process.stdout.write(
        "The archive holds no tokens: make a root token with `coffer operator generate-root`.\n",
      );
    }
  } finally {
    await deployment.close();
  }
}
