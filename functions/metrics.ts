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
 * set of dimensions is another series, which no alarm reads. Nothing else is a dimension:
 * each combination of dimension values is a metric billed of its own. An API request's
 * route and status ride on its line as plain fields, which Logs Insights groups by.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SweepReport } from "../shared/leases/sweep.ts";
import type { CallCounts } from "./call-counts.ts";
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

/** One API request as its metrics see it. */
export interface ServedRequest {
  status: number;
  latencyMs: number;
  /** Its route's label (shared/mounts/route-label.ts), or "outside-api" for a path outside /v1/. */
  route: string;
  /** Its answer carries a lease id. */
  carriesLease: boolean;
  /** The round trips it made (functions/call-counts.ts). */
  calls: CallCounts;
}

/** The routes that renew a lease, as Vault serves them: sys/leases/renew and sys/renew, id in the body or the path. */
const LEASE_RENEWALS = new Set([
  "system:leases/renew",
  "system:leases/renew/*",
  "system:renew",
  "system:renew/*",
]);

/**
 * What one API request counts for: a request, its latency, whether it failed or was
 * denied, its round trips to DynamoDB and KMS, and a lease issued or renewed.
 */
export function requestMetrics(request: ServedRequest): Record<string, Metric> {
  const { status } = request;
  const renewal = LEASE_RENEWALS.has(request.route);
  const succeeded = status >= 200 && status < 300;
  return {
    Requests: { value: 1, unit: MetricUnit.Count },
    ServerErrors: { value: status >= 500 ? 1 : 0, unit: MetricUnit.Count },
    Denied: { value: status === 403 ? 1 : 0, unit: MetricUnit.Count },
    LatencyMs: { value: request.latencyMs, unit: MetricUnit.Milliseconds },
    StoreCalls: { value: request.calls.store, unit: MetricUnit.Count },
    KmsCalls: { value: request.calls.kms, unit: MetricUnit.Count },
    LeasesIssued: { value: succeeded && request.carriesLease && !renewal ? 1 : 0, unit: MetricUnit.Count },
    LeasesRenewed: { value: succeeded && request.carriesLease && renewal ? 1 : 0, unit: MetricUnit.Count },
  };
}
