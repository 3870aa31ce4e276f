/**
 * What the functions log (functions/log-lines.ts): each record one JSON object on a line of
 * its own on stdout or stderr, with nothing before it, so that CloudWatch Logs reads its fields; the
 * broker's lines carry the Lambda request id and, during an API request, the request id
 * of its audit records; and no line ever holds a token, a secret or key material.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApiHandler } from "../../../functions/api-handler.ts";
import { lambdaLogging, startInvocation } from "../../../functions/log-lines.ts";
import { createMetrics } from "../../../functions/metrics.ts";
import { createBroker } from "../../../shared/broker.ts";
import { toHex } from "../../../shared/crypto/encoding.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { ENGINES } from "../../../shared/registry.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { ingressEvent, readResult } from "../../support/ingress-events.ts";
import { type CapturedLines, captureLogOutput } from "./log-output.ts";

let output: CapturedLines;

beforeEach(() => {
  output = captureLogOutput();
});

afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

function wholeJsonLine(): Record<string, unknown> {
  const lines = output.json();
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe("the functions' log lines", () => {
  it("write the lease machinery's records (the sweep report) as a whole JSON line with the invocation's id", () => {
    startInvocation({ awsRequestId: "lambda-request-2", functionName: "coffer-test-revoker" } as never);
    lambdaLogging.log("warn", "lease sweep", { sweep_id: "s1", failed: 2, lag_ms_max: 10 });
    expect(wholeJsonLine()).toMatchObject({
      level: "WARN",
      message: "lease sweep",
      service: "coffer",
      function_name: "coffer-test-revoker",
      function_request_id: "lambda-request-2",
      sweep_id: "s1",
      failed: 2,
    });
  });

  it("write an audit record as it is, on a line of its own", () => {
    const record = JSON.stringify({ type: "request", request: { path: "secret/data/x" } });
    for (const writer of lambdaLogging.auditWriters) writer(record);
    expect(wholeJsonLine()).toEqual(JSON.parse(record));
  });

  it("write an item that failed authentication with where it is and why, never what it holds", () => {
    lambdaLogging.onRejectedItem({ pk: "token", sk: "abc", reason: "MAC mismatch" });
    expect(wholeJsonLine()).toMatchObject({ level: "ERROR", pk: "token", sk: "abc", reason: "MAC mismatch" });
  });
});

describe("an API function's log output over real requests", () => {
  it("ties every line to its invocation and audit request, and holds no token, secret or key", async () => {
    // The Logger's own event logging, were it ever wired, would print the token header.
    vi.stubEnv("POWERTOOLS_LOGGER_LOG_EVENT", "true");
    const store = openSqliteStore({ path: ":memory:" });
    const rootKey = crypto.getRandomValues(new Uint8Array(32));
    const secret = `s3cret-${crypto.randomUUID()}`;
    try {
      // Two instances of the function over one table and key, as Lambda runs them.
      const brokerInstance = () =>
        createBroker({
          store,
          storage: "sqlite",
          keyProvider: createLocalKeyProvider(rootKey),
          engines: ENGINES,
          ...lambdaLogging,
        });
      const instance = async () =>
        createApiHandler(await brokerInstance(), { metrics: createMetrics("Coffer/test", "api") });
      const first = await instance();
      const { rootToken } = await initialize(await brokerInstance());
      let invocation = 0;
      const send = async (
        handler: typeof first,
        method: string,
        path: string,
        token: string,
        body?: unknown,
      ) => {
        const event = ingressEvent("function-url", {
          method,
          path: `/v1/${path}`,
          headers: { "x-vault-token": token, "content-type": "application/json" },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        const context = { awsRequestId: `lambda-${++invocation}`, functionName: "coffer-test-api" };
        // biome-ignore lint/suspicious/noExplicitAny: a Lambda context has more than the logs read.
        return readResult((await handler(event as any, context as any)) as Record<string, unknown>);
      };

      const write = await send(first, "POST", "secret/data/app/db", rootToken, {
        data: { password: secret },
      });
      expect(write.status).toBe(200);
      expect((await send(first, "GET", "secret/data/app/db", rootToken)).body.data.data.password).toBe(
        secret,
      );
      const policy = 'path "secret/*" { capabilities = ["read"] }';
      expect((await send(first, "PUT", "sys/policies/acl/reader", rootToken, { policy })).status).toBe(204);
      const child = await send(first, "POST", "auth/token/create", rootToken, { policies: ["reader"] });
      const childToken = child.body.auth.client_token as string;
      // Someone with write access to the table edits the policy: the other instance, reading
      // it for the first time, logs the item and treats it as absent.
      const item = await store.get({ pk: "policy/acl", sk: "reader" });
      await store.write([{ op: "put", item: { ...item!, forged: "yes" } }]);
      const tampered = await send(await instance(), "GET", "secret/data/app/db", childToken);
      expect(tampered.status).toBe(403);

      const lines = output.json();
      const logLines = lines.filter((line) => "level" in line);
      const rejected = logLines.find(
        (line) => line.message === "an item failed authentication and is treated as absent",
      );
      expect(rejected).toMatchObject({
        level: "ERROR",
        pk: "policy/acl",
        sk: "reader",
        function_request_id: "lambda-5",
      });
      const audited = lines.filter((line) => line.type === "request" || line.type === "response");
      const auditIds = new Set(audited.map((line) => (line.request as { id: string }).id));
      expect(auditIds.has(rejected?.audit_request_id as string)).toBe(true);
      for (const line of logLines) expect(line.function_request_id).toMatch(/^lambda-\d$/);

      const everything = output.raw.join("");
      for (const forbidden of [
        rootToken,
        childToken,
        secret,
        toHex(rootKey),
        Buffer.from(rootKey).toString("base64"),
      ]) {
        expect(everything).not.toContain(forbidden);
      }
    } finally {
      await store.close();
    }
  });
});
