/**
 * Metrics in CloudWatch Embedded Metric Format, written by Powertools' Metrics: a log line
 * that is a JSON object with an `_aws` block naming which of its top-level fields are
 * metrics, in which namespace and with which dimensions. CloudWatch Logs extracts them
 * from a Lambda log group as it ingests the line, so a metric costs no API call and no
 * latency, and the same line stays readable in Logs Insights.
 *
 * Each function names itself in the one dimension, `Function` (api or revoker), so an
 * alarm on a metric reads exactly one series (stacks/alarms.ts). Powertools would add a
 * `service` dimension of its own; it is removed, since a metric published with another
 * set of dimensions is another series, which no alarm reads.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SweepReport } from "../shared/leases/sweep.ts";
import { SERVICE_NAME } from "./log-lines.ts";

export type Unit = (typeof MetricUnit)["Count" | "Milliseconds"];

export interface Metric {
  value: number;
  unit: Unit;
}

export type FunctionName = "api" | "revoker";

/** The namespace the stage's functions write to, from the environment the stack sets. */
export function metricsNamespaceFromEnv(env: Record<string, string | undefined> = process.env) {
  return env.COFFER_METRICS_NAMESPACE || undefined;
}

/** The metrics of one function, in the stage's namespace, with the one dimension `Function`. */
export function createMetrics(namespace: string, functionName: FunctionName): Metrics {
  const metrics = new Metrics({ namespace, serviceName: SERVICE_NAME });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ Function: functionName });
  return metrics;
}

/**
 * Writes one EMF line with these metrics. `context` (ids that tie the line to its logs and
 * audit records) rides along as plain fields, which are not metrics.
 */
export function publishMetrics(
  metrics: Metrics,
  values: Record<string, Metric>,
  context: Record<string, string | undefined> = {},
): void {
  for (const [name, metric] of Object.entries(values)) metrics.addMetric(name, metric.unit, metric.value);
  for (const [key, value] of Object.entries(context))
    if (value !== undefined) metrics.addMetadata(key, value);
  metrics.publishStoredMetrics();
}

/** What a sweep reports: lag, failures, backlog and work done, leases and tokens. */
export function sweepMetrics(report: SweepReport): Record<string, Metric> {
  return {
    RevocationLagMs: { value: report.lag_ms_max, unit: MetricUnit.Milliseconds },
    RevocationFailures: { value: report.failed, unit: MetricUnit.Count },
    LeasesDue: { value: report.due, unit: MetricUnit.Count },
    LeasesRevoked: { value: report.revoked + report.revoked_early, unit: MetricUnit.Count },
    TokensRevoked: { value: report.tokens_revoked, unit: MetricUnit.Count },
  };
}

/** What one API request counts for: a request, its latency, and whether it failed or was denied. */
export function requestMetrics(status: number, latencyMs: number): Record<string, Metric> {
  return {
    Requests: { value: 1, unit: MetricUnit.Count },
    ServerErrors: { value: status >= 500 ? 1 : 0, unit: MetricUnit.Count },
    Denied: { value: status === 403 ? 1 : 0, unit: MetricUnit.Count },
    LatencyMs: { value: latencyMs, unit: MetricUnit.Milliseconds },
  };
}
