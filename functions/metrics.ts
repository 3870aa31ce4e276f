/**
 * Metrics in CloudWatch Embedded Metric Format: a log line that is a JSON object with an
 * `_aws` block naming which of its top-level fields are metrics, in which namespace and
 * with which dimensions. CloudWatch Logs extracts them from a Lambda log group as it
 * ingests the line, so a metric costs no API call and no latency, and the same line stays
 * readable in Logs Insights. The line must be the whole log event (functions/log-lines.ts).
 *
 * Each function names itself in the one dimension, `Function` (api or revoker), so an
 * alarm on a metric reads exactly one series (stacks/alarms.ts).
 */
import type { SweepReport } from "../shared/leases/sweep.ts";

export type MetricUnit = "Count" | "Milliseconds";

export interface Metric {
  value: number;
  unit: MetricUnit;
}

/** The namespace the stage's functions write to, from the environment the stack sets. */
export function metricsNamespaceFromEnv(env: Record<string, string | undefined> = process.env) {
  return env.COFFER_METRICS_NAMESPACE || undefined;
}

/**
 * The fields that make `fields` an EMF document: the `_aws` block and one top-level field
 * per metric. Metric names never collide with the record's own snake_case fields.
 */
export function embeddedMetrics(
  namespace: string,
  functionName: "api" | "revoker",
  metrics: Record<string, Metric>,
  now: number = Date.now(),
): Record<string, unknown> {
  const values: Record<string, number> = {};
  for (const [name, metric] of Object.entries(metrics)) values[name] = metric.value;
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [["Function"]],
          Metrics: Object.entries(metrics).map(([name, metric]) => ({ Name: name, Unit: metric.unit })),
        },
      ],
    },
    Function: functionName,
    ...values,
  };
}

/** What a sweep adds to its report line: lag, failures, backlog and work done. */
export function sweepMetrics(report: SweepReport): Record<string, Metric> {
  return {
    RevocationLagMs: { value: report.lag_ms_max, unit: "Milliseconds" },
    RevocationFailures: { value: report.failed, unit: "Count" },
    LeasesDue: { value: report.due, unit: "Count" },
    LeasesRevoked: { value: report.revoked + report.revoked_early, unit: "Count" },
  };
}

/** What one API request counts for: a request, its latency, and whether it failed or was denied. */
export function requestMetrics(status: number, latencyMs: number): Record<string, Metric> {
  return {
    Requests: { value: 1, unit: "Count" },
    ServerErrors: { value: status >= 500 ? 1 : 0, unit: "Count" },
    Denied: { value: status === 403 ? 1 : 0, unit: "Count" },
    LatencyMs: { value: latencyMs, unit: "Milliseconds" },
  };
}
