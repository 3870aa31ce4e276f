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
 * time is the least contended block's (operation-costs.ts): this machine is shared.
 */
import { DYNAMODB_LATENCY, logNormal } from "./latency-store.ts";
import { round } from "./measure.ts";
import type { OperationCost } from "./operation-costs.ts";
import type { RevokerResult } from "./revoker.ts";

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
  revokerMemoryMb: 256,
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
  /** The stage's fixed monitoring: docs/deploy.md's alarms and metric filters. */
  alarms: 7,
  customMetrics: 2,
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

export interface CostModel {
  prices: typeof PRICES;
  assumptions: typeof ASSUMPTIONS;
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

function priceOperation(cost: OperationCost, memoryMb: number = ASSUMPTIONS.apiMemoryMb): OperationPrice {
  const modelledMs =
    cost.roundTrips * meanLatencyMs +
    cost.stsCalls * ASSUMPTIONS.stsLatencyMs +
    cost.cpuMsMin / vcpu(memoryMb);
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
function priceRevocation(revoker: RevokerResult): OperationPrice {
  const perLease = revoker.perLease ?? { calls: {}, readUnits: 0, writeUnits: 0 };
  const cpuBoundMs = revoker.cpuMsPerLease / vcpu(ASSUMPTIONS.revokerMemoryMb);
  const calls = Object.values(perLease.calls).reduce((sum, n) => sum + n, 0);
  const latencyBoundMs = (calls * meanLatencyMs) / revoker.concurrency;
  const modelledMs = Math.max(cpuBoundMs, latencyBoundMs);
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

export function costModel(inputs: {
  operations: OperationCost[];
  revoker: RevokerResult;
  /** A cold start's overhead over an empty Node start (cold-start.ts), as shipped. */
  coldStartMs: number;
  kmsCallsPerColdStart: number;
}): CostModel {
  const byName = new Map(inputs.operations.map((cost) => [cost.operation, cost]));
  const need = (name: string) => {
    const cost = byName.get(name);
    if (!cost) throw new Error(`no measurement of ${name}`);
    return cost;
  };
  const perMillion = inputs.operations
    .filter((cost) => !cost.operation.startsWith("revoker tick"))
    .map((cost) => priceOperation(cost));
  perMillion.push(priceRevocation(inputs.revoker));

  const coldStart = {
    modelledMs: inputs.coldStartMs,
    dollars:
      lambdaDollars(inputs.coldStartMs, ASSUMPTIONS.apiMemoryMb) -
      PRICES.lambdaPerRequest +
      inputs.kmsCallsPerColdStart * PRICES.kmsPerRequest,
  };
  const tick = priceOperation(need("revoker tick, nothing due"), ASSUMPTIONS.revokerMemoryMb);
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
    perMillion,
    coldStart,
    fixedPerMonth: fixed,
    scenarios,
  };
}
