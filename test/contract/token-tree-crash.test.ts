import { expect, it } from "vitest";
import {
  accessorKey,
  childKey,
  TOKEN_SHARDS,
  tokenIndexKey,
  tokenIndexPartition,
  tokenKey,
} from "../../shared/auth/tokens/token-keys.ts";
import { tokenFromItem } from "../../shared/auth/tokens/token-record.ts";
import { callerOf, type TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { leaseFromItem } from "../../shared/leases/lease.ts";
import { EXPIRY_SHARDS, expiryPartition, parseExpirySortKey } from "../../shared/leases/lease-keys.ts";
import { CLAIM_MS } from "../../shared/leases/revocation.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { type CrashStoreSetup, describeOnCrashStores, sweepUntilKilled } from "../support/crash-stores.ts";
import { openLeaseDeployment } from "../support/lease-deployment.ts";
import { TEST_LEASE_TYPE } from "../support/lease-test-engine.ts";
import { allItems } from "../support/store-items.ts";
import { runningClock } from "../support/test-clock.ts";

const FANOUT = 3;
/** Every token is either whole, with each index item it needs, or gone with all of them. */
async function expectWholeOrGone(store: ItemStore, tokens: readonly TokenRecord[]) {
  const indexed = new Set(
    (
      await Promise.all(
        Array.from({ length: TOKEN_SHARDS }, (_, shard) => allItems(store, tokenIndexPartition(shard))),
      )
    )
      .flat()
      .map((entry) => `${entry.pk} ${entry.sk}`),
  );
  const states: string[] = [];
  for (const created of tokens) {
    const item = await store.get(tokenKey(created.hmac));
    const pointer = await store.get(accessorKey(created.accessor));
    const entry = created.parent ? await store.get(childKey(created.parent, created.accessor)) : undefined;
    if (!item) {
      expect(pointer).toBeUndefined();
      expect(entry).toBeUndefined();
      expect([...indexed].some((key) => key.endsWith(`/${created.accessor}`))).toBe(false);
      states.push("gone");
      continue;
    }
    const record = tokenFromItem(item);
    // Live: the accessor names it as live; revoking: as revoked, so nothing attaches to it.
    expect(record.state === "active" ? pointer?.token_hmac : pointer?.revoked_token_hmac).toBe(created.hmac);
    const key = tokenIndexKey(record.accessor, record.dueAt);
    expect(indexed.has(`${key.pk} ${key.sk}`)).toBe(true);
    if (created.parent) {
      expect(entry).toBeDefined();
      // A parent goes only once its children are gone.
      const parent = tokens.find((token) => token.accessor === created.parent) as TokenRecord;
      expect(await store.get(tokenKey(parent.hmac))).toBeDefined();
    }
    states.push(record.state);
  }
  return states;
}

function crashContract(setup: CrashStoreSetup) {
  it("leaves every token and lease whole or gone, and the next sweeps finish the tree", async () => {
    const { store, childEnv } = await setup();
    // The tree is revoked "ten seconds ago": due for the child at once.
    const clock = runningClock(-10_000);
    const subject = await openLeaseDeployment({ store, clock });
    const mount = (await subject.broker.mounts.resolve("t/creds/x"))?.mount as Mount;
    const tokens: TokenRecord[] = [];
    const leases: string[] = [];
    async function grow(parent?: TokenRecord): Promise<TokenRecord> {
      const { record } = await subject.broker.tokens.create({
        policies: ["default"],
        displayName: "token-crash",
        path: "auth/token/create",
        ttl: 3600,
        ...(parent ? { parent } : {}),
      });
      const lease = await subject.broker.leases.issue({
        path: "t/creds/crash",
        type: TEST_LEASE_TYPE,
        mount,
        caller: callerOf(record),
        expiresAt: clock.now() + 3_600_000,
        renewable: false,
        data: {},
      });
      tokens.push(record);
      leases.push(lease.id);
      return record;
    }
    const root = await grow();
    for (let i = 0; i < FANOUT; i++) {
      const child = await grow(root);
      for (let j = 0; j < FANOUT; j++) await grow(child);
    }
    // Marked, as a request that ran out of time leaves it: the revoker walks the rest.
    expect((await subject.broker.tokens.revoke(root, { deadline: clock.now() })).complete).toBe(false);

    try {
      const byChild = await sweepUntilKilled({ childEnv, rootKey: subject.rootKey, revocations: 4 });
      expect(byChild.length).toBeLessThan(leases.length);

      // Nothing half-revoked: each token whole (with its indexes) or gone (with all of them),
      // each lease with its expiry entry, each entry with its lease.
      const states = await expectWholeOrGone(store, tokens);
      expect(states).toContain("revoking");
      const left = (await allItems(store, "lease/t")).map(leaseFromItem);
      const entries = (
        await Promise.all(
          Array.from({ length: EXPIRY_SHARDS }, (_, shard) => allItems(store, expiryPartition(shard))),
        )
      ).flat();
      expect(entries.map((entry) => parseExpirySortKey(entry.sk).id).sort()).toEqual(
        left.map((lease) => lease.id).sort(),
      );
      const claimedByDead = left.filter((lease) => lease.claim !== null).map((lease) => lease.id);

      // The dead revoker's claims hold for CLAIM_MS (its clock is ours plus ten seconds);
      // after them, sweeps finish the tree.
      clock.advance(CLAIM_MS + 15_000);
      for (let sweeps = 0; ; sweeps++) {
        const report = await subject.broker.leases.sweep({ budgetMs: 120_000 });
        expect(report.failed).toBe(0);
        if (report.complete && report.tokens_due === 0) break;
        expect(sweeps).toBeLessThan(5);
        // A token whose lease was claimed by the dead revoker is due again after a backoff.
        clock.advance(60_000);
      }
      expect(await expectWholeOrGone(store, tokens)).toEqual(tokens.map(() => "gone"));
      expect(await allItems(store, "lease/t")).toEqual([]);
      expect(await subject.broker.tokens.listAccessors()).toHaveLength(1);

      // Every lease was revoked; only those the dead revoker was in the middle of, twice.
      const byUs = subject.engine.revokeCalls.map((call) => call.id);
      expect(new Set([...byChild, ...byUs])).toEqual(new Set(leases));
      expect(byUs.filter((id) => byChild.includes(id)).every((id) => claimedByDead.includes(id))).toBe(true);
    } finally {
      await store.close();
    }
  }, 240_000);
}

describeOnCrashStores("a revoker killed mid-tree", crashContract);
