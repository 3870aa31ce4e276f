/**
 * The API function's handler for a broker already built: the HTTP app behind
 * hono/aws-lambda, which reads each event shape Coffer's ingresses deliver (a function
 * URL's payload 2.0, an Application Load Balancer's own shape, with or without multi-value
 * headers, and API Gateway REST's payload 1.0) and answers in the same shape.
 *
 * The path the app checks for "." and ".." segments is the one the client sent, taken
 * from the event before a URL parser resolves it away: `rawPath` in payload 2.0, `path`
 * in the ALB's and REST's events (an ALB passes path and query string as received, still
 * percent-encoded). The method is passed through as sent, so LIST reaches the app as LIST.
 */
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { handle } from "hono/aws-lambda";
import { type AnsweredRequest, createApp } from "../shared/app.ts";
import type { Broker } from "../shared/broker.ts";
import type { HomeRegion } from "../shared/mounts/request-region.ts";
import type { UiAssetSource } from "../shared/ui/ui-assets.ts";
import { countingCalls } from "./call-counts.ts";
import { auditRequestStarted, type InvocationContext, lambdaLog, startInvocation } from "./log-lines.ts";
import { publishMetrics, requestMetrics } from "./metrics.ts";

export interface ApiHandlerOptions {
  ui?: UiAssetSource;
  /** Where internal errors go; the functions' log (functions/log-lines.ts) unless given. */
  logError?: (message: string) => void;
  /** One metrics line per request (functions/metrics.ts); none unless given. */
  metrics?: Metrics;
  /** Outside the home region: the home region's broker (functions/aws-broker.ts, createHomeBroker). */
  home?: HomeRegion;
}

/** The part of an ingress event that says where the request went. */
interface IngressEvent {
  rawPath?: string;
  path?: string;
}

/** The request path as the client sent it, from whichever event shape arrived. */
export function rawPathOf(env: unknown): string | undefined {
  const event = (env as { event?: IngressEvent } | undefined)?.event;
  return event?.rawPath ?? event?.path;
}

export type ApiHandler = ReturnType<typeof handle>;

/** The route label of a request outside /v1/: the web UI's files, or a path that is nothing. */
export const OUTSIDE_API = "outside-api";

export function createApiHandler(broker: Broker, options: ApiHandlerOptions = {}): ApiHandler {
  let auditRequestId: string | undefined;
  // Told by the app as the request is answered; never for a path outside /v1/.
  let answered: AnsweredRequest | undefined;
  const app = createApp(broker, {
    rawPath: rawPathOf,
    ...(options.ui && { ui: options.ui }),
    logError: options.logError ?? ((message) => lambdaLog("error", message, {})),
    requestStarted: (requestId) => {
      auditRequestId = requestId;
      auditRequestStarted(requestId);
    },
    requestAnswered: (answer) => {
      answered = answer;
    },
    ...(options.home && { home: options.home }),
  });
  const handler = handle(app);
  const { metrics } = options;
  // A request that crashes the function writes no metrics: Lambda's Errors metric counts it.
  return (async (event: Parameters<ApiHandler>[0], context: Parameters<ApiHandler>[1]) => {
    auditRequestId = undefined;
    answered = undefined;
    startInvocation((context ?? {}) as InvocationContext);
    const started = performance.now();
    const { result, counts } = await countingCalls(() => handler(event, context));
    if (metrics) {
      const latencyMs = Math.round(performance.now() - started);
      // Set during the request by the app's callback, which TypeScript's narrowing cannot see.
      const answer = answered as AnsweredRequest | undefined;
      const route = answer?.route ?? OUTSIDE_API;
      const request = { status: result.statusCode, latencyMs, route, calls: counts };
      // Route and status are plain fields, not dimensions: Logs Insights groups by them for
      // free, where a dimension would make each route and status a metric billed of its own.
      publishMetrics(metrics, requestMetrics({ ...request, carriesLease: answer?.carriesLease ?? false }), {
        function_request_id: context?.awsRequestId,
        audit_request_id: auditRequestId,
        route,
        status: String(result.statusCode),
      });
    }
    return result;
  }) as ApiHandler;
}
