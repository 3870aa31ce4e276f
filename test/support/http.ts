/**
 * Calling a Coffer app the way a Vault client does, and serving one on loopback for
 * clients that need a real address (the CLI, the agent).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

/**
 * What the app answered. `headers` is not enumerable: a reply equals another by status and
 * body (`expect(reply).toEqual({ status: 404, body: { errors: [] } })`), and a test that
 * cares about a header asks for it (`reply.headers.get("retry-after")`).
 */
export interface Reply {
  status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field in the tests.
  body: any;
}

/** `token` defaults to the caller's own; `null` sends none. */
export type ApiCall = (method: string, path: string, body?: unknown, token?: string | null) => Promise<Reply>;

/**
 * Requests under /v1/ with `defaultToken` unless another is given, as Vault's client sends
 * them: a JSON body, and a PATCH as a JSON merge patch. A string body goes as is, so a test
 * can send what no JSON encoder would produce; an empty response body is `undefined`. A
 * test of other headers sends its request itself (`app.request`).
 */
export function apiCaller(app: Hono, defaultToken: string): ApiCall {
  return caller((path, init) => app.request(`/v1/${path}`, init), defaultToken);
}

/** The same over real HTTP, to an app served at `address` (serveOnLoopback, or `coffer dev`). */
export function httpCaller(address: string, defaultToken: string): ApiCall {
  return caller((path, init) => fetch(`${address}/v1/${path}`, init), defaultToken);
}

function caller(
  send: (path: string, init: RequestInit) => Response | Promise<Response>,
  defaultToken: string,
): ApiCall {
  return async (method, path, body, token = defaultToken) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers["X-Vault-Token"] = token;
    if (body !== undefined) {
      headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
    }
    const response = await send(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const reply = { status: response.status, body: text ? JSON.parse(text) : undefined };
    return Object.defineProperty(reply, "headers", { value: response.headers, enumerable: false }) as Reply;
  };
}

export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  address: string;
  close(): Promise<void>;
}

/** The app on an ephemeral port of 127.0.0.1, for clients that need a URL. */
export async function serveOnLoopback(app: Hono): Promise<LoopbackServer> {
  const http = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started as Server),
    );
  });
  return {
    address: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    // An error (already closed) changes nothing for a test's cleanup.
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}
