/**
 * The command the agent runs after a render changed a file, e.g. to make the application
 * reload its configuration. It runs without a shell (the configuration gives the argv),
 * with a timeout; its failure is logged and never stops the agent.
 */
import { execFile } from "node:child_process";
import type { Log } from "./log.ts";

/** `name` says which setting the command comes from in the log: on_change, or a template's command. */
export function runHook(
  command: readonly string[],
  timeoutMs: number,
  log: Log,
  name = "on_change",
): Promise<void> {
  const [file, ...args] = command;
  return new Promise((resolve) => {
    execFile(file as string, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (error) => {
      if (!error) log("info", `${name} command succeeded`, { command: file });
      else if (error.killed)
        log("warn", `${name} command timed out`, { command: file, timeout_ms: timeoutMs });
      else
        log("warn", `${name} command failed`, {
          command: file,
          exit_code: typeof error.code === "number" ? error.code : String(error.code),
        });
      resolve();
    });
  });
}
