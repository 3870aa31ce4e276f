/**
 * Builds the HTTP app from a Broker. The same app serves Lambda (functions/api.ts) and
 * `coffer dev` (cli/): the runtimes differ only in the adapter around it.
 *
 * The order is Vault's: authenticate, authorize on the full path, route, read the body,
 * write the request record, run the handler, write the response record. Nothing is done
 * for a request whose record cannot be written.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { AuditEntry, AuditedRequest } from "./audit/audit-log.ts";
import type { Broker } from "./broker.ts";
import type { EngineResponse, JsonObject } from "./engines/engine.ts";
import { hasBody, toEnvelope } from "./http/envelope.ts";
import { RETRY_AFTER_SECONDS, toErrorReply } from "./http/errors.ts";
import {
  type DataLimits,
  MAX_BODY_BYTES,
  MAX_UNAUTHENTICATED_DATA_BYTES,
  MAX_UNAUTHENTICATED_VALUES,
  parseRequestHead,
  readRequestData,
  rejectDotSegments,
} from "./http/request.ts";
import { type HomeRegion, placeRequests } from "./mounts/request-region.ts";
import { routeLabel } from "./mounts/route-label.ts";
import { createRouter, type RequestHead, type Router, type RouteTrace } from "./mounts/router.ts";
import type { UiAssetSource } from "./ui/ui-assets.ts";
import { uiRoutes } from "./ui/ui-routes.ts";

export interface AppOptions {
  maxBodyBytes?: number;
  /** Where internal errors are reported (never with secrets). Defaults to console.error. */
  logError?: (message: string) => void;
  /**
   * The request path exactly as the client sent it, from the runtime's own event. The URL
   * a runtime hands over has "." and ".." segments already resolved, and a client sending
   * them is refused rather than silently redirected.
   */
  rawPath?: (env: unknown) => string | undefined;
  /** The web UI's files, served under /ui/ (shared/ui/); without them /ui/ says there is no UI. */
  ui?: UiAssetSource;
  /**
   * In a region that is not the deployment's home: the broker on the home region's table,
   * which serves every request that relies on an exact conditional write
   * (shared/mounts/request-region.ts). Audit records are written by this region's broker.
   */
  home?: HomeRegion;
  /** Told each request's id (the one its audit records carry) before anything is done for it. */
  requestStarted?: (requestId: string) => void;
  /** Told, as a request under /v1/ is answered, which route served it (for its metrics). */
  requestAnswered?: (answer: AnsweredRequest) => void;
}

export interface AnsweredRequest {
  /** The mount type and route pattern, never the path (shared/mounts/route-label.ts). */
  route: string;
  /** The answer carries a lease id: a lease issued, or one renewed. */
  carriesLease: boolean;
}

const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/** What the caller is answered, and what the response record says of it. */
interface Outcome {
  status: number;
  body?: unknown;
  error?: string;
  auditedData?: unknown;
}

function outcomeOf(requestId: string, mountType: string, response: EngineResponse): Outcome {
  if (response.raw) return { status: response.status ?? 200, body: response.raw };
  if (!hasBody(response)) return { status: response.status ?? 204 };
  return {
    status: response.status ?? 200,
    body: toEnvelope(requestId, mountType, response),
    // As in Vault, the record keeps what the engine answered, not the envelope around it.
    auditedData: { data: response.data, auth: response.auth },
  };
}

function reply(c: Context, outcome: Outcome): Response {
  const headers: Record<string, string> = { ...SECURITY_HEADERS };
  if (outcome.status === 503) headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
  if (outcome.body === undefined) return c.body(null, outcome.status as 204, headers);
  return c.json(outcome.body, outcome.status as 200, headers);
}

export function createApp(broker: Broker, options: AppOptions = {}): Hono {
  const router = createRouter(broker);
  const homeRouter = options.home && createRouter(options.home.broker);
  const place = options.home && placeRequests(broker, options.home);
  async function routerFor(head: RequestHead): Promise<Router> {
    if (!place || !homeRouter) return router;
    return (await place(head)) === broker ? router : homeRouter;
  }
  const logError = options.logError ?? ((message) => console.error(message));
  const limits: DataLimits = { maxBytes: options.maxBodyBytes ?? MAX_BODY_BYTES };
  // Nobody can be charged for the data of a route that needs no token.
  const unauthenticatedLimits: DataLimits = {
    maxBytes: Math.min(limits.maxBytes, MAX_UNAUTHENTICATED_DATA_BYTES),
    maxValues: MAX_UNAUTHENTICATED_VALUES,
  };
  const app = new Hono();

  /** No audit record, no answer: 503 when an upstream (KMS, DynamoDB) is down, else 500. */
  function auditFailed(c: Context, requestId: string, auditError: unknown): Response {
    const failure = toErrorReply(auditError);
    logError(`request ${requestId}: audit failed: ${failure.logMessage}`);
    if (failure.status === 503) return reply(c, { status: 503, body: { errors: failure.errors } });
    return reply(c, { status: 500, body: { errors: ["internal error"] } });
  }

  app.all("/v1/*", async (c) => {
    const requestId = crypto.randomUUID();
    options.requestStarted?.(requestId);
    const trace: RouteTrace = {};
    let carriesLease = false;
    const answered = (response: Response) => {
      options.requestAnswered?.({ route: routeLabel(trace), carriesLease });
      return response;
    };
    let head: RequestHead | undefined;
    let audited: AuditedRequest | undefined;
    let outcome: Outcome;
    try {
      const rawPath = options.rawPath?.(c.env);
      if (rawPath !== undefined) rejectDotSegments(rawPath);
      head = parseRequestHead(c.req.raw, requestId);
      // A refusal here leaves the body unread: a caller without a token costs no parsing.
      const admitted = await (await routerFor(head)).admit(head, trace);
      const data: JsonObject = await readRequestData(
        c.req.raw,
        head,
        admitted.unauthenticated ? unauthenticatedLimits : limits,
      );
      const prepared = await admitted.prepare(data);
      try {
        audited = await broker.audit.request({
          ...auditedCaller(trace),
          requestId,
          operation: prepared.operation,
          path: head.path,
          requestData: data,
        });
      } catch (auditError) {
        return answered(auditFailed(c, requestId, auditError));
      }
      const response = await prepared.run();
      carriesLease = Boolean(response.leaseId);
      outcome = outcomeOf(requestId, trace.mount?.type ?? "", response);
    } catch (thrown) {
      const failure = toErrorReply(thrown);
      outcome = { status: failure.status, body: { errors: failure.errors }, error: failure.logMessage };
      if (failure.status >= 500) logError(`request ${requestId} failed: ${failure.logMessage}`);
    }

    try {
      const response = { status: outcome.status, error: outcome.error, responseData: outcome.auditedData };
      if (audited) {
        await audited.response(response);
      } else {
        // Refused before its handler: one small record, without the data that was never accepted.
        await broker.audit.record({
          ...auditedCaller(trace),
          ...response,
          requestId,
          operation: trace.operation ?? head?.operation ?? c.req.method.toLowerCase(),
          path: head?.path ?? new URL(c.req.url).pathname,
        });
      }
    } catch (auditError) {
      return answered(auditFailed(c, requestId, auditError));
    }
    return answered(reply(c, outcome));
  });

  // The web UI: static files, outside the API (shared/ui/ui-routes.ts).
  app.route("/", uiRoutes(options.ui));

  // Outside /v1/ nothing exists; answer in Vault's shape rather than Hono's text.
  app.notFound((c) => c.json({ errors: [] }, 404, SECURITY_HEADERS));
  app.onError((thrown, c) => {
    logError(`unhandled: ${toErrorReply(thrown).logMessage}`);
    return c.json({ errors: ["internal error"] }, 500, SECURITY_HEADERS);
  });
  return app;
}

/** Who asked, as far as the router got: the mount and the token. */
function auditedCaller(
  trace: RouteTrace,
): Pick<AuditEntry, "mountType" | "accessor" | "policies" | "displayName" | "metadata"> {
  const token = trace.token;
  return {
    mountType: trace.mount?.type,
    accessor: token?.accessor,
    policies: token?.policies,
    displayName: token?.displayName,
    metadata: token?.meta,
  };
}
