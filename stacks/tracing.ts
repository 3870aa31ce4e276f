/**
 * X-Ray tracing, a stage setting (COFFER_TRACING, off unless "true"). A function that
 * traces has COFFER_TRACING=true in its environment (broker-environment.ts), which makes
 * it build its AWS clients and PostgreSQL connections with subsegments
 * (functions/tracing.ts); the infrastructure then turns on Lambda's active tracing for it
 * and lets its role send segments.
 *
 * Off by default: the tracer and the X-Ray SDK are loaded only when it is on, and what
 * they add to a cold start is in docs/benchmarks.md.
 */
import type { Statement } from "./function-permissions.ts";

export const TRACING_VARIABLE = "COFFER_TRACING";

/** What Lambda's active tracing needs; X-Ray offers no resource narrower than "*". */
export const TRACING_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

export function readTracing(value: string | undefined, problems: string[]): boolean {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  problems.push(`${TRACING_VARIABLE}: "${value}" must be true or false`);
  return false;
}

/** Whether a function's environment says it traces. */
export function traces(environment: Record<string, unknown>): boolean {
  return environment[TRACING_VARIABLE] === "true";
}

export function tracingStatements<R>(): Statement<R>[] {
  return [{ actions: [...TRACING_ACTIONS], resources: ["*"] }];
}
