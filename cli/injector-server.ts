/**
 * `coffer injector`: the injector as an HTTPS server inside the cluster, for clusters whose
 * API server cannot reach the broker's function URL. It carries bytes to and from the
 * same pure function as the Lambda function (shared/injector/admission-http.ts).
 *
 * The certificate and key are read again when their files change (cert-manager renews
 * them in place), checked once a minute, so a renewal needs no restart.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { answerAdmission, MAX_REVIEW_BYTES, WEBHOOK_PATH } from "../shared/injector/admission-http.ts";
import type { InjectorOptions } from "../shared/injector/injector-options.ts";
import type { Log } from "./agent/log.ts";

export const HEALTH_PATH = "/healthz";
const CERTIFICATE_CHECK_MS = 60_000;

export interface InjectorServerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  injector: InjectorOptions;
  log: Log;
  /** How often the certificate files are compared with the ones in use. */
  certificateCheckMs?: number;
}

export interface InjectorServer {
  url: string;
  close(): Promise<void>;
}

/** ":8443", "0.0.0.0:8443", "[::1]:8443" or "8443": where to listen (all addresses without a host). */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

async function readBody(request: import("node:http").IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REVIEW_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function startInjectorServer(options: InjectorServerOptions): Promise<InjectorServer> {
  const { log } = options;
  const readPair = async () => ({
    cert: await readFile(options.certFile, "utf8"),
    key: await readFile(options.keyFile, "utf8"),
  });
  let pair = await readPair();
  const server: Server = createServer({ ...pair, minVersion: "TLSv1.2" }, (request, response) => {
    const started = performance.now();
    const send = (status: number, body: string) => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(body);
    };
    const path = new URL(request.url ?? "/", "https://injector").pathname;
    if (path === HEALTH_PATH && request.method === "GET") return send(200, '{"status":"ok"}');
    if (path !== WEBHOOK_PATH)
      return send(404, JSON.stringify({ errors: [`nothing at ${path}: the webhook is at ${WEBHOOK_PATH}`] }));
    readBody(request)
      .then((body) => {
        const answer =
          body === undefined
            ? {
                status: 413,
                body: JSON.stringify({ errors: [`the AdmissionReview is over ${MAX_REVIEW_BYTES} bytes`] }),
              }
            : answerAdmission(request.method ?? "", body, options.injector);
        send(answer.status, answer.body);
        // Names and counts only: a pod's spec may hold values that are not for logs.
        const review =
          answer.status === 200
            ? (JSON.parse(answer.body) as {
                response?: { uid?: string; allowed?: boolean; warnings?: unknown[]; patch?: string };
              })
            : undefined;
        log(answer.status === 200 ? "info" : "warn", "admission", {
          status: answer.status,
          uid: review?.response?.uid,
          allowed: review?.response?.allowed,
          patched: review?.response?.patch !== undefined,
          warnings: review?.response?.warnings?.length ?? 0,
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
      })
      .catch((error: unknown) => {
        log("error", "admission failed", { error: error instanceof Error ? error.message : String(error) });
        if (!response.headersSent) send(500, JSON.stringify({ errors: ["internal error"] }));
      });
  });
  const timer = setInterval(() => {
    readPair()
      .then((next) => {
        if (next.cert === pair.cert && next.key === pair.key) return;
        server.setSecureContext({ ...next, minVersion: "TLSv1.2" });
        pair = next;
        log("info", "certificate reloaded", { cert_file: options.certFile });
      })
      .catch((error: unknown) =>
        log("warn", "certificate reload failed: keeping the current one", {
          error: error instanceof Error ? error.message : String(error),
        }),
      );
  }, options.certificateCheckMs ?? CERTIFICATE_CHECK_MS);
  timer.unref();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `https://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
