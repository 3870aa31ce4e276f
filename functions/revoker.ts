/**
 * The revoker function, invoked every minute by a schedule: one sweep of the expiry index
 * (shared/leases/sweep.ts) within the time the invocation has left, minus a margin for
 * revocations in flight and the report. What it does not finish, the next tick continues;
 * two overlapping invocations never revoke a lease twice. The report (counts and
 * revocation lag) is one structured log line for CloudWatch Logs Insights, and its
 * metrics one line in Embedded Metric Format (functions/metrics.ts). Then, with the
 * time left, every mount's periodic work (shared/mounts/periodic.ts): due transit key
 * rotations, unfinished KV removals.
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Broker } from "../shared/broker.ts";
import type { SweepReport } from "../shared/leases/sweep.ts";
import type { Log } from "../shared/log.ts";
import { runPeriodicWork } from "../shared/mounts/periodic.ts";
import { awsConfigFromEnv, createAwsBroker } from "./aws-broker.ts";
import { type InvocationContext, lambdaLog, lambdaLogging, startInvocation } from "./log-lines.ts";
import { createMetrics, metricsNamespaceFromEnv, publishMetrics, sweepMetrics } from "./metrics.ts";
import { tracingFromEnv } from "./tracing.ts";

/** Left of the invocation's time when the sweep stops starting revocations. */
export const SAFETY_MARGIN_MS = 15_000;
/** Never sweep for less than this, even when the invocation is nearly out of time. */
const MIN_BUDGET_MS = 1_000;

/** The part of the Lambda context the revoker uses. */
export interface RevokerContext {
  getRemainingTimeInMillis(): number;
}

/** The revoker for a broker. With metrics, each sweep also writes the metrics the alarms watch. */
export function createRevoker(broker: Broker, log: Log = lambdaLog, metrics?: Metrics) {
  return async (_event: unknown, context: RevokerContext): Promise<SweepReport> => {
    const budgetMs = Math.max(MIN_BUDGET_MS, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const report = await broker.leases.sweep({ budgetMs });
    const healthy = report.complete && report.failed === 0;
    log(healthy ? "info" : "warn", "lease sweep", { ...report, budget_ms: budgetMs });
    if (metrics) publishMetrics(metrics, sweepMetrics(report), { sweep_id: report.sweep_id });
    // Leases first: the periodic work gets whatever time the sweep left.
    const deadline = broker.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    if (deadline > broker.now()) {
      const work = await runPeriodicWork(broker, { deadline });
      const clean = work.complete && work.failed === 0;
      if (!clean || work.done > 0) log(clean ? "info" : "warn", "periodic work", { ...work });
    }
    return report;
  };
}

// Built once per execution environment, on the first invocation.
let revoker: Promise<ReturnType<typeof createRevoker>> | undefined;

export const handler = async (event: unknown, context: RevokerContext): Promise<SweepReport> => {
  startInvocation(context as InvocationContext);
  revoker ??= tracingFromEnv()
    .then((tracing) => createAwsBroker({ ...awsConfigFromEnv(), ...lambdaLogging, tracing }))
    .then((broker) => {
      const namespace = metricsNamespaceFromEnv();
      return createRevoker(broker, lambdaLog, namespace ? createMetrics(namespace, "revoker") : undefined);
    });
  revoker.catch(() => {
    revoker = undefined;
  });
  return (await revoker)(event, context);
};
