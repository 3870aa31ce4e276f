/**
 * Section 5: the revoker. N leases expiring at the same instant, revoked by the real lease
 * manager's sweep, either back to back or as the scheduled function runs it: one sweep a
 * minute, each with the function's budget (stacks/revoker.ts), the rest of the minute
 * skipped on the broker's clock instead of waited for. Reports leases revoked per second
 * of sweeping, the CPU time per lease, the lag of each lease (revocation time - expiry,
 * on the broker's clock, so it includes the skipped part of each minute), and, when the
 * store counts them, the DynamoDB calls and request units per lease.
 *
 * The engine is the lease test engine, whose revoke does no remote work, as an STS
 * lease's revoke at expiry does none (shared/engines/aws/sts-lease.ts): this measures the
 * lease manager and the store. Each lease is issued with a token's identity, so it has
 * its four items (lease, expiry, identity and token index), and data the size of an STS
 * lease's (on moto, without a token: two items each, as moto copies its tables on every
 * transaction).
 *
 * Each row checks the lease manager's contract: every lease revoked at least once, none
 * left in the store, nothing else revoked. A revocation that outlives its claim (a store
 * write failing after the engine call, or a store so slow that the claim runs out, as on
 * moto behind one connection on a loaded machine) is revoked again by a later sweep; the
 * row counts those repeats instead of failing.
 */

import { SAFETY_MARGIN_MS } from "../../functions/revoker.ts";
import { callerOf, type TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { Broker } from "../../shared/broker.ts";
import { limitConcurrency } from "../../shared/leases/concurrency-limit.ts";
import { leasePartition } from "../../shared/leases/lease-keys.ts";
import { SWEEP_CONCURRENCY } from "../../shared/leases/sweep.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { initialize } from "../../shared/sys/init.ts";
import { TEST_LEASE_TYPE } from "../../test/support/lease-test-engine.ts";
import { openBenchBroker } from "./bench-broker.ts";
import type { LatencyStore } from "./latency-store.ts";
import { cpuMs, percentile, round } from "./measure.ts";
import type { CountingStore, RequestUnits } from "./request-units.ts";

/**
 * The revoker function's timeout, REVOKER_TIMEOUT_SECONDS in stacks/revoker.ts (which
 * type-checks only under SST's globals, so it is not imported here).
 */
const REVOKER_TIMEOUT_MS = 60_000;
/** How the scheduled function sweeps: its timeout minus its margin per run, one run a minute. */
export const SCHEDULED = { budgetMs: REVOKER_TIMEOUT_MS - SAFETY_MARGIN_MS, periodMs: 60_000 } as const;
/** Sweeps run one after the other with a budget none of them reaches. */
export const BACK_TO_BACK = { budgetMs: 600_000, periodMs: 0 } as const;

/** Where the leases are issued: the lease test engine mounted at bench/. */
const BENCH_LEASE_PATH = "bench/creds/deploy";

/** Distinct tokens (workload identities) the leases are spread over. */
const IDENTITIES = 100;

export interface RevokerResult {
  store: string;
  leases: number;
  concurrency: number;
  schedule: "every minute" | "back to back";
  sweeps: number;
  /** Wall-clock seconds spent sweeping (the skipped part of each minute excluded). */
  sweepSeconds: number;
  revokedPerSecond: number;
  cpuMsPerLease: number;
  /** Audit record bytes per revocation: what CloudWatch Logs ingests. */
  auditBytesPerLease: number;
  lagP50S: number;
  lagP99S: number;
  /** When the last lease was revoked, seconds after they all expired. */
  lagMaxS: number;
  /** DynamoDB calls and request units per lease, when the store counted them. */
  perLease?: { calls: Record<string, number>; readUnits: number; writeUnits: number };
  /** What the injected store latency actually was (a loaded machine fires timers late). */
  storeLatencyMs?: { p50: number; p99: number };
  /**
   * Engine calls beyond one per lease. Revocation is at least once: a lease whose revoker
   * did not finish within its claim (a failed store write after the engine call, or a
   * revoker slowed past CLAIM_MS) is revoked again once the claim runs out. 0 on a store
   * that neither fails nor stalls.
   */
  repeatedRevocations: number;
  /** Sweep steps that failed (each left its lease due, to be retried). */
  failedSteps: number;
  /** Lease log lines at warn or error, the first few. */
  problems: string[];
}

export interface RevokerOptions {
  store: ItemStore;
  storage: string;
  leases: number;
  concurrency?: number;
  schedule?: { budgetMs: number; periodMs: number };
  /** Set when `store` injects latency: off while the leases are issued. */
  latency?: LatencyStore;
  /** Set when `store` counts request units: reset once the leases are issued. */
  counting?: CountingStore;
  /** Leases issued at once while setting up. */
  issueConcurrency?: number;
  /** Login tokens the leases are spread over; 0 issues them without a token (two items each). */
  identities?: number;
  /** Told when the leases are issued and after each sweep, for runs that take minutes. */
  progress?: (message: string) => void;
}

export async function benchRevoker(options: RevokerOptions): Promise<RevokerResult> {
  const { leases } = options;
  const concurrency = options.concurrency ?? SWEEP_CONCURRENCY;
  const schedule = options.schedule ?? BACK_TO_BACK;
  const { broker, engine, clock, audit, leaseProblems } = await openBenchBroker(
    options.store,
    options.storage,
  );
  await initialize(broker);
  await broker.mounts.enable({ path: "bench", type: "leasing" });
  if (options.latency) options.latency.enabled = false;
  const expiresAt = clock.now() + 3_600_000;
  const issuing = performance.now();
  const issued = await issueLeases(broker, leases, expiresAt, {
    parallel: options.issueConcurrency ?? 8,
    identities: options.identities ?? IDENTITIES,
  });
  options.progress?.(`issued ${leases} leases in ${round((performance.now() - issuing) / 1000, 1)} s`);
  if (options.latency) {
    options.latency.enabled = true;
    options.latency.reset();
  }
  options.counting?.reset();
  const auditBytesBefore = audit.bytes;

  // The lag of each lease's first revocation; a second one is counted, not measured.
  const lags = new Map<string, number>();
  let engineCalls = 0;
  let strangers = 0;
  engine.behaviour.revoke = (lease, now) => {
    engineCalls++;
    if (!issued.has(lease.id)) strangers++;
    else if (!lags.has(lease.id)) lags.set(lease.id, now - lease.expiresAt);
    return undefined;
  };
  // The first sweep starts the moment they expire: the lag measures revocation, not issuance.
  clock.advance(expiresAt - clock.now());
  let sweeps = 0;
  let failed = 0;
  const { cpuMs: cpu, wallMs } = await cpuMs(async () => {
    for (;;) {
      sweeps++;
      const startedAt = clock.now();
      const report = await broker.leases.sweep({ budgetMs: schedule.budgetMs, concurrency });
      failed += report.failed;
      options.progress?.(
        `sweep ${sweeps} at +${round((startedAt - expiresAt) / 1000, 0)} s: ${report.revoked} revoked of ${report.due} due in ${round(report.duration_ms / 1000, 1)} s${report.complete ? "" : ", out of budget"}`,
      );
      if (report.complete && report.due === 0) break;
      if (sweeps > 1000) throw new Error("sweeps do not finish");
      if (schedule.periodMs > 0) clock.advance(Math.max(0, startedAt + schedule.periodMs - clock.now()));
    }
  });
  // The contract is at least once: every lease revoked, none left behind, nothing else
  // revoked. More calls than leases are counted and reported, not an error.
  const left = await broker.store.query({ pk: leasePartition(BENCH_LEASE_PATH), limit: 1 });
  if (lags.size !== leases || strangers > 0 || left.items.length > 0) {
    throw new Error(
      `revoked ${lags.size} of ${leases} leases (${strangers} calls for leases not issued here, ${left.items.length > 0 ? "some" : "none"} left in the store); ${failed} sweep steps failed; logged: ${leaseProblems.slice(0, 3).join("; ")}`,
    );
  }
  const sorted = [...lags.values()].sort((a, b) => a - b);
  const waited = options.latency ? [...options.latency.waitedMs].sort((a, b) => a - b) : [];
  return {
    store: options.storage,
    leases,
    concurrency,
    schedule: schedule.periodMs > 0 ? "every minute" : "back to back",
    sweeps,
    sweepSeconds: round(wallMs / 1000, 1),
    revokedPerSecond: round((leases / wallMs) * 1000, 0),
    cpuMsPerLease: round(cpu / leases, 3),
    auditBytesPerLease: Math.round((audit.bytes - auditBytesBefore) / leases),
    lagP50S: round(percentile(sorted, 50) / 1000, 1),
    lagP99S: round(percentile(sorted, 99) / 1000, 1),
    lagMaxS: round((sorted[sorted.length - 1] as number) / 1000, 1),
    perLease: options.counting && perLease(options.counting.units, leases),
    storeLatencyMs: options.latency && {
      p50: round(percentile(waited, 50), 1),
      p99: round(percentile(waited, 99), 1),
    },
    repeatedRevocations: engineCalls - leases,
    failedSteps: failed,
    problems: leaseProblems.slice(0, 5),
  };
}

function perLease(units: RequestUnits, leases: number) {
  return {
    calls: Object.fromEntries(Object.entries(units.calls).map(([name, n]) => [name, round(n / leases, 3)])),
    readUnits: round(units.readUnits / leases, 3),
    writeUnits: round(units.writeUnits / leases, 3),
  };
}

/**
 * `count` leases, all expiring at `expiresAt`, spread over `identities` login tokens;
 * returns their ids.
 */
async function issueLeases(
  broker: Broker,
  count: number,
  expiresAt: number,
  { parallel, identities }: { parallel: number; identities: number },
): Promise<Set<string>> {
  const mount = (await broker.mounts.resolve("bench/creds/x"))?.mount;
  if (!mount) throw new Error("no bench mount");
  const tokens: TokenRecord[] = [];
  for (let i = 0; i < Math.min(identities, count); i++) {
    const { record } = await broker.tokens.create({
      policies: ["default"],
      displayName: `kubernetes-bench-app-${i}`,
      path: "auth/kubernetes/login",
      ttl: 86_400,
      identity: {
        entityId: crypto.randomUUID(),
        mountAccessor: "auth_kubernetes_bench",
        aliasName: crypto.randomUUID(),
        metadata: { service_account_name: `app-${i}`, service_account_namespace: "bench" },
      },
    });
    tokens.push(record);
  }
  const limit = limitConcurrency(parallel);
  const now = broker.now();
  const leases = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() =>
        broker.leases.issue({
          path: BENCH_LEASE_PATH,
          type: TEST_LEASE_TYPE,
          mount,
          caller: tokens.length > 0 ? callerOf(tokens[i % tokens.length] as TokenRecord) : undefined,
          expiresAt,
          renewable: true,
          // The shape and size of an STS lease's revoke data.
          data: {
            role_arn: "arn:aws:iam::123456789012:role/deploy",
            user_id: `AROA3XFRBF535PLBIFPI4:coffer-bench-app-${i}-${now}`,
            expiration: expiresAt,
            issued: now,
          },
        }),
      ),
    ),
  );
  return new Set(leases.map((lease) => lease.id));
}
