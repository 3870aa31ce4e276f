/**
 * Automatic rotation: the scheduled housekeeping calls rotateDueTransitKeys, which rotates
 * every key of every transit mount whose latest version is older than its
 * `auto_rotate_period`. Each rotation is the same conditioned write as a manual one and
 * re-checks that it is still due on the policy it replaces, so two runs at once never
 * rotate a key twice. Cost per run: one query per transit mount (policies only), plus one
 * write per rotated key.
 */
import type { Broker } from "../../broker.ts";
import { rotateKey } from "./key-lifecycle.ts";
import { rotationDue } from "./key-policy.ts";
import { nowSeconds, openTransitMount } from "./transit-mount.ts";

export interface AutoRotation {
  /** The mount path, e.g. "transit/". */
  mount: string;
  key: string;
  /** The new latest version. */
  version: number;
}

export interface AutoRotationReport {
  rotated: AutoRotation[];
  /** Keys left for the next run: a failure here must not stop the others. */
  failed: { mount: string; key: string; error: string }[];
  /** True when `stopAt` came before every due key was looked at. */
  incomplete: boolean;
}

export async function rotateDueTransitKeys(
  broker: Broker,
  options: { stopAt?: number } = {},
): Promise<AutoRotationReport> {
  const report: AutoRotationReport = { rotated: [], failed: [], incomplete: false };
  const mounts = (await broker.mounts.list()).filter((mount) => mount.type === "transit");
  for (const mount of mounts) {
    const transit = openTransitMount(broker, mount);
    const due = (await transit.storage.policies()).filter((policy) =>
      rotationDue(policy, nowSeconds(broker)),
    );
    for (const policy of due) {
      if (options.stopAt !== undefined && broker.now() >= options.stopAt) {
        report.incomplete = true;
        return report;
      }
      try {
        const outcome = await rotateKey(transit, policy.name, (current) =>
          rotationDue(current, nowSeconds(broker)),
        );
        if (outcome?.rotated) {
          report.rotated.push({ mount: mount.path, key: policy.name, version: outcome.policy.latestVersion });
        }
      } catch (error) {
        report.failed.push({
          mount: mount.path,
          key: policy.name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return report;
}
