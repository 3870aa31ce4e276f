/**
 * `coffer operator ...`: commands that act on the store and key directly, not through the
 * HTTP API (init, generate-root, sweep, export, import, migrate). Each picks its store with
 * --store: a local data directory (sqlite) or the deployment's table and KMS key
 * (dynamodb, from COFFER_TABLE and COFFER_KMS_KEY_ID). Their code, and the AWS SDK or
 * SQLite, load only when one of them runs.
 */
import type { Command } from "commander";
import type { Broker } from "../../shared/broker.ts";
import { EXIT_REMOTE, LocalError } from "./exit-codes.ts";
import type { ExportOptions, ImportOptions } from "./operator-archive.ts";

/** A sweep from the command line stops starting revocations after this long. */
const CLI_SWEEP_BUDGET_MS = 5 * 60_000;

export interface OperatorStoreOptions {
  store: string;
  dataDir: string;
  auditLog?: string;
}

/**
 * The broker an operator command acts on. Its audit records go to --audit-log when given;
 * otherwise to the data directory's audit.log (sqlite) or the error stream (dynamodb), never
 * to the output, which may be a token or an archive.
 */
export async function openOperatorBroker(options: OperatorStoreOptions): Promise<Broker> {
  if (options.store === "sqlite") {
    const { createLocalBroker } = await import("../local-broker.ts");
    return createLocalBroker({
      dataDir: options.dataDir,
      ...(options.auditLog && { auditLog: options.auditLog }),
    });
  }
  if (options.store === "dynamodb") {
    const { awsConfigFromEnv, createAwsBroker } = await import("../../functions/aws-broker.ts");
    const { fileAuditWriter } = await import("../local-broker.ts");
    const writer = options.auditLog
      ? fileAuditWriter(options.auditLog)
      : (line: string) => void process.stderr.write(`${line}\n`);
    return createAwsBroker({ ...awsConfigFromEnv(), auditWriters: [writer] });
  }
  throw new LocalError(`unknown store "${options.store}": use sqlite or dynamodb`);
}

/** Runs `action` on the operator's broker and closes its store afterwards. */
export async function withOperatorBroker<T>(
  options: OperatorStoreOptions,
  action: (broker: Broker) => Promise<T>,
): Promise<T> {
  const broker = await openOperatorBroker(options);
  try {
    return await action(broker);
  } finally {
    await broker.store.close();
  }
}

const ROOT_TOKEN_ADVICE = [
  "Use it to set up an admin policy and token (docs/deploy.md), then revoke it:",
  "`coffer token revoke -self`.",
];

/** Where a root token goes: a 0600 file when asked, else the terminal, once. */
async function handOver(
  outputFile: string | undefined,
  mint: () => Promise<{ rootToken: string; accessor: string }>,
): Promise<void> {
  const { createSecretOutputFile } = await import("./secret-output-file.ts");
  // Created first: a path that cannot be written must fail before the token exists.
  const file = outputFile === undefined ? undefined : createSecretOutputFile(outputFile);
  let minted: { rootToken: string; accessor: string };
  try {
    minted = await mint();
  } catch (error) {
    file?.discard();
    throw error;
  }
  if (file) {
    file.write(`${JSON.stringify({ root_token: minted.rootToken, root_token_accessor: minted.accessor })}\n`);
    process.stdout.write(
      [
        `Root token written to ${file.path} (mode 0600).`,
        `Accessor:   ${minted.accessor}`,
        "",
        ...ROOT_TOKEN_ADVICE,
        "",
      ].join("\n"),
    );
    return;
  }
  process.stdout.write(
    [
      `Root token: ${minted.rootToken}`,
      `Accessor:   ${minted.accessor}`,
      "",
      "This is the only time the root token is shown. Store it safely.",
      ...ROOT_TOKEN_ADVICE,
      "",
    ].join("\n"),
  );
}

export function registerOperatorCommands(program: Command): Command {
  const operator = program
    .command("operator")
    .description("operator commands that act on the store directly");

  /** An operator subcommand with the options that pick the store it acts on. */
  const operatorCommand = (name: string, description: string) =>
    operator
      .command(name)
      .description(description)
      .option(
        "--store <kind>",
        "sqlite (local data directory) or dynamodb (COFFER_TABLE, COFFER_KMS_KEY_ID)",
        "sqlite",
      )
      .option("--data-dir <dir>", "data directory of a sqlite store", ".coffer")
      .option(
        "--audit-log <file>",
        "append the command's audit records here (default: the data directory's audit.log for sqlite, the error stream for dynamodb)",
      );

  operatorCommand(
    "init",
    "create the first root token, once; it is shown here (or written to a file) and never again",
  )
    .option(
      "--output-file <file>",
      "write the root token to this new file (mode 0600) instead of the terminal",
    )
    .action(async (options: OperatorStoreOptions & { outputFile?: string }) => {
      await withOperatorBroker(options, async (broker) => {
        const { initialize } = await import("../../shared/sys/init.ts");
        const { registerRootToken } = await import("../../shared/operator/root-tokens.ts");
        await handOver(options.outputFile, async () => {
          const minted = await initialize(broker);
          // Registered so generate-root knows of it. Failing here must not lose the token.
          await registerRootToken(broker, minted.accessor, "init").catch((error: unknown) => {
            process.stderr.write(
              `Warning: the root token was created but not registered (${(error as Error).message}); generate-root will not see it\n`,
            );
          });
          return minted;
        });
      });
    });

  operatorCommand(
    "generate-root",
    "mint a new root token with the store and root key (when the root token is lost); refused while another is valid",
  )
    .option("--force", "make one even though another root token is still valid", false)
    .option(
      "--output-file <file>",
      "write the root token to this new file (mode 0600) instead of the terminal",
    )
    .action(async (options: OperatorStoreOptions & { force: boolean; outputFile?: string }) => {
      await withOperatorBroker(options, async (broker) => {
        const { generateRoot } = await import("../../shared/operator/root-tokens.ts");
        await handOver(options.outputFile, async () => {
          const generated = await generateRoot(broker, { force: options.force });
          for (const other of generated.othersValid) {
            process.stderr.write(
              `Warning: root token ${other.accessor} (${other.createdBy}, ${other.createdAt}) is still valid: revoke it with \`coffer token revoke -accessor ${other.accessor}\`\n`,
            );
          }
          return generated;
        });
      });
    });

  operatorCommand(
    "sweep",
    "revoke the leases that are due, once, as the revoker function does every minute",
  ).action(async (options: OperatorStoreOptions) => {
    await withOperatorBroker(options, async (broker) => {
      // One budget for both: the periodic work gets what the sweep left of it.
      const deadline = broker.now() + CLI_SWEEP_BUDGET_MS;
      const report = await broker.leases.sweep({ budgetMs: CLI_SWEEP_BUDGET_MS });
      const { runPeriodicWork } = await import("../../shared/mounts/periodic.ts");
      const periodic = await runPeriodicWork(broker, { deadline });
      process.stdout.write(`${JSON.stringify({ ...report, periodic }, null, 2)}\n`);
      // Failures stay queued for the next sweep; the exit code lets scripts notice them.
      const periodicFailed = !periodic.complete || periodic.failed > 0;
      if (report.failed > 0 || !report.complete || periodicFailed) process.exitCode = EXIT_REMOTE;
    });
  });

  const passphraseHelp =
    "a file whose first line is the archive's passphrase (default: COFFER_ARCHIVE_PASSPHRASE)";

  operatorCommand(
    "export",
    "write an encrypted archive of the whole deployment: mounts, secrets with every version, policies, auth, keys",
  )
    .requiredOption("--output-file <file>", "the archive, a new file of mode 0600")
    .option("--kms-key <arn>", "seal the archive to this KMS key instead of a passphrase")
    .option("--passphrase-file <file>", passphraseHelp)
    .option("--include-tokens", "also carry the tokens (a restore that keeps clients logged in)", false)
    .option("--include-leases", "also carry the leases, so the new deployment revokes them", false)
    .action(async (options: ExportOptions) => {
      const { runExport } = await import("./operator-archive.ts");
      await runExport(options);
    });

  operatorCommand(
    "import",
    "restore an archive into an empty deployment; run it again after a failure to continue where it stopped",
  )
    .requiredOption("--input-file <file>", "the archive")
    .option("--passphrase-file <file>", passphraseHelp)
    .action(async (options: ImportOptions) => {
      const { runImport } = await import("./operator-archive.ts");
      await runImport(options);
    });

  operator
    .command("migrate")
    .description(
      "copy KV secrets (every version, metadata), ACL policies and Kubernetes auth from a running Vault into Coffer",
    )
    .requiredOption("--from-vault <address>", "the Vault to read, e.g. https://vault.example.com:8200")
    .option(
      "--source-token-file <file>",
      "a file holding the Vault token to read with (default: VAULT_SOURCE_TOKEN); it needs read and list",
    )
    .option("--address <address>", "the Coffer server to write to (default: COFFER_ADDR, then VAULT_ADDR)")
    .action(async (options: { fromVault: string; sourceTokenFile?: string; address?: string }) => {
      const { runMigration } = await import("./operator-migrate.ts");
      await runMigration(options);
    });

  return operator;
}
