/**
 * Section 8: what running Coffer costs, priced from what this run measured — DynamoDB
 * calls and request units, round trips, STS calls, audit bytes and CPU time per
 * operation (operation-costs.ts), the revoker's per-lease figures (revoker.ts), the cold
 * start (cold-start.ts) and KMS calls (kms-calls.ts) — at AWS list prices, next to AWS
 * Secrets Manager and a three-node Vault cluster on EC2.
 *
 * The modelled Lambda duration of an operation is its round trips on the critical path at
 * the latency model's mean, plus its STS calls at an assumed latency, plus its CPU time
 * scaled to the function's share of a vCPU (Lambda gives 1 vCPU per 1,769 MB). The CPU
 * time is the least contended block's (operation-costs.ts), as measured on the latency
 * model (SQLite underneath) plus, for each store call, what a DynamoDB client call costs
 * beyond a SQLite call (store-call-cpu.ts).
 */
import { DYNAMODB_LATENCY, logNormal } from "./latency-store.ts";
import { round } from "./measure.ts";
import type { OperationCost } from "./operation-costs.ts";
import { type RevokerResult, SCHEDULED } from "./revoker.ts";
import type { StoreCallCpu } from "./store-call-cpu.ts";

/** List prices, us-east-1, as AWS published them in 2025. */
export const PRICES = {
  date: "2025 (us-east-1 list prices)",
  lambdaPerRequest: 0.2 / 1e6,
  /** arm64, the first 6 billion GB-seconds a month. */
  lambdaPerGbSecond: 0.000_013_333_4,
  /** On demand, since the November 2024 reduction. */
  dynamoDbPerReadUnit: 0.125 / 1e6,
  dynamoDbPerWriteUnit: 0.625 / 1e6,
  dynamoDbPerGbMonth: 0.25,
  kmsPerRequest: 0.03 / 1e4,
  kmsPerKeyMonth: 1,
  /** Standard log class; each event is billed 26 bytes more than its text. */
  logsPerGbIngested: 0.5,
  logEventOverheadBytes: 26,
  alarmPerMonth: 0.1,
  customMetricPerMonth: 0.3,
  secretsManagerPerSecretMonth: 0.4,
  secretsManagerPerRequest: 0.05 / 1e4,
  /** m5.large (2 vCPU, 8 GiB), on demand, Linux. */
  ec2PerHour: 0.096,
  ebsGp3PerGbMonth: 0.08,
  nlbPerHour: 0.0225,
  nlbPerLcuHour: 0.006,
} as const;

/** What the model assumes rather than measures. */
export const ASSUMPTIONS = {
  apiMemoryMb: 512,
  /** REVOKER_MEMORY in stacks/revoker.ts: one vCPU. */
  revokerMemoryMb: 1769,
  mbPerVcpu: 1769,
  /** START, END and REPORT lines Lambda writes per invocation. */
  platformLogBytesPerInvocation: 300,
  platformLogEventsPerInvocation: 3,
  /** AssumeRole from Lambda in the same region (moto answers on loopback, which says nothing). */
  stsLatencyMs: 25,
  hoursPerMonth: 730,
  daysPerMonth: 30,
  /** An idle execution environment is reclaimed after about ten minutes. */
  maxColdStartsPerDay: 144,
  /** Secrets a Secrets Manager deployment would hold for the same workload. */
  secrets: 20,
  vaultNodes: 3,
  vaultDiskGb: 50,
  /**
   * The stage's fixed monitoring (docs/deploy.md): metrics in ten alarms, two of which
   * combine two. The rejected-item count is published only when an item fails
   * authentication, so it costs nothing as a metric until then.
   */
  alarms: 12,
  /** The functions' Embedded Metric Format metrics (functions/metrics.ts). */
  customMetrics: 13,
} as const;

export interface OperationPrice {
  operation: string;
  modelledMs: number;
  /** Dollars per million operations, by what bills them. */
  lambda: number;
  dynamoDb: number;
  logs: number;
  total: number;
}

export interface ScenarioPrice {
  readsPerDay: number;
  /** Dollars a month. */
  coffer: number;
  secretsManager: number;
  vault: number;
}

/** The scheduled revoker on Lambda: how fast it revokes, and when 100,000 due at once are all gone. */
export interface RevokerProjection {
  memoryMb: number;
  cpuMsPerLease: number;
  /** Whichever bounds it: CPU at the memory's vCPU share, or round trips over the concurrency. */
  bound: "cpu" | "latency";
  perSecond: number;
  leases: number;
  allRevokedAfterS: number;
}

export interface CostModel {
  prices: typeof PRICES;
  assumptions: typeof ASSUMPTIONS;
  /** CPU milliseconds a DynamoDB client call costs beyond a SQLite call, by kind of call. */
  extraCpuMsPerDynamoDbCall: ExtraCpu;
  revokerOnLambda: RevokerProjection[];
  perMillion: OperationPrice[];
  coldStart: { modelledMs: number; dollars: number };
  fixedPerMonth: { revokerTicks: number; kmsKey: number; monitoring: number; total: number };
  scenarios: ScenarioPrice[];
}

const meanLatencyMs = logNormal(DYNAMODB_LATENCY).meanMs;
const vcpu = (memoryMb: number) => Math.min(1, memoryMb / ASSUMPTIONS.mbPerVcpu);
const lambdaDollars = (ms: number, memoryMb: number) =>
  PRICES.lambdaPerRequest + Math.ceil(ms) * (memoryMb / 1024) * (PRICES.lambdaPerGbSecond / 1000);
const logDollars = (bytes: number, events: number) =>
  ((bytes + events * PRICES.logEventOverheadBytes) / 2 ** 30) * PRICES.logsPerGbIngested;

const callsOf = (calls: Record<string, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0);

/** What each kind of call costs the DynamoDB client beyond SQLite, in CPU milliseconds. */
export type ExtraCpu = Record<"get" | "query" | "put" | "transaction", number>;

const NO_EXTRA_CPU: ExtraCpu = { get: 0, query: 0, put: 0, transaction: 0 };

/** Which measured kind of call each DynamoDB operation is. */
const KIND_OF: Record<string, keyof ExtraCpu> = {
  GetItem: "get",
  BatchGetItem: "get",
  Query: "query",
  PutItem: "put",
  DeleteItem: "put",
  TransactWriteItems: "transaction",
};

const extraCpuMs = (calls: Record<string, number>, extra: ExtraCpu) =>
  Object.entries(calls).reduce((sum, [operation, n]) => sum + n * extra[KIND_OF[operation] ?? "get"], 0);

function priceOperation(
  cost: OperationCost,
  extra: ExtraCpu,
  memoryMb: number = ASSUMPTIONS.apiMemoryMb,
): OperationPrice {
  const cpuMs = cost.cpuMsMin + extraCpuMs(cost.calls, extra);
  const modelledMs =
    cost.roundTrips * meanLatencyMs + cost.stsCalls * ASSUMPTIONS.stsLatencyMs + cpuMs / vcpu(memoryMb);
  const lambda = lambdaDollars(modelledMs, memoryMb);
  const dynamoDb =
    cost.readUnits * PRICES.dynamoDbPerReadUnit + cost.writeUnits * PRICES.dynamoDbPerWriteUnit;
  const logs = logDollars(
    cost.auditBytes + ASSUMPTIONS.platformLogBytesPerInvocation,
    cost.logEvents + ASSUMPTIONS.platformLogEventsPerInvocation,
  );
  const million = (dollars: number) => round(dollars * 1e6, 2);
  return {
    operation: cost.operation,
    modelledMs: round(modelledMs, 1),
    lambda: million(lambda),
    dynamoDb: million(dynamoDb),
    logs: million(logs),
    total: million(lambda + dynamoDb + logs),
  };
}

/**
 * A revocation runs inside the revoker's invocation: no request of its own; its share of
 * the sweep's duration, whichever bounds it on Lambda — its CPU time at the revoker's
 * share of a vCPU, or its store calls at the latency model's mean over the sweep's
 * concurrency; its request units and its audit record.
 */
function priceRevocation(revoker: RevokerResult, extra: ExtraCpu): OperationPrice {
  const perLease = revoker.perLease ?? { calls: {}, readUnits: 0, writeUnits: 0 };
  const projection = projectRevoker(revoker, extra, ASSUMPTIONS.revokerMemoryMb, revoker.leases);
  const modelledMs = 1000 / projection.perSecond;
  const lambda = modelledMs * (ASSUMPTIONS.revokerMemoryMb / 1024) * (PRICES.lambdaPerGbSecond / 1000);
  const dynamoDb =
    perLease.readUnits * PRICES.dynamoDbPerReadUnit + perLease.writeUnits * PRICES.dynamoDbPerWriteUnit;
  const logs = logDollars(revoker.auditBytesPerLease, 1);
  const million = (dollars: number) => round(dollars * 1e6, 2);
  return {
    operation: "revocation (by the revoker)",
    modelledMs: round(modelledMs, 1),
    lambda: million(lambda),
    dynamoDb: million(dynamoDb),
    logs: million(logs),
    total: million(lambda + dynamoDb + logs),
  };
}

/**
 * The scheduled revoker's sweep on Lambda at `memoryMb`: each lease costs its CPU time at
 * the function's vCPU share, or its store calls at the latency model's mean spread over
 * the sweep's concurrency, whichever is longer; each minute sweeps for the budget.
 */
export function projectRevoker(
  revoker: RevokerResult,
  extra: ExtraCpu,
  memoryMb: number,
  leases: number,
): RevokerProjection {
  const perLease = revoker.perLease?.calls ?? {};
  const calls = callsOf(perLease);
  const cpuMsPerLease = revoker.cpuMsPerLease + extraCpuMs(perLease, extra);
  const cpuBoundMs = cpuMsPerLease / vcpu(memoryMb);
  const latencyBoundMs = (calls * meanLatencyMs) / revoker.concurrency;
  const perSecond = 1000 / Math.max(cpuBoundMs, latencyBoundMs);
  const perSweep = (perSecond * SCHEDULED.budgetMs) / 1000;
  const fullSweeps = Math.floor(leases / perSweep);
  const allRevokedAfterS =
    fullSweeps * (SCHEDULED.periodMs / 1000) + (leases - fullSweeps * perSweep) / perSecond;
  return {
    memoryMb,
    cpuMsPerLease: round(cpuMsPerLease, 2),
    bound: cpuBoundMs >= latencyBoundMs ? "cpu" : "latency",
    perSecond: round(perSecond, 0),
    leases,
    allRevokedAfterS: round(allRevokedAfterS, 0),
  };
}

export function costModel(inputs: {
  operations: OperationCost[];
  revoker: RevokerResult;
  /** A cold start's overhead over an empty Node start (cold-start.ts), as shipped. */
  coldStartMs: number;
  kmsCallsPerColdStart: number;
  /** CPU per store call on SQLite and through the DynamoDB client; without them, no difference. */
  callCpu?: { sqlite: StoreCallCpu; dynamodb: StoreCallCpu };
}): CostModel {
  const { callCpu } = inputs;
  const extra: ExtraCpu = callCpu
    ? {
        get: round(Math.max(0, callCpu.dynamodb.get - callCpu.sqlite.get), 3),
        query: round(Math.max(0, callCpu.dynamodb.query - callCpu.sqlite.query), 3),
        put: round(Math.max(0, callCpu.dynamodb.put - callCpu.sqlite.put), 3),
        transaction: round(Math.max(0, callCpu.dynamodb.transaction - callCpu.sqlite.transaction), 3),
      }
    : NO_EXTRA_CPU;
  const byName = new Map(inputs.operations.map((cost) => [cost.operation, cost]));
  const need = (name: string) => {
    const cost = byName.get(name);
    if (!cost) throw new Error(`no measurement of ${name}`);
    return cost;
  };
  const perMillion = inputs.operations
    .filter((cost) => !cost.operation.startsWith("revoker tick"))
    .map((cost) => priceOperation(cost, extra));
  perMillion.push(priceRevocation(inputs.revoker, extra));

  const coldStart = {
    modelledMs: inputs.coldStartMs,
    dollars:
      lambdaDollars(inputs.coldStartMs, ASSUMPTIONS.apiMemoryMb) -
      PRICES.lambdaPerRequest +
      inputs.kmsCallsPerColdStart * PRICES.kmsPerRequest,
  };
  const tick = priceOperation(need("revoker tick, nothing due"), extra, ASSUMPTIONS.revokerMemoryMb);
  const ticksPerMonth = ASSUMPTIONS.daysPerMonth * 24 * 60;
  const fixed = {
    revokerTicks: round((tick.total / 1e6) * ticksPerMonth, 2),
    kmsKey: PRICES.kmsPerKeyMonth,
    monitoring: round(
      ASSUMPTIONS.alarms * PRICES.alarmPerMonth + ASSUMPTIONS.customMetrics * PRICES.customMetricPerMonth,
      2,
    ),
    total: 0,
  };
  fixed.total = round(fixed.revokerTicks + fixed.kmsKey + fixed.monitoring, 2);

  const vault =
    ASSUMPTIONS.vaultNodes *
      (PRICES.ec2PerHour * ASSUMPTIONS.hoursPerMonth + ASSUMPTIONS.vaultDiskGb * PRICES.ebsGp3PerGbMonth) +
    (PRICES.nlbPerHour + PRICES.nlbPerLcuHour) * ASSUMPTIONS.hoursPerMonth +
    PRICES.kmsPerKeyMonth;
  const priceOf = (name: string) => (perMillion.find((row) => row.operation === name)?.total ?? 0) / 1e6;
  const scenarios = [100, 10_000, 1_000_000].map((readsPerDay): ScenarioPrice => {
    const reads = readsPerDay * ASSUMPTIONS.daysPerMonth;
    // Quiet functions find their 5 s caches expired; at a million a day (12 a second) they are warm.
    const read = readsPerDay >= 1_000_000 ? priceOf("read, caches warm") : priceOf("read, caches expired");
    const coldStarts = Math.min(readsPerDay, ASSUMPTIONS.maxColdStartsPerDay) * ASSUMPTIONS.daysPerMonth;
    return {
      readsPerDay,
      coffer: round(reads * read + coldStarts * coldStart.dollars + fixed.total, 2),
      secretsManager: round(
        ASSUMPTIONS.secrets * PRICES.secretsManagerPerSecretMonth + reads * PRICES.secretsManagerPerRequest,
        2,
      ),
      vault: round(vault, 2),
    };
  });
  return {
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    extraCpuMsPerDynamoDbCall: extra,
    revokerOnLambda: [...new Set([256, 1024, ASSUMPTIONS.mbPerVcpu, ASSUMPTIONS.revokerMemoryMb])].map(
      (memoryMb) => projectRevoker(inputs.revoker, extra, memoryMb, 100_000),
    ),
    perMillion,
    coldStart,
    fixedPerMonth: fixed,
    scenarios,
  };
}
