/**
 * Whether this function traces (COFFER_TRACING, set by the stack: stacks/tracing.ts), and
 * its tracing when it does. The tracer and the X-Ray SDK under it are a chunk of their
 * own (functions/xray-tracing.ts), imported only then: a function that does not trace
 * never loads them, and its cold start does not pay for them.
 */
import type { Tracing } from "../shared/tracing.ts";
import { SERVICE_NAME } from "./log-lines.ts";

export async function tracingFromEnv(
  env: Record<string, string | undefined> = process.env,
): Promise<Tracing | undefined> {
  const value = env.COFFER_TRACING || "false";
  if (value !== "true" && value !== "false") {
    throw new Error(`COFFER_TRACING: "${value}" must be true or false`);
  }
  if (value === "false") return undefined;
  const { xrayTracing } = await import("./xray-tracing.ts");
  // The service name from the entry's own graph: this chunk then shares no module with it.
  return xrayTracing(SERVICE_NAME);
}
