/**
 * `coffer agent --config FILE [--once] [--status-file F]`: the in-pod agent (cli/agent/),
 * as an init container or Job step (--once), as a sidecar, or running the application
 * (exec mode). FILE is Coffer's agent.yaml or a Vault Agent configuration (.hcl, .json).
 *
 * `coffer agent probe --status-file F [--ready]`: a liveness or readiness probe that
 * reads the status file the agent keeps, so it needs nothing else in the image.
 */
import type { Command } from "commander";
import { EXIT_LOCAL, exitWithUsageCode } from "./exit-codes.ts";

/** The probe's exit codes, as Kubernetes reads them: 0 healthy, 1 not. */
const PROBE_FAILED = 1;

export function registerAgentCommand(program: Command): void {
  const agent = exitWithUsageCode(program.command("agent"))
    .description("log in with the pod's service account token and keep secrets rendered to files")
    .option("--config <file>", "the agent configuration: agent.yaml, or Vault Agent's .hcl or .json")
    .option("--once", "render every secret once and exit (init containers, Jobs)")
    .option("--status-file <file>", "keep a status file there, for `coffer agent probe`")
    .addHelpText(
      "after",
      "\nSIGHUP re-reads the configuration; SIGTERM stops the agent.\n" +
        "Exit codes: 0 done (--once) or stopped by SIGTERM; 1 invalid configuration; 2 gave up;\n" +
        "in exec mode, the program's own exit code when it exits by itself.\n" +
        "The configuration is described in docs/kubernetes.md, the template languages in docs/cli.md.\n",
    )
    .action(async (options: { config?: string; once?: boolean; statusFile?: string }) => {
      if (!options.config)
        agent.error("error: required option '--config <file>' not specified", { exitCode: EXIT_LOCAL });
      const file = options.config as string;
      // Loaded here, so the other commands do not pay for the agent's parsers.
      const [{ runAgent }, { ConfigError, loadAgentConfig }, { jsonLog }] = await Promise.all([
        import("../agent/agent.ts"),
        import("../agent/config.ts"),
        import("../agent/log.ts"),
      ]);
      const log = jsonLog();
      let loaded: Awaited<ReturnType<typeof loadAgentConfig>>;
      try {
        loaded = await loadAgentConfig(file);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`Error: ${error.message}\n`);
        process.exitCode = EXIT_LOCAL;
        return;
      }
      if (options.once && loaded.config.exec) {
        process.stderr.write(
          `Error: invalid agent configuration ${file}:\n  - --once cannot be combined with exec: the agent must stay to supervise the program\n`,
        );
        process.exitCode = EXIT_LOCAL;
        return;
      }
      for (const warning of loaded.warnings) log("warn", warning);
      const stop = new AbortController();
      const onSignal = (signal: string) => {
        log("info", "signal received", { signal });
        stop.abort();
      };
      process.once("SIGTERM", () => onSignal("SIGTERM"));
      process.once("SIGINT", () => onSignal("SIGINT"));
      // SIGHUP reloads instead of ending the process (Node's default), so `kill -HUP 1`
      // from an on_change command in the agent's own container is harmless.
      const reloads = new EventTarget();
      process.on("SIGHUP", () => {
        log("info", "signal received", { signal: "SIGHUP" });
        reloads.dispatchEvent(new Event("reload"));
      });
      process.exitCode = await runAgent(loaded.config, {
        once: Boolean(options.once),
        log,
        signal: stop.signal,
        statusFile: options.statusFile,
        reload: { requests: reloads, load: () => loadAgentConfig(file) },
      });
      // Exec mode's child is gone and nothing else must keep the agent alive.
      process.removeAllListeners("SIGHUP");
    });

  exitWithUsageCode(agent.command("probe"))
    .description("exit 0 when the agent is alive (and with --ready, has rendered every file), else 1")
    .requiredOption("--status-file <file>", "the agent's --status-file")
    .option("--ready", "also require the first render to be complete (readiness)")
    .option("--max-age <duration>", "how old the agent's heartbeat may be", "30s")
    .action(async (options: { statusFile: string; ready?: boolean; maxAge: string }) => {
      const [{ parseConfigDuration }, { probeStatus }] = await Promise.all([
        import("../agent/config.ts"),
        import("../agent/status-file.ts"),
      ]);
      const maxAgeMs = parseConfigDuration(options.maxAge);
      if (maxAgeMs === undefined || maxAgeMs <= 0) {
        process.stderr.write(`Error: --max-age "${options.maxAge}" is not a duration such as 30s\n`);
        process.exitCode = EXIT_LOCAL;
        return;
      }
      const failure = await probeStatus(options.statusFile, {
        ready: Boolean(options.ready),
        maxAgeMs,
        now: Date.now(),
      });
      if (failure) {
        process.stderr.write(`${failure}\n`);
        process.exitCode = PROBE_FAILED;
      }
    });
}
