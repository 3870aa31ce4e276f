/**
 * Random interleavings of issuing, renewing, revoking, queuing, sweeping and revokers that
 * die mid-revocation, with the clock moving and faults injected at store calls (and engine
 * failures), checked against a reference model of the credentials an engine holds. Run on
 * every store: SQLite (faults at its port) and DynamoDB on moto (faults on the wire,
 * through the fault proxy). fast-check's scheduler decides in which order the store calls
 * of concurrent operations run.
 *
 * After every step:
 * - no lease without its credential: a live lease that no revoker holds or was asked to
 *   revoke has a live credential (unless its issue failed, which left it harmless);
 * - no credential without its lease: a live credential has a live lease;
 * - every revoke that answered 204 found its credential ended, and its lease never comes back.
 * After the run, with faults off and every lease expired, sweeps leave no lease and no
 * live credential.
 *
 * `npm test` runs a bounded number of cases; `npm run test:leases-long` runs many more
 * (COFFER_PROPERTY_RUNS).
 */
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsRetryConfig } from "../../shared/aws-retry.ts";
import type { Broker } from "../../shared/broker.ts";
import type { Mount } from "../../shared/engines/mount.ts";
import { invalidRequest } from "../../shared/errors.ts";
import { leaseFromItem } from "../../shared/leases/lease.ts";
import { EXPIRY_SHARDS, expiryPartition, leaseKey } from "../../shared/leases/lease-keys.ts";
import { CLAIM_MS, openLease } from "../../shared/leases/revocation.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { revokeResponse } from "../../shared/sys/leases.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { openLeaseDeployment } from "../support/lease-deployment.ts";
import { TEST_LEASE_TYPE } from "../support/lease-test-engine.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { proxyStoreFaults, type StoreFault, storeWithFaults } from "../support/store-faults.ts";
import { allItems } from "../support/store-items.ts";

/** Cases per store in the long mode (npm run test:leases-long); npm test runs fewer, within a time limit. */
const LONG_RUNS = Number(process.env.COFFER_PROPERTY_RUNS ?? 0);

type Op =
  | { kind: "issue"; ttlSeconds: number; followUp: boolean }
  | { kind: "renew"; lease: number; increment: number }
  | { kind: "revoke"; lease: number }
  | { kind: "queue"; lease: number }
  | { kind: "revoke-prefix" }
  | { kind: "sweep" }
  /** A revoker whose process dies after `calls` more store calls. */
  | { kind: "crash"; lease: number; calls: number }
  | { kind: "advance"; ms: number };

const leaseIndex = fc.nat({ max: 20 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("issue" as const),
      ttlSeconds: fc.constantFrom(5, 60, 600),
      followUp: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("renew" as const),
      lease: leaseIndex,
      increment: fc.constantFrom(30, 600),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("revoke" as const), lease: leaseIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("queue" as const), lease: leaseIndex }) },
  { weight: 1, arbitrary: fc.constant({ kind: "revoke-prefix" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "sweep" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      lease: leaseIndex,
      calls: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.constantFrom(1_000, 30_000, CLAIM_MS + 1_000, 700_000),
    }),
  },
);

const storeFault: fc.Arbitrary<StoreFault> = fc.oneof(
  { weight: 14, arbitrary: fc.constant("none" as const) },
  { weight: 1, arbitrary: fc.constant("unavailable" as const) },
  { weight: 1, arbitrary: fc.constant("applied-unavailable" as const) },
  { weight: 2, arbitrary: fc.constant("applied-retried" as const) },
);

interface Scenario {
  /** Each step's operations run concurrently. */
  steps: Op[][];
  /** The fault of each store call during the steps, taken in turn and over again. */
  storeFaults: StoreFault[];
  /** Whether each engine revocation during the steps fails, likewise. */
  engineFailures: boolean[];
}

/** The n-th of `values`, cycling; `otherwise` when there are none. */
const cycle = <T>(values: readonly T[], n: number, otherwise: T): T =>
  values.length === 0 ? otherwise : (values[n % values.length] as T);

const scenario: fc.Arbitrary<Scenario> = fc.record({
  steps: fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }),
  storeFaults: fc.array(storeFault, { maxLength: 60 }),
  engineFailures: fc.array(
    fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    { maxLength: 20 },
  ),
});

/** What a store under test offers: a fresh store per case, with faults injected per call. */
interface StoreUnderTest {
  storage: string;
  open(nextFault: () => StoreFault): Promise<{ raw: ItemStore; faulty: ItemStore }>;
}

/** `inner`, with `before` awaited ahead of every call. */
function beforeEachCall(inner: ItemStore, before: () => Promise<void>): ItemStore {
  return {
    async get(key) {
      await before();
      return inner.get(key);
    },
    async batchGet(keys) {
      await before();
      return inner.batchGet(keys);
    },
    async query(input) {
      await before();
      return inner.query(input);
    },
    async write(ops) {
      await before();
      return inner.write(ops);
    },
    close: () => inner.close(),
  };
}

/** Runs each store call only when the scheduler lets it, so concurrent operations interleave at random. */
const scheduled = (inner: ItemStore, scheduler: () => fc.Scheduler | undefined) =>
  beforeEachCall(inner, async () => {
    await scheduler()?.schedule(Promise.resolve());
  });

/** A revoker's process: after `arm(n)`, its n+1-th store call and every later one find it dead. */
function mortal(inner: ItemStore) {
  let left = Number.POSITIVE_INFINITY;
  const store = beforeEachCall(inner, async () => {
    if (left <= 0) throw new Error("the revoker's process is dead");
    left--;
  });
  return {
    store,
    arm(calls: number) {
      left = calls;
    },
  };
}

async function runCase(
  under: StoreUnderTest,
  { steps, storeFaults, engineFailures }: Scenario,
  scheduler: fc.Scheduler,
): Promise<void> {
  // Faults and scheduling apply to the steps only, not to setting up or checking.
  let active = false;
  let faultAt = 0;
  let failureAt = 0;
  const nextFault = (): StoreFault => (active ? cycle(storeFaults, faultAt++, "none") : "none");
  const { raw, faulty } = await under.open(nextFault);
  const store = scheduled(faulty, () => (active ? scheduler : undefined));
  const subject = await openLeaseDeployment({ store, storage: under.storage });
  const { broker, engine, clock } = subject;
  const mount = (await broker.mounts.resolve("t/creds/x"))?.mount as Mount;
  const dying = mortal(store);
  const doomed: Broker = (await subject.process({ store: dying.store })).broker;

  // The engine's backend: credentials by name, created after their lease is written.
  const credentials = new Map<string, "live" | "revoked">();
  /** Credentials whose issue failed: their lease, if written, has nothing behind it. */
  const abandoned = new Set<string>();
  const issued: { id: string; credential: string }[] = [];
  /** Leases a revoke answered 204 for. */
  const ended = new Set<string>();
  const violations: string[] = [];

  engine.behaviour.revoke = (view, now) => {
    if (active && cycle(engineFailures, failureAt++, false)) throw new Error("the backend is down");
    if (view.revokedAt !== null) return undefined; // the clean-up call: nothing is left
    const name = String(view.data.credential);
    if (credentials.has(name)) credentials.set(name, "revoked");
    return view.data.followUp === true && now < view.expiresAt ? { followUpAt: view.expiresAt } : undefined;
  };
  engine.behaviour.renew = (view) => {
    if (credentials.get(String(view.data.credential)) !== "live") throw invalidRequest("no such credential");
  };

  const pick = (index: number) => issued[index % Math.max(1, issued.length)];
  const status = (summary: Parameters<typeof revokeResponse>[0]) => {
    try {
      return revokeResponse(summary, true).status;
    } catch {
      return 503;
    }
  };
  const answeredRevoked = (ids: readonly string[]) => {
    for (const id of ids) {
      ended.add(id);
      const credential = issued.find((lease) => lease.id === id)?.credential;
      if (credential && credentials.get(credential) === "live") {
        violations.push(`204 for ${id} while its credential ${credential} is live`);
      }
    }
  };

  let names = 0;
  let requests = 0;
  async function run(step: Op): Promise<void> {
    switch (step.kind) {
      case "issue": {
        // As the database engine: the lease first, then the credential, then a check
        // that nobody revoked the lease meanwhile (if in doubt, the credential goes).
        const credential = `c${++names}`;
        let id: string;
        try {
          id = (
            await broker.leases.issue({
              path: "t/creds/p",
              type: TEST_LEASE_TYPE,
              mount,
              caller: undefined,
              expiresAt: clock.now() + step.ttlSeconds * 1000,
              maxExpiresAt: clock.now() + 3_600_000,
              renewable: true,
              data: { credential, followUp: step.followUp },
            })
          ).id;
        } catch {
          abandoned.add(credential);
          return;
        }
        issued.push({ id, credential });
        credentials.set(credential, "live");
        const current = await broker.leases.lookup(id).catch(() => undefined);
        if (!current || current.claim !== null || current.revokeRequested) {
          credentials.set(credential, "revoked");
          abandoned.add(credential);
        }
        return;
      }
      case "renew": {
        const lease = pick(step.lease);
        if (lease) await broker.leases.renew(lease.id, step.increment).catch(() => undefined);
        return;
      }
      case "revoke": {
        const lease = pick(step.lease);
        if (!lease) return;
        const summary = await broker.leases
          .revoke(lease.id, { requestId: `r${++requests}`, waitMs: 300 })
          .catch(() => undefined);
        if (summary && status(summary) === 204) answeredRevoked([lease.id]);
        return;
      }
      case "queue": {
        const lease = pick(step.lease);
        if (lease) await broker.leases.revoke(lease.id, { sync: false }).catch(() => undefined);
        return;
      }
      case "revoke-prefix": {
        const before = issued.map((lease) => lease.id);
        const summary = await broker.leases
          .revokePrefix("t/creds/", { requestId: `r${++requests}`, waitMs: 300 })
          .catch(() => undefined);
        if (summary && status(summary) === 204) answeredRevoked(before);
        return;
      }
      case "sweep":
        await broker.leases.sweep({ budgetMs: 10_000 }).catch(() => undefined);
        return;
      case "crash": {
        const lease = pick(step.lease);
        if (!lease) return;
        dying.arm(step.calls);
        await doomed.leases
          .revoke(lease.id, { requestId: `crashed-${++requests}`, waitMs: 0 })
          .catch(() => undefined);
        return;
      }
      case "advance":
        clock.advance(step.ms);
        return;
    }
  }

  async function check(when: string): Promise<void> {
    const stateOf = new Map<string, string>();
    for (const item of await allItems(raw, "lease/t")) {
      const lease = leaseFromItem(item);
      const credential = String((await openLease(broker, lease)).data.credential);
      stateOf.set(credential, lease.state);
      const held = lease.claim !== null || lease.revokeRequested;
      if (lease.state === "active" && !held && !abandoned.has(credential)) {
        if (credentials.get(credential) !== "live")
          violations.push(`${when}: lease ${lease.id} without its credential ${credential}`);
      }
      if (lease.state === "revoked" && credentials.get(credential) === "live")
        violations.push(`${when}: lease ${lease.id} revoked early, but ${credential} is live`);
    }
    for (const [credential, state] of credentials) {
      if (state === "live" && stateOf.get(credential) !== "active")
        violations.push(`${when}: credential ${credential} without its lease`);
    }
    for (const id of ended) {
      const item = await raw.get(leaseKey(id));
      if (item && leaseFromItem(item).state === "active")
        violations.push(`${when}: lease ${id} answered 204 but is live again`);
    }
  }

  try {
    for (const [index, step] of steps.entries()) {
      active = true;
      await scheduler.waitFor(Promise.all(step.map(run)));
      active = false;
      await check(`after step ${index + 1}`);
      if (violations.length > 0) break;
    }
    if (violations.length === 0) {
      // Quiescence: everything expired, nothing failing; sweeps leave nothing behind.
      clock.advance(2 * 3_600_000 + CLAIM_MS);
      for (let sweep = 0; sweep < 5; sweep++) {
        const report = await broker.leases.sweep({ budgetMs: 60_000 });
        if (report.complete && report.due === 0) break;
        clock.advance(CLAIM_MS);
      }
      await check("at the end");
      if ((await allItems(raw, "lease/t")).length > 0) violations.push("leases left at the end");
      for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
        if ((await allItems(raw, expiryPartition(shard))).length > 0)
          violations.push(`expiry entries left in shard ${shard}`);
      }
      for (const [credential, state] of credentials) {
        if (state === "live") violations.push(`credential ${credential} still live at the end`);
      }
    }
  } finally {
    active = false;
    await raw.close();
  }
  expect(violations).toEqual([]);
}

function leaseProperty(under: StoreUnderTest, bounded: { runs: number; timeLimitMs: number }) {
  const runs = LONG_RUNS > 0 ? LONG_RUNS : bounded.runs;
  it(
    `keeps leases and credentials together under random interleavings and faults (${runs} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, fc.scheduler(), (cases, scheduler) => runCase(under, cases, scheduler)),
        {
          numRuns: runs,
          ...(LONG_RUNS > 0
            ? {}
            : { interruptAfterTimeLimit: bounded.timeLimitMs, markInterruptAsFailure: false }),
        },
      );
    },
    LONG_RUNS > 0 ? LONG_RUNS * 60_000 : bounded.timeLimitMs * 3,
  );
}

describe("lease properties on SQLite", () => {
  leaseProperty(
    {
      storage: "sqlite",
      async open(nextFault) {
        const raw = openSqliteStore({ path: ":memory:" });
        return { raw, faulty: storeWithFaults(raw, nextFault) };
      },
    },
    { runs: 40, timeLimitMs: 20_000 },
  );
});

describe.skipIf(!motoAvailable())("lease properties on DynamoDB (moto)", () => {
  const moto = useMoto();
  let proxy: FaultProxy;
  let tables = 0;
  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
  });

  leaseProperty(
    {
      storage: "dynamodb",
      async open(nextFault) {
        const tableName = `property-${++tables}`;
        const direct = new DynamoDBClient(motoClientConfig(moto));
        await createTable(direct, tableName);
        proxy.clear();
        proxy.inject(proxyStoreFaults(nextFault));
        const client = new DynamoDBClient({
          ...motoClientConfig(moto),
          endpoint: proxy.endpoint,
          ...awsRetryConfig(),
          // moto is not safe with concurrent transactions (test/contract/leases.test.ts).
          requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
        });
        return {
          raw: createDynamoDbStore({ client: direct, tableName }),
          faulty: createDynamoDbStore({ client, tableName }),
        };
      },
    },
    { runs: 6, timeLimitMs: 40_000 },
  );
});
