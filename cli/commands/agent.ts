/**
 * `coffer agent --config agent.yaml [--once]`: the in-pod agent (cli/agent/), as an init
 * container or Job step (--once) or as a sidecar.
 */
import type { Command } from "commander";
import { EXIT_USAGE, exitWithUsageCode } from "./exit-codes.ts";

export function registerAgentCommand(program: Command): void {
  exitWithUsageCode(program.command("agent"))
    .description("log in with the pod's service account token and keep secrets rendered to files")
    .requiredOption("--config <file>", "the agent configuration (YAML)")
    .option("--once", "render every secret once and exit (init containers, Jobs)")
    .addHelpText(
      "after",
      "\nExit codes: 0 done (--once) or stopped by SIGTERM; 1 gave up (--once); 2 invalid configuration.\n" +
        "The configuration is described in docs/kubernetes.md.\n",
    )
    .action(async (options: { config: string; once?: boolean }) => {
      // Loaded here, so the other commands do not pay for the agent's YAML parser.
      const [{ runAgent }, { ConfigError, loadAgentConfig }, { jsonLog }] = await Promise.all([
        import("../agent/agent.ts"),
        import("../agent/config.ts"),
        import("../agent/log.ts"),
      ]);
      const log = jsonLog();
      let config: Awaited<ReturnType<typeof loadAgentConfig>>;
      try {
        config = await loadAgentConfig(options.config);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`Error: ${error.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const stop = new AbortController();
      const onSignal = (signal: string) => {
        log("info", "signal received", { signal });
        stop.abort();
      };
      process.once("SIGTERM", () => onSignal("SIGTERM"));
      process.once("SIGINT", () => onSignal("SIGINT"));
      process.exitCode = await runAgent(config, { once: Boolean(options.once), log, signal: stop.signal });
    });
}
