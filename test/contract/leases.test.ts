/**
 * The lease manager and the sweep: one suite, run on SQLite and on DynamoDB (moto), so
 * issuing, renewing, revoking and sweeping behave the same on every store. Revocations go
 * through the lease test engine, which counts its revoke calls.
 */
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callerOf, type TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { Broker } from "../../shared/broker.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { limitConcurrency } from "../../shared/leases/concurrency-limit.ts";
import { type Lease, leaseFromItem, leaseToItem } from "../../shared/leases/lease.ts";
import {
  EXPIRY_SHARDS,
  expiryKey,
  expiryPartition,
  identityPartition,
  leaseKey,
  tokenPartition,
} from "../../shared/leases/lease-keys.ts";
import { CLAIM_MS, RETRY_BASE_MS } from "../../shared/leases/revocation.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { Item, ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../support/lease-deployment.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { allItems } from "../support/store-items.ts";
import { provenIdentity } from "../support/token-record.ts";
import { waitFor } from "../support/wait.ts";

async function expiryIndex(store: ItemStore): Promise<Item[]> {
  const shards = await Promise.all(
    Array.from({ length: EXPIRY_SHARDS }, (_, shard) => allItems(store, expiryPartition(shard))),
  );
  return shards.flat();
}

/** The sweeps of one test may take this long on the slowest store (documented in docs/leases.md). */
const SWEEP_BOUND_MS = 60_000;

/**
 * How hard a store is pushed. moto's DynamoDB deep-copies every table on each transaction
 * (slow as tables grow) and is not thread-safe while doing so (concurrent transactions fail
 * with a 500 or corrupt other tables), so its run uses fewer leases, and its client sends
 * one request at a time: the sweeps still race, their requests merely take turns.
 */
interface Scale {
  leases: number;
  concurrency: number;
}

function leaseContract(openStore: () => Promise<ItemStore>, storage: string, scale: Scale) {
  /** The store under test, for more brokers over it. */
  let raw: ItemStore;
  /** What the broker reads and writes: items seeded or inspected here go through it. */
  let store: ItemStore;
  let subject: LeaseDeployment;
  let broker: Broker;
  let root: TokenRecord;
  let mount: Mount;

  beforeEach(async () => {
    raw = await openStore();
    subject = await openLeaseDeployment({ store: raw, storage });
    broker = subject.broker;
    store = broker.store;
    root = (await broker.tokens.lookup(subject.rootToken)) as TokenRecord;
    mount = (await broker.mounts.resolve("t/creds/x"))?.mount as Mount;
  });

  afterEach(async () => {
    await raw.close();
  });

  const issue = (path: string, options: { ttlMs?: number; token?: TokenRecord; renewable?: boolean } = {}) =>
    broker.leases.issue({
      path,
      type: "test-credential",
      mount,
      caller: callerOf(options.token ?? root),
      expiresAt: subject.clock.now() + (options.ttlMs ?? 60_000),
      maxExpiresAt: subject.clock.now() + 600_000,
      renewable: options.renewable ?? true,
      data: { path },
    });

  async function issueMany(count: number, path: string, ttlMs: number): Promise<Lease[]> {
    const limit = limitConcurrency(scale.concurrency);
    return Promise.all(Array.from({ length: count }, () => limit(() => issue(path, { ttlMs }))));
  }

  async function tokenFor(entityId: string): Promise<TokenRecord> {
    const { record } = await broker.tokens.create({
      policies: ["default"],
      displayName: `sa-${entityId}`,
      path: "auth/kubernetes/login",
      ttl: 3600,
      identity: provenIdentity("ns", entityId, entityId),
    });
    return record;
  }

  describe("issue", () => {
    it("writes the lease and its expiry, identity and token index items together", async () => {
      const token = await tokenFor("entity-1");
      const lease = await issue("t/creds/app", { token });
      expect(lease.id).toMatch(/^t\/creds\/app\/[\w-]{24}$/);
      expect(await store.get(leaseKey(lease.id))).toBeDefined();
      expect(await store.get(expiryKey(lease.id, lease.expiresAt))).toBeDefined();
      expect(await store.get({ pk: identityPartition("entity-1"), sk: lease.id })).toBeDefined();
      expect(await store.get({ pk: tokenPartition(token.accessor), sk: lease.id })).toBeDefined();
    });

    it("seals the engine's revoke data, bound to the lease", async () => {
      const lease = await issue("t/creds/sealed-marker-4f1a");
      const item = (await store.get(leaseKey(lease.id))) as Item;
      expect(item.data).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(item.data as Uint8Array).toString("latin1")).not.toContain("sealed-marker");
      // Moved onto another lease, the data no longer opens: its revocation fails instead.
      const other = await issue("t/creds/other");
      const otherItem = (await store.get(leaseKey(other.id))) as Item;
      await store.write([{ op: "put", item: { ...otherItem, data: item.data as Uint8Array } }]);
      const summary = await broker.leases.revoke(other.id);
      expect(summary.failed).toHaveLength(1);
      expect(subject.engine.revokeCalls).toHaveLength(0);
    });

    it("writes nothing when the atomic write fails", async () => {
      const before = await expiryIndex(store);
      await expect(
        broker.leases.issue(
          {
            path: "t/creds/app",
            type: "test-credential",
            mount,
            caller: callerOf(root),
            expiresAt: Date.now() + 1000,
            renewable: false,
            data: {},
          },
          [{ op: "put", item: { pk: "sys", sk: "init" }, condition: { exists: false } }],
        ),
      ).rejects.toMatchObject({ code: "ERR_CONDITION_FAILED" });
      expect(await expiryIndex(store)).toEqual(before);
      expect(await allItems(store, "lease/t")).toEqual([]);
    });
  });

  describe("lookup, list and renew", () => {
    it("looks up live leases only", async () => {
      const lease = await issue("t/creds/app");
      expect((await broker.leases.lookup(lease.id))?.id).toBe(lease.id);
      expect(await broker.leases.lookup("t/creds/app/unknown")).toBeUndefined();
      await broker.leases.revoke(lease.id);
      expect(await broker.leases.lookup(lease.id)).toBeUndefined();
    });

    it("lists the next segment under a prefix, and the mounts with leases at the root", async () => {
      const a = await issue("t/creds/a");
      await issue("t/creds/b/c");
      expect(await broker.leases.list("t/")).toEqual(["creds/"]);
      expect(await broker.leases.list("t/creds/")).toEqual(["a/", "b/"]);
      expect(await broker.leases.list("t/creds/a")).toEqual([a.id.split("/").pop()]);
      expect(await broker.leases.list("")).toEqual(["t/"]);
      expect(await broker.leases.list("nothing/")).toEqual([]);
    });

    it("renews from now by the increment, capped by the max TTL", async () => {
      const lease = await issue("t/creds/app", { ttlMs: 60_000 });
      subject.clock.advance(30_000);
      const renewed = await broker.leases.renew(lease.id, 120);
      expect(renewed.expiresAt).toBeGreaterThanOrEqual(subject.clock.now() + 119_000);
      expect(renewed.expiresAt).toBeLessThanOrEqual(subject.clock.now() + 120_000);
      expect(renewed.lastRenewedAt).not.toBeNull();
      expect(subject.engine.renewCalls).toEqual([{ id: lease.id, increment: 120 }]);
      // The expiry index moved with it.
      expect(await store.get(expiryKey(lease.id, lease.expiresAt))).toBeUndefined();
      expect(await store.get(expiryKey(lease.id, renewed.expiresAt))).toBeDefined();

      const capped = await broker.leases.renew(lease.id, 100_000);
      expect(capped.expiresAt).toBe(lease.maxExpiresAt);
    });

    it("refuses to renew what is not renewable, expired or unknown", async () => {
      const fixed = await issue("t/creds/app", { renewable: false });
      await expect(broker.leases.renew(fixed.id, 60)).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
        message: "lease is not renewable",
      });
      await expect(broker.leases.renew("t/creds/app/nope", 60)).rejects.toMatchObject({
        message: "lease not found",
      });
      const short = await issue("t/creds/app", { ttlMs: 1000 });
      subject.clock.advance(2000);
      await expect(broker.leases.renew(short.id, 60)).rejects.toMatchObject({ message: "lease not found" });
    });

    it("lets the engine refuse a renewal, and records nothing then", async () => {
      const lease = await issue("t/creds/app");
      subject.engine.behaviour.renew = () => {
        throw new Error("upstream says no");
      };
      await expect(broker.leases.renew(lease.id, 60)).rejects.toThrow("upstream says no");
      expect((await broker.leases.lookup(lease.id))?.expiresAt).toBe(lease.expiresAt);
    });
  });

  describe("revoke", () => {
    it("revokes through the engine once and removes the lease with all its index items", async () => {
      const token = await tokenFor("entity-r");
      const lease = await issue("t/creds/app", { token });
      const summary = await broker.leases.revoke(lease.id);
      expect(summary).toEqual({ matched: 1, revoked: 1, queued: 0, failed: [], pending: [] });
      expect(subject.engine.revokeCalls).toEqual([
        { id: lease.id, revokedAt: null, data: { path: "t/creds/app" } },
      ]);
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
      expect(await expiryIndex(store)).toEqual([]);
      expect(await allItems(store, identityPartition("entity-r"))).toEqual([]);
      expect(await allItems(store, tokenPartition(token.accessor))).toEqual([]);
      // Revoking again is a no-op, as in Vault.
      expect(await broker.leases.revoke(lease.id)).toEqual({
        matched: 0,
        revoked: 0,
        queued: 0,
        failed: [],
        pending: [],
      });
      expect(subject.engine.revokeCalls).toHaveLength(1);
    });

    it("audits every revocation", async () => {
      const lease = await issue("t/creds/app");
      await broker.leases.revoke(lease.id, { requestId: "req-1" });
      const record = subject.audit.find((entry) =>
        (entry.request as { path: string }).path.endsWith(lease.id),
      );
      expect(record).toMatchObject({
        request: {
          id: "req-1",
          operation: "revoke",
          path: `sys/leases/revoke/${lease.id}`,
          mount_type: "leasing",
        },
        response: { status: 204 },
      });
    });

    it("keeps a lease whose engine fails, marked and retried with backoff, and says so in the log", async () => {
      const lease = await issue("t/creds/app", { ttlMs: 3_600_000 });
      subject.engine.behaviour.revoke = () => {
        throw new Error("upstream unavailable");
      };
      const summary = await broker.leases.revoke(lease.id);
      expect(summary.failed).toEqual([{ id: lease.id, error: "Error: upstream unavailable" }]);
      const kept = (await broker.leases.lookup(lease.id)) as Lease;
      expect(kept).toMatchObject({
        attempts: 1,
        revokeRequested: true,
        lastError: "Error: upstream unavailable",
      });
      expect(kept.dueAt - subject.clock.now()).toBeGreaterThan(RETRY_BASE_MS - 5_000);
      expect(kept.dueAt - subject.clock.now()).toBeLessThanOrEqual(RETRY_BASE_MS);
      expect(subject.logs).toContainEqual(
        expect.objectContaining({
          level: "warn",
          msg: "lease revocation failed",
          lease_id: lease.id,
          attempts: 1,
        }),
      );
      await expect(broker.leases.renew(lease.id, 60)).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });

      // Not due yet: a sweep leaves it alone.
      expect((await broker.leases.sweep({ budgetMs: 10_000 })).due).toBe(0);
      // Due, still failing: the next retry waits twice as long.
      subject.clock.advance(RETRY_BASE_MS);
      expect((await broker.leases.sweep({ budgetMs: 10_000 })).failed).toBe(1);
      const again = (await broker.leases.lookup(lease.id)) as Lease;
      expect(again.attempts).toBe(2);
      expect(again.dueAt - subject.clock.now()).toBeGreaterThan(2 * RETRY_BASE_MS - 5_000);
      // Recovered: the next sweep revokes it.
      subject.engine.behaviour.revoke = undefined;
      subject.clock.advance(2 * RETRY_BASE_MS);
      const report = await broker.leases.sweep({ budgetMs: 10_000 });
      expect(report).toMatchObject({ revoked: 1, failed: 0, complete: true });
      expect(subject.engine.revokeCount(lease.id)).toBe(3);
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
    });

    it("removes a lease by force although its engine fails", async () => {
      const lease = await issue("t/creds/app");
      subject.engine.behaviour.revoke = () => {
        throw new Error("gone for good");
      };
      const summary = await broker.leases.revokePrefix("t/creds/", { force: true });
      expect(summary).toMatchObject({ matched: 1, revoked: 1, failed: [] });
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
      expect(await expiryIndex(store)).toEqual([]);
    });

    it("queues instead of revoking when sync is false, and the sweep carries it out", async () => {
      const lease = await issue("t/creds/app", { ttlMs: 3_600_000 });
      expect(await broker.leases.revoke(lease.id, { sync: false })).toMatchObject({ queued: 1, revoked: 0 });
      expect(subject.engine.revokeCalls).toHaveLength(0);
      expect((await broker.leases.sweep({ budgetMs: 10_000 })).revoked).toBe(1);
      expect(subject.engine.revokeCount(lease.id)).toBe(1);
    });

    it("keeps an early-revoked lease invisible until the engine's clean-up call after expiry", async () => {
      const lease = await issue("t/creds/app", { ttlMs: 60_000 });
      subject.engine.behaviour.revoke = (view) =>
        view.revokedAt === null ? { followUpAt: view.expiresAt } : undefined;
      expect(await broker.leases.revoke(lease.id)).toMatchObject({ revoked: 1 });
      expect(await broker.leases.lookup(lease.id)).toBeUndefined();
      expect(await broker.leases.list("t/creds/")).toEqual([]);
      const kept = leaseFromStore(await store.get(leaseKey(lease.id)));
      expect(kept).toMatchObject({ state: "revoked", dueAt: lease.expiresAt });

      expect((await broker.leases.sweep({ budgetMs: 10_000 })).due).toBe(0);
      subject.clock.advance(61_000);
      const report = await broker.leases.sweep({ budgetMs: 10_000 });
      expect(report).toMatchObject({ revoked: 1, complete: true });
      expect(subject.engine.revokeCalls.map((call) => call.revokedAt === null)).toEqual([true, false]);
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
      expect(await expiryIndex(store)).toEqual([]);
    });
  });

  describe("a revocation in progress", () => {
    /**
     * Makes the engine's next revocation wait until released: a revoker holding its claim
     * mid-revocation. Resolves once the engine has been called.
     */
    async function holdRevocation(start: () => Promise<unknown>) {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const calls = subject.engine.revokeCalls.length;
      subject.engine.behaviour.revoke = () => gate.then(() => undefined);
      const running = start();
      await waitFor("the engine to be called", () =>
        subject.engine.revokeCalls.length > calls ? true : undefined,
      );
      subject.engine.behaviour.revoke = undefined;
      return { release, running };
    }

    it("moves the lease's due time to the claim's end, so a revoker that dies is followed up", async () => {
      const lease = await issue("t/creds/app", { ttlMs: 3_600_000 });
      const held = await holdRevocation(() => broker.leases.revoke(lease.id));
      const claimed = leaseFromStore(await store.get(leaseKey(lease.id)));
      expect(claimed.claim).not.toBeNull();
      expect(claimed.revokeRequested).toBe(true);
      expect(claimed.dueAt).toBe(claimed.claim!.until);
      expect(await expiryIndex(store)).toEqual([expect.objectContaining(expiryKey(lease.id, claimed.dueAt))]);
      held.release();
      expect(await held.running).toMatchObject({ revoked: 1 });
      expect(await expiryIndex(store)).toEqual([]);
    });

    it("waits for another revoker holding the lease and reports it revoked once that one finished", async () => {
      const lease = await issue("t/creds/app");
      const held = await holdRevocation(() => broker.leases.revoke(lease.id, { requestId: "first" }));
      const second = broker.leases.revoke(lease.id, { requestId: "second" });
      held.release();
      expect(await held.running).toMatchObject({ revoked: 1, pending: [] });
      expect(await second).toMatchObject({ matched: 1, revoked: 1, pending: [], failed: [] });
      expect(subject.engine.revokeCount(lease.id)).toBe(1);
    });

    it("reports the lease pending, not revoked, when the other revoker does not finish within the wait", async () => {
      const lease = await issue("t/creds/app");
      const held = await holdRevocation(() => broker.leases.revoke(lease.id, { requestId: "first" }));
      const second = await broker.leases.revoke(lease.id, { requestId: "second", waitMs: 100 });
      expect(second).toMatchObject({ matched: 1, revoked: 0, pending: [lease.id], failed: [] });
      held.release();
      expect(await held.running).toMatchObject({ revoked: 1 });
    });

    it("refuses to renew a claimed lease, so the revocation's final write stands", async () => {
      const lease = await issue("t/creds/app");
      const held = await holdRevocation(() => broker.leases.revoke(lease.id));
      await expect(broker.leases.renew(lease.id, 60)).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
        message: "lease is being revoked",
      });
      held.release();
      expect(await held.running).toMatchObject({ revoked: 1 });
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
      expect(subject.engine.renewCalls).toEqual([]);
    });

    it("leaves a claimed lease to its revoker when asked to queue it", async () => {
      const lease = await issue("t/creds/app");
      const held = await holdRevocation(() => broker.leases.revoke(lease.id));
      expect(await broker.leases.revoke(lease.id, { sync: false })).toMatchObject({ queued: 1 });
      held.release();
      expect(await held.running).toMatchObject({ revoked: 1 });
      expect(await store.get(leaseKey(lease.id))).toBeUndefined();
      expect(subject.logs.filter((event) => event.level === "error")).toEqual([]);
    });
  });

  describe("revoke-prefix and revoke-by-identity", () => {
    it("revokes exactly the leases under a prefix, with overlapping prefixes", async () => {
      const a = await Promise.all([issue("t/creds/a"), issue("t/creds/a")]);
      const ab = await Promise.all([issue("t/creds/ab"), issue("t/creds/ab")]);
      const nested = await issue("t/creds/a/b");
      const other = await issue("t/other/a");

      // "t/creds/a" names no lease, so it is the folder "t/creds/a/": not "t/creds/ab".
      expect(await broker.leases.revokePrefix("t/creds/a")).toMatchObject({ matched: 3, revoked: 3 });
      const revoked = new Set(subject.engine.revokeCalls.map((call) => call.id));
      expect(revoked).toEqual(new Set([...a.map((l) => l.id), nested.id]));

      // A prefix without a trailing slash that names a lease revokes that lease alone.
      expect(await broker.leases.revokePrefix(ab[0]!.id)).toMatchObject({ matched: 1, revoked: 1 });
      expect(await broker.leases.lookup(ab[1]!.id)).toBeDefined();

      expect(await broker.leases.revokePrefix("t/creds/")).toMatchObject({ matched: 1, revoked: 1 });
      expect(await broker.leases.lookup(other.id)).toBeDefined();
      expect(subject.engine.revokeCalls).toHaveLength(5);
      await expect(broker.leases.revokePrefix("")).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    });

    it("revokes exactly the leases of one identity", async () => {
      const one = await tokenFor("entity-1");
      const ten = await tokenFor("entity-10");
      const oneAgain = await tokenFor("entity-1");
      const mine = await Promise.all([
        issue("t/creds/a", { token: one }),
        issue("t/creds/b", { token: oneAgain }),
      ]);
      const theirs = await issue("t/creds/a", { token: ten });
      expect(await broker.leases.revokeByIdentity("entity-1")).toMatchObject({ matched: 2, revoked: 2 });
      expect(new Set(subject.engine.revokeCalls.map((call) => call.id))).toEqual(
        new Set(mine.map((l) => l.id)),
      );
      expect(await broker.leases.lookup(theirs.id)).toBeDefined();
      expect(await broker.leases.revokeByIdentity("entity-1")).toMatchObject({ matched: 0 });
    });

    it("revokes a token's leases when the token is revoked, and no others", async () => {
      const holder = await tokenFor("entity-h");
      const bystander = await tokenFor("entity-b");
      const mine = await Promise.all([
        issue("t/creds/a", { token: holder }),
        issue("t/creds/b", { token: holder }),
      ]);
      const theirs = await issue("t/creds/a", { token: bystander });
      await broker.tokens.revoke(holder);
      expect(new Set(subject.engine.revokeCalls.map((call) => call.id))).toEqual(
        new Set(mine.map((l) => l.id)),
      );
      expect(await broker.leases.lookup(theirs.id)).toBeDefined();
      expect(await broker.tokens.lookupByAccessor(holder.accessor)).toBeUndefined();
    });
  });

  describe("sweep", () => {
    it("revokes only what is due, and reports counts and lag", async () => {
      const due = await issue("t/creds/a", { ttlMs: 1_000 });
      const later = await issue("t/creds/b", { ttlMs: 120_000 });
      subject.clock.advance(3_000);
      const report = await broker.leases.sweep({ budgetMs: 10_000 });
      expect(report).toMatchObject({ due: 1, revoked: 1, failed: 0, busy: 0, complete: true });
      expect(report.lag_ms_max).toBeGreaterThanOrEqual(2_000);
      expect(report.lag_ms_mean).toBe(report.lag_ms_max);
      expect(subject.engine.revokeCalls.map((call) => call.id)).toEqual([due.id]);
      expect(await broker.leases.lookup(later.id)).toBeDefined();
      const audited = subject.audit.filter(
        (entry) => (entry.request as { operation: string }).operation === "revoke",
      );
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({
        request: { id: report.sweep_id, path: `sys/leases/revoke/${due.id}` },
        response: { status: 204, data: { expired: true } },
      });
    });

    it(
      `revokes ${scale.leases} leases expiring together, each exactly once, with two sweeps racing`,
      async () => {
        const count = scale.leases;
        const leases = await issueMany(count, "t/creds/batch", 1_000);
        subject.clock.advance(2_000);
        // Another revoker process on the same store.
        const other = await subject.process();
        const started = Date.now();
        const options = { budgetMs: SWEEP_BOUND_MS, concurrency: scale.concurrency };
        const reports = await Promise.all([broker.leases.sweep(options), other.broker.leases.sweep(options)]);
        const elapsed = Date.now() - started;
        expect(reports.every((report) => report.complete)).toBe(true);
        expect(reports[0]!.revoked + reports[1]!.revoked).toBe(count);
        expect(subject.engine.revokeCalls).toHaveLength(count);
        expect(new Set(subject.engine.revokeCalls.map((call) => call.id)).size).toBe(count);
        for (const lease of leases.slice(0, 50)) expect(subject.engine.revokeCount(lease.id)).toBe(1);
        expect(await expiryIndex(store)).toEqual([]);
        expect(await allItems(store, "lease/t")).toEqual([]);
        expect(elapsed).toBeLessThan(SWEEP_BOUND_MS);
        console.info(`${storage}: ${count} leases swept by two racing sweeps in ${elapsed} ms`);
      },
      SWEEP_BOUND_MS * 3,
    );

    it("stops at its time budget with nothing half-done, and the next sweep finishes", async () => {
      const leases = await issueMany(40, "t/creds/slow", 1_000);
      subject.clock.advance(2_000);
      // Each revocation takes ten seconds of the sweep's clock: four in flight exhaust a 35 s budget.
      subject.engine.behaviour.revoke = () => {
        subject.clock.advance(10_000);
        return undefined;
      };
      const first = await broker.leases.sweep({ budgetMs: 35_000, concurrency: 4 });
      expect(first).toMatchObject({ complete: false, failed: 0 });
      expect(first.revoked).toBeGreaterThanOrEqual(1);
      expect(first.revoked).toBeLessThanOrEqual(8);
      // Whatever was not revoked is whole: every remaining lease still has its index items.
      const left = 40 - first.revoked;
      expect(await expiryIndex(store)).toHaveLength(left);
      expect(await allItems(store, "lease/t")).toHaveLength(left);
      const second = await broker.leases.sweep({ budgetMs: 3_600_000, concurrency: scale.concurrency });
      expect(second).toMatchObject({ complete: true, revoked: left });
      for (const lease of leases) expect(subject.engine.revokeCount(lease.id)).toBe(1);
    });

    it("leaves a lease claimed by a live revoker alone, and takes it once the claim runs out", async () => {
      const lease = await issue("t/creds/a", { ttlMs: 1_000 });
      subject.clock.advance(2_000);
      const current = leaseFromStore(await store.get(leaseKey(lease.id)));
      const claimed = {
        ...current,
        revision: current.revision + 1,
        claim: { by: "another", until: subject.clock.now() + CLAIM_MS },
      };
      await store.write([{ op: "put", item: leaseToItem(claimed) }]);
      expect(await broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({ busy: 1, revoked: 0 });
      subject.clock.advance(CLAIM_MS + 1_000);
      expect(await broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({ busy: 0, revoked: 1 });
      expect(subject.engine.revokeCount(lease.id)).toBe(1);
    });

    it("removes an expiry entry that points at no lease", async () => {
      await store.write([
        { op: "put", item: { ...expiryKey("t/creds/a/ghost", subject.clock.now() - 1_000) } },
      ]);
      const report = await broker.leases.sweep({ budgetMs: 10_000 });
      expect(report).toMatchObject({ orphans: 1, revoked: 0 });
      expect(await expiryIndex(store)).toEqual([]);
    });

    it("reports a lease whose mount is gone as failed, and keeps retrying it", async () => {
      const lease = await issue("t/creds/a", { ttlMs: 1_000 });
      await broker.mounts.disable("t");
      subject.clock.advance(6_000); // past the mount table cache
      const report = await broker.leases.sweep({ budgetMs: 10_000 });
      expect(report.failed).toBe(1);
      expect(leaseFromStore(await store.get(leaseKey(lease.id)))).toMatchObject({ attempts: 1 });
      expect(
        subject.logs.some(
          (event) => event.level === "warn" && String(event.error).includes("no longer exists"),
        ),
      ).toBe(true);
    });
  });
}

function leaseFromStore(item: Item | undefined): Lease {
  if (!item) throw new Error("no lease item");
  return leaseFromItem(item);
}

describe("leases on SQLite", () => {
  leaseContract(async () => openSqliteStore({ path: ":memory:" }), "sqlite", {
    leases: 2_000,
    concurrency: 32,
  });
});

describe.skipIf(!motoAvailable())("leases on DynamoDB (moto)", () => {
  const moto = useMoto();
  let client: DynamoDBClient;
  let tables = 0;
  beforeAll(async () => {
    client = new DynamoDBClient({
      ...motoClientConfig(moto),
      requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
    });
  }, 60_000);
  afterEach(async () => {
    await moto.reset();
  });
  afterAll(async () => {
    client?.destroy();
  });

  leaseContract(
    async () => {
      const tableName = `leases-${++tables}`;
      await createTable(client, tableName);
      return createDynamoDbStore({ client, tableName });
    },
    "dynamodb",
    { leases: 100, concurrency: 4 },
  );
});
