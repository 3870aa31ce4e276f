/**
 * Calling a Coffer app the way a Vault client does, and serving one on loopback for
 * clients that need a real address (the CLI, the agent).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field in the tests.
  body: any;
}

export type ApiCall = (method: string, path: string, body?: unknown, token?: string) => Promise<Reply>;

/**
 * Requests under /v1/ with `defaultToken` unless another is given. A string body goes as
 * is, so a test can send what no JSON encoder would produce; an empty response body is
 * `undefined`.
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
    const response = await send(path, {
      method,
      headers: { "X-Vault-Token": token },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
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
