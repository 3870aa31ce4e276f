/**
 * A revoker killed in the middle of a sweep (SIGKILL: no cleanup of any kind) leaves no
 * lease half-revoked, and the next sweep finishes the job. Run on an SQLite file and on
 * DynamoDB (moto), with the revoker in its own process, as a Lambda would be.
 */
import { expect, it } from "vitest";
import { callerOf, type TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { limitConcurrency } from "../../shared/leases/concurrency-limit.ts";
import { leaseFromItem } from "../../shared/leases/lease.ts";
import {
  EXPIRY_SHARDS,
  expiryKey,
  expiryPartition,
  parseExpirySortKey,
} from "../../shared/leases/lease-keys.ts";
import { CLAIM_MS } from "../../shared/leases/revocation.ts";
import { type CrashStoreSetup, describeOnCrashStores, sweepUntilKilled } from "../support/crash-stores.ts";
import { openLeaseDeployment } from "../support/lease-deployment.ts";
import { allItems } from "../support/store-items.ts";
import { runningClock } from "../support/test-clock.ts";

const LEASES = 40;
/** Kills a sweeping child mid-sweep, then checks the store and finishes with a sweep of our own. */
function crashContract(setup: CrashStoreSetup) {
  it("leaves every lease whole or gone, and the next sweep finishes the job", async () => {
    const { store, childEnv } = await setup();
    // Leases issued "ten seconds ago", one second long: due for the child at once.
    const clock = runningClock(-10_000);
    const subject = await openLeaseDeployment({ store, clock });
    const root = (await subject.broker.tokens.lookup(subject.rootToken)) as TokenRecord;
    const mount = (await subject.broker.mounts.resolve("t/creds/x"))?.mount as Mount;
    const limit = limitConcurrency(1);
    const issued = await Promise.all(
      Array.from({ length: LEASES }, () =>
        limit(() =>
          subject.broker.leases.issue({
            path: "t/creds/crash",
            type: "test-credential",
            mount,
            caller: callerOf(root),
            expiresAt: clock.now() + 1_000,
            renewable: false,
            data: {},
          }),
        ),
      ),
    );

    try {
      const byChild = await sweepUntilKilled({ childEnv, rootKey: subject.rootKey, revocations: 10 });
      expect(byChild.length).toBeLessThan(LEASES);

      // Nothing half-revoked: each remaining lease has its expiry entry, each entry its lease.
      const leases = (await allItems(store, "lease/t")).map(leaseFromItem);
      const entries = (
        await Promise.all(
          Array.from({ length: EXPIRY_SHARDS }, (_, shard) => allItems(store, expiryPartition(shard))),
        )
      ).flat();
      expect(leases.length).toBeGreaterThan(0);
      expect(entries.map((entry) => parseExpirySortKey(entry.sk).id).sort()).toEqual(
        leases.map((lease) => lease.id).sort(),
      );
      for (const lease of leases) expect(await store.get(expiryKey(lease.id, lease.dueAt))).toBeDefined();
      const claimedByDead = leases.filter((lease) => lease.claim !== null);

      // Every lease due by our clock too (the child's runs ten seconds ahead; on a slow
      // machine the last ones issued may not be yet), while the dead revoker's claims hold.
      const lastDue = Math.max(...leases.map((lease) => lease.dueAt));
      if (lastDue >= clock.now()) clock.advance(lastDue - clock.now() + 1);
      // A sweep right away leaves the dead revoker's claims alone; once they run out, it takes them.
      const first = await subject.broker.leases.sweep({ budgetMs: 120_000, concurrency: 1 });
      expect(first).toMatchObject({ busy: claimedByDead.length, failed: 0 });
      // The child's clock is ours plus ten seconds: its claims run out CLAIM_MS after the kill.
      clock.advance(CLAIM_MS + 15_000);
      const second = await subject.broker.leases.sweep({ budgetMs: 120_000, concurrency: 1 });
      expect(second).toMatchObject({ complete: true, revoked: claimedByDead.length, failed: 0 });
      expect(await allItems(store, "lease/t")).toEqual([]);

      // Every lease was revoked; only those the dead revoker was in the middle of, twice.
      const byUs = subject.engine.revokeCalls.map((call) => call.id);
      expect(new Set([...byChild, ...byUs])).toEqual(new Set(issued.map((lease) => lease.id)));
      const twice = byUs.filter((id) => byChild.includes(id));
      const claimedIds = claimedByDead.map((lease) => lease.id);
      expect(twice.every((id) => claimedIds.includes(id))).toBe(true);
      expect(claimedByDead.length).toBeLessThanOrEqual(4);
    } finally {
      await store.close();
    }
  }, 180_000);
}

describeOnCrashStores("a revoker killed mid-sweep", crashContract);
