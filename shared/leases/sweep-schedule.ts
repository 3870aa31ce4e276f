/**
 * Sweeps on an interval inside a long-running process (`coffer dev`), where no scheduler
 * invokes the revoker function. A sweep never overlaps the previous one, each gets the
 * interval as its budget, and sweeps that did something are logged with their report.
 */

import type { Log } from "../log.ts";
import type { LeaseManager } from "./lease-manager.ts";
import { describeError } from "./revocation.ts";

export interface SweepSchedule {
  /** Stops scheduling and waits for a sweep in progress. */
  stop(): Promise<void>;
}

export function sweepEvery(
  leases: LeaseManager,
  intervalMs: number,
  log: Log,
  /** Runs after each sweep, within the same tick (the revoker's housekeeping). */
  afterSweep?: () => Promise<void>,
): SweepSchedule {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = leases
      .sweep({ budgetMs: intervalMs })
      .then(async (report) => {
        if (report.due > 0 || report.tokens_due > 0)
          log(report.complete ? "info" : "warn", "lease sweep", { ...report });
        await afterSweep?.();
      })
      .catch((error) => log("error", "lease sweep failed", { error: describeError(error) }))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  // The schedule alone must not keep a process alive.
  (timer as { unref?: () => void }).unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
