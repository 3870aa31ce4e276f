/**
 * The `coffer` command.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { VERSION } from "../shared/version.ts";
import { registerAgentCommand } from "./commands/agent.ts";
import { registerCredsCommands } from "./commands/creds.ts";
import { EXIT_LOCAL, exitWithUsageCode, LocalError, reportError } from "./commands/exit-codes.ts";
import { registerInjectorCommand } from "./commands/injector.ts";
import { registerKvCommands } from "./commands/kv.ts";
import { registerLeaseCommands } from "./commands/lease.ts";
import { registerLogicalCommands } from "./commands/logical.ts";
import { registerLoginCommands } from "./commands/login.ts";
import { registerMountCommands } from "./commands/mounts.ts";
import { registerOperatorCommands } from "./commands/operator.ts";
import { registerPolicyCommands } from "./commands/policy.ts";
import { registerStatusCommand } from "./commands/status.ts";
import { registerTokenCommands } from "./commands/token.ts";
import { registerTransitCommands } from "./commands/transit.ts";
import { acceptVaultStyleFlags } from "./commands/vault-flags.ts";
import { devServerAddress, requestDevToken } from "./dev-token.ts";

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) {
    throw new InvalidArgumentError("expected a port number from 0 to 65535");
  }
  return number;
}

// Set before any command is added: every command inherits it, so a usage error exits 1.
const program = exitWithUsageCode(new Command())
  .name("coffer")
  .description("Coffer: a serverless secrets broker that speaks the Vault HTTP API")
  .version(VERSION)
  // Program options only before a command: `kv get --version 2` is the command's own.
  .enablePositionalOptions();

const dev = program
  .command("dev")
  .description("run the whole broker locally on embedded defaults (SQLite and a local root key)")
  .option("--port <port>", "port to listen on", port, 8200)
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--data-dir <dir>", "where the database, root key and audit log live", ".coffer")
  .option("--in-memory", "keep nothing on disk", false)
  .option("--root-token <token>", "use this value as the root token")
  .option("--audit-log <file>", "audit log file (default: <data-dir>/audit.log)")
  .option("--audit-hash-non-strings", "hash numbers and booleans in audit records too", false)
  .action(async (options) => {
    const { banner, startDevServer } = await import("./dev.ts");
    const devOptions = { ...options, inMemory: Boolean(options.inMemory) };
    // A server that cannot start here (the port is taken, a key file unreadable) is a
    // local error.
    const server = await startDevServer(devOptions).catch((error: unknown) => {
      throw new LocalError(error instanceof Error ? error.message : String(error));
    });
    // Listening for good (not once): with no listener left, a signal that comes while the
    // server closes would kill the process with the default action, mid-close.
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping\n`);
      await server.close();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
    // Only now: whoever reads the banner may signal at once, and must find the handlers.
    process.stdout.write(banner(server, devOptions));
  });

dev
  .command("token")
  .description(
    "print a projected service account token from the running dev server's issuer (COFFER_ADDR or VAULT_ADDR)",
  )
  .requiredOption("--namespace <namespace>", "the pod's namespace")
  .requiredOption("--service-account <name>", "the pod's service account")
  .option("--audience <audience>", "the token's audience (default: the issuer, as Kubernetes does)")
  .option("--ttl <duration>", 'lifetime, such as "10m" or 600 (default 1h)')
  .action(async (options: { namespace: string; serviceAccount: string; audience?: string; ttl?: string }) => {
    const rootToken = process.env.COFFER_TOKEN || process.env.VAULT_TOKEN || undefined;
    process.stdout.write(`${await requestDevToken(devServerAddress(), options, rootToken)}\n`);
  });

registerOperatorCommands(program);
registerStatusCommand(program);
registerLoginCommands(program);
registerLogicalCommands(program);
registerKvCommands(program);
registerMountCommands(program);
registerPolicyCommands(program);
registerTokenCommands(program);
registerLeaseCommands(program);
registerCredsCommands(program);
registerTransitCommands(program);
registerAgentCommand(program);
registerInjectorCommand(program);

try {
  await program.parseAsync(acceptVaultStyleFlags(process.argv));
} catch (error) {
  // Commander's own usage errors exit through exitWithUsageCode; what reaches here is an
  // action's failure: a usage error found while running (1), or a remote failure (2).
  if (error instanceof CommanderError) {
    process.stderr.write(`Error: ${error.message}\n`);
    process.exitCode = EXIT_LOCAL;
  } else {
    process.exitCode = reportError(error);
  }
}
