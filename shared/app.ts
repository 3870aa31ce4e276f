/**
 * Builds the HTTP app from a Broker. The same app serves Lambda (functions/api.ts) and
 * `coffer dev` (cli/): the runtimes differ only in the adapter around it.
 */
import { Hono } from "hono";
import type { Broker } from "./broker.ts";
import type { EngineResponse } from "./engines/engine.ts";
import { toEnvelope } from "./http/envelope.ts";
import { RETRY_AFTER_SECONDS, toErrorReply } from "./http/errors.ts";
import { MAX_BODY_BYTES, parseRequest, rejectDotSegments } from "./http/request.ts";
import { createRouter, type LogicalRequest, type RouteTrace } from "./mounts/router.ts";

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
}

const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

function hasNoBody(response: EngineResponse): boolean {
  return (
    response.data === undefined && response.auth === undefined && !response.leaseId && !response.warnings
  );
}

export function createApp(broker: Broker, options: AppOptions = {}): Hono {
  const router = createRouter(broker);
  const logError = options.logError ?? ((message) => console.error(message));
  const app = new Hono();

  app.all("/v1/*", async (c) => {
    const requestId = crypto.randomUUID();
    const trace: RouteTrace = {};
    let logical: LogicalRequest | undefined;
    let status: number;
    let body: unknown;
    let error: string | undefined;
    let auditedResponse: unknown;
    try {
      const rawPath = options.rawPath?.(c.env);
      if (rawPath !== undefined) rejectDotSegments(rawPath);
      logical = await parseRequest(c.req.raw, requestId, options.maxBodyBytes ?? MAX_BODY_BYTES);
      const response = await router.handle(logical, trace);
      if (response.raw) {
        status = response.status ?? 200;
        body = response.raw;
      } else if (hasNoBody(response)) {
        status = response.status ?? 204;
      } else {
        status = response.status ?? 200;
        body = toEnvelope(requestId, trace.mount?.type ?? "", response);
        // As in Vault, the record keeps what the engine answered, not the envelope around it.
        auditedResponse = { data: response.data, auth: response.auth };
      }
    } catch (thrown) {
      const reply = toErrorReply(thrown);
      status = reply.status;
      body = { errors: reply.errors };
      error = reply.logMessage;
      if (status >= 500) logError(`request ${requestId} failed: ${reply.logMessage}`);
    }

    const token = trace.token;
    try {
      await broker.audit.record({
        requestId,
        operation: trace.operation ?? logical?.operation ?? c.req.method.toLowerCase(),
        path: logical?.path ?? new URL(c.req.url).pathname,
        mountType: trace.mount?.type,
        status,
        error,
        accessor: token?.accessor,
        policies: token?.policies,
        displayName: token?.displayName,
        metadata: token?.meta,
        requestData: logical?.data,
        responseData: auditedResponse,
      });
    } catch (auditError) {
      // No audit record, no answer: an unaudited request must not return data.
      logError(`request ${requestId}: audit failed: ${toErrorReply(auditError).logMessage}`);
      return c.json({ errors: ["internal error"] }, 500, SECURITY_HEADERS);
    }

    const headers: Record<string, string> = { ...SECURITY_HEADERS };
    if (status === 503) headers["Retry-After"] = String(RETRY_AFTER_SECONDS);
    if (body === undefined) return c.body(null, status as 204, headers);
    return c.json(body, status as 200, headers);
  });

  // Outside /v1/ nothing exists; answer in Vault's shape rather than Hono's text.
  app.notFound((c) => c.json({ errors: [] }, 404, SECURITY_HEADERS));
  app.onError((thrown, c) => {
    logError(`unhandled: ${toErrorReply(thrown).logMessage}`);
    return c.json({ errors: ["internal error"] }, 500, SECURITY_HEADERS);
  });
  return app;
}
