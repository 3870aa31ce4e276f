/**
 * One HTTP exchange over node:http or node:https, answered with the part of fetch's
 * Response the client reads. Not fetch: Node's fetch loads undici on first use and
 * compiles its WebAssembly HTTP parser, which cost every `coffer` command and the agent
 * about 40 MB of memory and half a second at start (docs/benchmarks.md), for one request.
 * node:http is part of the runtime's startup snapshot.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpAnswer {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  /** The whole body; rejects when the exchange is cut short (reset, timeout). */
  text(): Promise<string>;
}

export interface HttpExchange {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Ends the exchange wherever it is, body included, as fetch's signal does. */
  signal: AbortSignal;
}

function headerValue(value: IncomingHttpHeaders[string]): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(", ") : value;
}

export function sendRequest(url: URL, exchange: HttpExchange): Promise<HttpAnswer> {
  const send = { "http:": httpRequest, "https:": httpsRequest }[url.protocol];
  if (!send) return Promise.reject(new TypeError(`unsupported protocol "${url.protocol}"`));
  const headers = { ...exchange.headers };
  if (exchange.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(exchange.body));
  // An aborted exchange fails with the signal's reason (a TimeoutError), as fetch does.
  const failure = (error: unknown) => (exchange.signal.aborted ? exchange.signal.reason : error);
  return new Promise((resolve, reject) => {
    const request = send(url, { method: exchange.method, headers, signal: exchange.signal }, (response) => {
      const chunks: Buffer[] = [];
      const body = new Promise<string>((resolveBody, rejectBody) => {
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolveBody(Buffer.concat(chunks).toString("utf8")));
        response.on("error", (error) => rejectBody(failure(error)));
        response.on("close", () => {
          if (!response.complete) rejectBody(failure(new Error("the answer was cut short")));
        });
      });
      // Read or not, a failed body must not become an unhandled rejection.
      body.catch(() => {});
      const status = response.statusCode ?? 0;
      resolve({
        status,
        ok: status >= 200 && status < 300,
        headers: { get: (name) => headerValue(response.headers[name.toLowerCase()]) },
        text: () => body,
      });
    });
    request.on("error", (error) => reject(failure(error)));
    request.end(exchange.body);
  });
}
