/**
 * A transit mount's periodic work: every key whose latest version is older than its
 * `auto_rotate_period` is rotated. Each rotation is the same conditioned write as a manual
 * one and re-checks that it is still due on the policy it replaces, so two runs at once
 * never rotate a key twice. Cost per run: one query (policies only), plus one write per
 * rotated key.
 */
import type { PeriodicReport } from "../engine.ts";
import { rotateKey } from "./key-lifecycle.ts";
import { rotationDue } from "./key-policy.ts";
import { nowSeconds, type TransitMount } from "./transit-mount.ts";

export async function rotateDueKeys(transit: TransitMount, deadline: number): Promise<PeriodicReport> {
  const report: PeriodicReport = { done: 0, failed: 0, complete: true };
  const due = (await transit.storage.policies()).filter((policy) => rotationDue(policy, nowSeconds(transit)));
  for (const policy of due) {
    if (transit.now() >= deadline) return { ...report, complete: false };
    try {
      const outcome = await rotateKey(transit, policy.name, (current) =>
        rotationDue(current, nowSeconds(transit)),
      );
      if (outcome?.rotated) report.done++;
    } catch {
      // The key stays due: the next run tries again, and one key must not stop the others.
      report.failed++;
    }
  }
  return report;
}
