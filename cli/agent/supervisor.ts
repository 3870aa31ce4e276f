/**
 * Exec mode's child: the application, started by the agent with its secrets in its
 * environment, as Vault Agent's process supervisor does. The agent passes its standard
 * streams on, restarts the program (stop signal, then SIGKILL after the stop timeout)
 * when a secret in its environment changes, and when the program exits by itself, the
 * agent ends with its exit code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { ExecConfig } from "./config.ts";
import type { Log } from "./log.ts";

export interface Supervisor {
  /** Starts the program, or restarts it when it runs, with this environment. */
  start(env: Record<string, string>): Promise<void>;
  /** Stops the program (with the stop signal, or the one given); resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** The program's command changed (a reload): the next start uses it. */
  update(exec: ExecConfig): void;
  readonly running: boolean;
}

/** The exit code a shell would report: the code, or 128 + the signal's number. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return 128 + (signal ? (numbers[signal] ?? 0) : 0);
}

export function createSupervisor(
  initial: ExecConfig,
  log: Log,
  /** The program exited without being asked to; its exit code. */
  onExit: (code: number) => void,
): Supervisor {
  let exec = initial;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  /** The child the agent asked to stop: its exit is expected, not the application's own. */
  let stopping: ChildProcess | undefined;

  function launch(env: Record<string, string>): void {
    const [file, ...args] = exec.command as [string, ...string[]];
    const started = spawn(file, args, { env: { ...process.env, ...env }, stdio: "inherit" });
    child = started;
    exited = new Promise((resolve) => {
      started.once("error", (error) => {
        log("error", "the program could not be started", { command: file, error: error.message });
        if (child === started) child = undefined;
        resolve();
        if (stopping !== started) onExit(127);
      });
      started.once("exit", (code, signal) => {
        if (child === started) child = undefined;
        log(stopping === started ? "info" : "warn", "the program exited", {
          command: file,
          exit_code: code ?? undefined,
          signal: signal ?? undefined,
        });
        resolve();
        if (stopping !== started) onExit(exitCodeOf(code, signal));
      });
    });
    started.once("spawn", () => log("info", "the program started", { command: file, pid: started.pid }));
  }

  async function stop(signal: NodeJS.Signals = exec.stopSignal): Promise<void> {
    const current = child;
    if (!current) return;
    stopping = current;
    current.kill(signal);
    const killer = setTimeout(() => {
      log("warn", "the program did not stop in time: killing it", { timeout_ms: exec.stopTimeoutMs });
      current.kill("SIGKILL");
    }, exec.stopTimeoutMs);
    await exited;
    clearTimeout(killer);
  }

  return {
    async start(env) {
      if (child) {
        log("info", "restarting the program: its environment or command changed", {
          signal: exec.stopSignal,
        });
        await stop();
      }
      launch(env);
    },
    stop,
    update(next) {
      exec = next;
    },
    get running() {
      return child !== undefined;
    },
  };
}
