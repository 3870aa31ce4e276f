/**
 * Section 5: the revoker. N leases expiring at the same instant are revoked by sweeps run
 * back to back (as the scheduled function's ticks would, without the minute between
 * them); reports leases revoked per second and the lag (revocation time - expiry) of
 * each lease. The engine is the lease test engine, whose revoke does no remote work:
 * this measures the lease manager and the store, not AWS.
 */
import type { ItemStore } from "../../shared/store/item-store.ts";
import {
  initializeWithLeasing,
  openLeaseBroker,
  randomRootKey,
  testClock,
} from "../../test/support/lease-broker.ts";
import { TEST_LEASE_TYPE } from "../../test/support/lease-test-engine.ts";
import { percentile, round } from "./measure.ts";

export interface RevokerResult {
  store: string;
  leases: number;
  sweeps: number;
  revokedPerSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

export async function benchRevoker(
  store: ItemStore,
  storage: string,
  leases: number,
): Promise<RevokerResult> {
  const clock = testClock();
  const { broker, engine } = await openLeaseBroker({ store, storage, rootKey: randomRootKey(), clock });
  await initializeWithLeasing(broker, "bench");
  const mount = (await broker.mounts.resolve("bench/creds/x"))?.mount;
  if (!mount) throw new Error("no bench mount");
  const ttlMs = 60_000;
  const expiresAt = clock.now() + ttlMs;
  for (let i = 0; i < leases; i++) {
    await broker.leases.issue({
      path: "bench/creds/load",
      type: TEST_LEASE_TYPE,
      mount,
      caller: undefined,
      expiresAt,
      renewable: false,
      data: { n: i },
    });
  }
  // The lag of each lease's first revocation; a second one is counted, not measured.
  const lags = new Map<string, number>();
  let engineCalls = 0;
  engine.behaviour.revoke = (lease, now) => {
    engineCalls++;
    if (!lags.has(lease.id)) lags.set(lease.id, now - lease.expiresAt);
    return undefined;
  };
  // Start sweeping the moment they expire: the lag measures revocation, not issuance.
  clock.advance(expiresAt - clock.now());
  const started = performance.now();
  let sweeps = 0;
  let failed = 0;
  for (;;) {
    sweeps++;
    const report = await broker.leases.sweep({ budgetMs: 50_000 });
    failed += report.failed;
    if (report.complete && report.due === 0) break;
    if (sweeps > 1000) throw new Error("sweeps do not finish");
  }
  const elapsedMs = performance.now() - started;
  // One sweep at a time and a store that does not fail: each lease is revoked exactly once.
  // A failed step (the store failing after the engine call) is retried, so it would count
  // twice; say so rather than measure it.
  if (lags.size !== leases || engineCalls !== leases || failed > 0) {
    throw new Error(
      `revoked ${lags.size} of ${leases} leases with ${engineCalls} engine calls; ${failed} sweep steps failed`,
    );
  }
  const sorted = [...lags.values()].sort((a, b) => a - b);
  return {
    store: storage,
    leases,
    sweeps,
    revokedPerSecond: round((leases / elapsedMs) * 1000, 0),
    lagP50Ms: round(percentile(sorted, 50), 0),
    lagP99Ms: round(percentile(sorted, 99), 0),
    lagMaxMs: round(sorted[sorted.length - 1] as number, 0),
  };
}
