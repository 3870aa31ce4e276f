/**
 * vitest's global setup, run once per run outside the workers: the run's directory, where
 * worker slots record the servers they keep (test/support/worker-servers.ts) and the
 * command's bundle is built (test/support/coffer-command.ts), and, when the run ends, those
 * servers stopped and the directory removed. It lies in build/ (ignored by git), so that
 * the bundle finds node_modules as an installed command does.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import type { WorkerServer } from "./worker-servers.ts";

function stopRecorded(directory: string): void {
  for (const name of readdirSync(directory).filter((file) => file.endsWith(".json"))) {
    const { pid } = JSON.parse(readFileSync(join(directory, name), "utf8")) as WorkerServer;
    try {
      // Each was started detached, leading a process group of its own.
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Whether the process `pid` still runs. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What an earlier run left when it was killed before its teardown. */
function removeAbandoned(build: string): void {
  for (const name of readdirSync(build).filter((entry) => entry.startsWith("test-run-"))) {
    const directory = join(build, name);
    const owner = Number(readFileSync(join(directory, "owner"), { encoding: "utf8", flag: "a+" }));
    if (owner && running(owner)) continue;
    stopRecorded(directory);
    rmSync(directory, { recursive: true, force: true });
  }
}

export default function setup(project: TestProject): () => void {
  const build = new URL("../../build", import.meta.url).pathname;
  mkdirSync(build, { recursive: true });
  removeAbandoned(build);
  const directory = mkdtempSync(join(build, "test-run-"));
  writeFileSync(join(directory, "owner"), String(process.pid));
  // Readable by the other users some suites run the command as (test/support/pod-runner.ts).
  chmodSync(directory, 0o755);
  project.provide("workerServers", directory);
  return () => {
    stopRecorded(directory);
    rmSync(directory, { recursive: true, force: true });
  };
}
