/**
 * Both ways of serving the injector answer exactly what the pure function answers:
 * `coffer injector` over HTTPS (a real process, a self-signed certificate made with
 * openssl), and the Lambda handler given function URL events. Bad requests get a 4xx
 * with Vault's error body; a pod's refusal travels inside a 200, as Kubernetes expects.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInjectorServer } from "../../cli/injector-server.ts";
import { reviewAdmission } from "../../shared/injector/admission-review.ts";
import { DEFAULT_OPTIONS } from "../../shared/injector/injector-options.ts";
import { CASES } from "../support/admission-cases.ts";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";
import { waitFor } from "../support/wait.ts";
import { cliEnv } from "./cli-harness.ts";

const BIN = COFFER_SCRIPT;
const ADDRESS = "https://coffer.example.com";
const OPTIONS = { ...DEFAULT_OPTIONS, address: ADDRESS, sidecar: "container" as const };

function reviewOf(name: string) {
  const entry = CASES.find((candidate) => candidate.name === name);
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `uid-${name}`,
      kind: { kind: "Pod" },
      operation: "CREATE",
      namespace: entry?.namespace ?? "shop",
      object: entry?.pod,
    },
  };
}

let dir: string;
let ca: string;
let server: ChildProcess;
let url: string;

function call(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = request(
      target,
      { method, ca, servername: "localhost", headers: { "content-type": "application/json" } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A one-day P-256 certificate for `name`, as tls.crt and tls.key in `folder`. */
function writeSelfSignedCertificate(folder: string, name: string, extra: string[] = []): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      ...extra,
      "-keyout",
      join(folder, "tls.key"),
      "-out",
      join(folder, "tls.crt"),
    ],
    { stdio: "ignore" },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "coffer-injector-"));
  writeSelfSignedCertificate(dir, "localhost", ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]);
  ca = await readFile(join(dir, "tls.crt"), "utf8");
  server = spawn(
    process.execPath,
    [
      BIN,
      "injector",
      "--listen",
      "127.0.0.1:0",
      "--tls-cert",
      join(dir, "tls.crt"),
      "--tls-key",
      join(dir, "tls.key"),
      "--sidecar",
      "container",
    ],
    { env: cliEnv({ COFFER_INJECTOR_ADDRESS: ADDRESS }), stdio: ["ignore", "ignore", "pipe"] },
  );
  url = await new Promise<string>((resolve, reject) => {
    let log = "";
    server.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      const line = log.split("\n").find((entry) => entry.includes('"injector listening"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    server.once("exit", (code) => reject(new Error(`coffer injector exited with ${code}: ${log}`)));
  });
});

afterAll(async () => {
  server?.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
});

describe("coffer injector over HTTPS", () => {
  it.each(["deployment-pod", "busy-pod", "already-injected", "unsupported-annotation"])(
    "answers the %s review as the pure function does",
    async (name) => {
      const answer = await call("POST", "/mutate", JSON.stringify(reviewOf(name)));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual(reviewAdmission(reviewOf(name), OPTIONS));
    },
  );

  it("answers its health probe", async () => {
    expect(await call("GET", "/healthz")).toEqual({ status: 200, body: '{"status":"ok"}' });
  });

  it.each([
    ["GET", "/mutate", undefined, 405, /GET is not allowed/],
    ["POST", "/mutate", "{not json", 400, /not JSON/],
    ["POST", "/mutate", '{"kind":"Pod"}', 400, /expected an AdmissionReview/],
    ["POST", "/other", "{}", 404, /the webhook is at \/mutate/],
  ])("%s %s (%s): %s", async (method, path, body, status, message) => {
    const answer = await call(method, path, body);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body).errors[0]).toMatch(message);
  });

  it("refuses a body over the limit without reading it all", async () => {
    const answer = await call("POST", "/mutate", "x".repeat(3 * 1024 * 1024 + 1));
    expect(answer.status).toBe(413);
  });

  it("refuses to start with a bad setting, naming it, with the local-error exit code", () => {
    const result = spawnSync(
      process.execPath,
      [BIN, "injector", "--tls-cert", "a", "--tls-key", "b", "--sidecar", "both", "--listen", "here"],
      { env: cliEnv({}), encoding: "utf8" },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('--listen: "here" is not an address such as :8443');
  });
});

describe("certificate renewal", () => {
  it("serves a renewed certificate without a restart", async () => {
    const certDir = await mkdtemp(join(tmpdir(), "coffer-injector-renew-"));
    const makeCertificate = (name: string) => writeSelfSignedCertificate(certDir, name);
    makeCertificate("first");
    const running = await startInjectorServer({
      host: "127.0.0.1",
      port: 0,
      certFile: join(certDir, "tls.crt"),
      keyFile: join(certDir, "tls.key"),
      injector: OPTIONS,
      log: () => {},
      certificateCheckMs: 50,
    });
    const subject = () =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(running.url);
        const socket = connect({ host: "127.0.0.1", port: Number(port), rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().subject.CN as string);
          socket.end();
        });
        socket.on("error", reject);
      });
    try {
      expect(await subject()).toBe("first");
      makeCertificate("second");
      expect(
        await waitFor("the renewed certificate", async () =>
          (await subject()) === "second" ? true : undefined,
        ),
      ).toBe(true);
    } finally {
      await running.close();
      await rm(certDir, { recursive: true, force: true });
    }
  });
});

describe("the Lambda handler", () => {
  let handler: typeof import("../../functions/injector.ts").handler;
  beforeAll(async () => {
    process.env.COFFER_INJECTOR_ADDRESS = ADDRESS;
    process.env.COFFER_INJECTOR_SIDECAR = "container";
    ({ handler } = await import("../../functions/injector.ts"));
  });

  const event = (method: string, body: string, base64 = false) => ({
    requestContext: { http: { method } },
    body: base64 ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: base64,
  });

  it.each([false, true])(
    "answers a function URL event as the pure function does (base64: %s)",
    async (base64) => {
      const result = await handler(event("POST", JSON.stringify(reviewOf("job-pod")), base64));
      expect(result.statusCode).toBe(200);
      expect(result.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(result.body)).toEqual(reviewAdmission(reviewOf("job-pod"), OPTIONS));
    },
  );

  it.each([
    ["GET", "", 405],
    ["POST", "[", 400],
    ["POST", '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}', 400],
  ])("%s %s: %s", async (method, body, status) => {
    const result = await handler(event(method, body));
    expect(result.statusCode).toBe(status);
    expect(JSON.parse(result.body).errors).toHaveLength(1);
  });
});
