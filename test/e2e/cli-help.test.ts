/**
 * Every command explains itself: `--help` works on each one and exits 0, every client
 * command takes --address and the output options, and the operator commands run on a
 * fresh data directory.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerAgentCommand } from "../../cli/commands/agent.ts";
import { registerCredsCommands } from "../../cli/commands/creds.ts";
import { registerKvCommands } from "../../cli/commands/kv.ts";
import { registerLeaseCommands } from "../../cli/commands/lease.ts";
import { registerLogicalCommands } from "../../cli/commands/logical.ts";
import { registerLoginCommands } from "../../cli/commands/login.ts";
import { registerMountCommands } from "../../cli/commands/mounts.ts";
import { registerPolicyCommands } from "../../cli/commands/policy.ts";
import { registerStatusCommand } from "../../cli/commands/status.ts";
import { registerTokenCommands } from "../../cli/commands/token.ts";
import { registerTransitCommands } from "../../cli/commands/transit.ts";
import { runCli } from "./cli-harness.ts";

/** The client commands as registered, without running the program. */
function clientCommands(): Command[] {
  const program = new Command("coffer");
  for (const register of [
    registerStatusCommand,
    registerLoginCommands,
    registerLogicalCommands,
    registerKvCommands,
    registerMountCommands,
    registerCredsCommands,
    registerLeaseCommands,
    registerTransitCommands,
    registerPolicyCommands,
    registerTokenCommands,
    registerAgentCommand,
  ]) {
    register(program);
  }
  const leaves: Command[] = [];
  const walk = (command: Command) => {
    if (command.commands.length === 0) leaves.push(command);
    command.commands.forEach(walk);
  };
  walk(program);
  return leaves;
}

const pathOf = (command: Command): string =>
  command.parent?.parent ? `${pathOf(command.parent)} ${command.name()}` : command.name();

describe("coffer --help and the operator commands", () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "coffer-cli-help-"));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("registers every command of the issue, each with a description and its help", () => {
    const paths = clientCommands().map(pathOf).sort();
    expect(paths).toEqual(
      [
        "agent probe",
        "auth disable",
        "auth enable",
        "auth list",
        "auth tune",
        "aws creds",
        "database creds",
        "delete",
        "kv delete",
        "kv destroy",
        "kv get",
        "kv list",
        "kv metadata delete",
        "kv metadata get",
        "kv metadata put",
        "kv patch",
        "kv put",
        "kv undelete",
        "lease lookup",
        "lease renew",
        "lease revoke",
        "lease revoke-prefix",
        "list",
        "login kubernetes",
        "login token",
        "patch",
        "policy delete",
        "policy fmt",
        "policy list",
        "policy read",
        "policy write",
        "read",
        "secrets disable",
        "secrets enable",
        "secrets list",
        "secrets tune",
        "status",
        "token capabilities",
        "token create",
        "token lookup",
        "token renew",
        "token revoke",
        "transit decrypt",
        "transit encrypt",
        "write",
      ].sort(),
    );
    for (const command of clientCommands()) {
      const help = command.helpInformation();
      expect(command.description(), pathOf(command)).not.toBe("");
      expect(help, pathOf(command)).toContain("--help");
      // The agent and policy fmt act locally: they take no server address.
      if (!pathOf(command).startsWith("agent") && command.name() !== "fmt") {
        for (const option of ["--address <url>", "--format <format>", "--json", "--field <name>"]) {
          expect(help, `${pathOf(command)} ${option}`).toContain(option);
        }
      }
    }
  });

  it("prints help with 0, for the program, a group and a command", async () => {
    const [program, group, command, agent] = await Promise.all([
      runCli(["--help"], { env: { HOME: home } }),
      runCli(["kv", "--help"], { env: { HOME: home } }),
      runCli(["kv", "get", "--help"], { env: { HOME: home } }),
      runCli(["agent", "--help"], { env: { HOME: home } }),
    ]);
    for (const result of [program, group, command, agent]) expect(result.code, result.stderr).toBe(0);
    expect(program.stdout).toMatch(/^\s+kv\s+read and write secrets/m);
    expect(group.stdout).toContain("metadata");
    expect(command.stdout).toContain("coffer kv get -field=password secret/app/db");
    expect(agent.stdout).toContain("Exit codes: 0 done (--once) or stopped by SIGTERM");
  });

  it("operator init creates a root token once, and operator sweep runs on the same store", async () => {
    const dataDir = join(home, "data");
    const init = await runCli(["operator", "init", "--data-dir", dataDir], { env: { HOME: home } });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Root token: cof\.\S+$/m);
    const again = await runCli(["operator", "init", "--data-dir", dataDir], { env: { HOME: home } });
    const sweep = await runCli(["operator", "sweep", "--data-dir", dataDir], { env: { HOME: home } });
    expect(again.code).not.toBe(0);
    expect(again.stdout).not.toMatch(/Root token/);
    expect(sweep.code, sweep.stderr).toBe(0);
  });
});
