/**
 * Housekeeping the scheduled revoker runs after its lease sweep: transit keys whose
 * `auto_rotate_period` has passed are rotated, and KV removals too large for one atomic
 * write that were interrupted are finished. Each part is idempotent, stops at the
 * deadline and resumes on the next tick; a failure in one never stops the other.
 */
import type { Broker } from "./broker.ts";

export interface HousekeepingReport {
  transit_rotated: number;
  transit_failed: number;
  kv_cleaned: number;
  kv_failed: number;
  /** False when the deadline came first: the next tick continues. */
  complete: boolean;
  errors: string[];
}

export async function runHousekeeping(
  broker: Broker,
  options: { deadline: number },
): Promise<HousekeepingReport> {
  const report: HousekeepingReport = {
    transit_rotated: 0,
    transit_failed: 0,
    kv_cleaned: 0,
    kv_failed: 0,
    complete: true,
    errors: [],
  };
  const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
  try {
    const { rotateDueTransitKeys } = await import("./engines/transit/auto-rotate.ts");
    const transit = await rotateDueTransitKeys(broker, { stopAt: options.deadline });
    report.transit_rotated = transit.rotated.length;
    report.transit_failed = transit.failed.length;
    report.complete &&= !transit.incomplete;
  } catch (error) {
    report.complete = false;
    report.errors.push(`transit: ${describe(error)}`);
  }
  try {
    const { sweepKv } = await import("./engines/kv/sweep.ts");
    const kv = await sweepKv(broker, { deadline: options.deadline });
    report.kv_cleaned = kv.cleaned;
    report.kv_failed = kv.failed;
    report.complete &&= kv.complete;
  } catch (error) {
    report.complete = false;
    report.errors.push(`kv: ${describe(error)}`);
  }
  return report;
}
