/**
 * Servers a test worker keeps for the files it runs one after the other, so each file does
 * not pay for starting its own (moto_server takes seconds of CPU to start). vitest runs at
 * most one file at a time in each worker slot (VITEST_POOL_ID), so a server kept for a
 * slot has one user at a time, and a suite that resets it on start sees it as new.
 *
 * The run's global setup (test/support/global-setup.ts) makes the directory where the
 * slots record their servers (`<name>-<slot>.json`) and stops every server recorded there
 * when the run ends. A server is started by the first suite of a slot that needs one
 * (test/support/moto.ts), detached so that it outlives that suite's process.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// vitest can be imported only inside a vitest run; a benchmark script loads this module
// (through moto.ts) outside it, where every suite starts its own servers.
const vitest = process.env.VITEST ? await import("vitest") : undefined;

declare module "vitest" {
  export interface ProvidedContext {
    /** Where this run's worker slots record the servers they keep; unset outside vitest. */
    workerServers: string;
  }
}

export interface WorkerServer {
  /** The server's process, leader of its own process group. */
  pid: number;
  port: number;
}

/** Where the server `name` of this worker slot is recorded; undefined outside a vitest run. */
export function slotServerFile(name: string): string | undefined {
  const directory = providedDirectory();
  const slot = process.env.VITEST_POOL_ID;
  if (!directory || !slot) return undefined;
  return join(directory, `${name}-${slot}.json`);
}

/** A file for what every worker of this run may read once one found it out; undefined outside a vitest run. */
export function runRecordFile(name: string): string | undefined {
  const directory = providedDirectory();
  return directory ? join(directory, name) : undefined;
}

export function readSlotServer(file: string): WorkerServer | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as WorkerServer;
}

export function recordSlotServer(file: string, server: WorkerServer): void {
  writeFileSync(file, JSON.stringify(server));
}

function providedDirectory(): string | undefined {
  try {
    return vitest?.inject("workerServers");
  } catch {
    // In vitest's main process, not a worker: nothing is provided there.
    return undefined;
  }
}
