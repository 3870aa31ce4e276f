/**
 * The functions' metrics (functions/metrics.ts): each API request and each sweep writes a
 * CloudWatch Embedded Metric Format document, whose every declared metric is a number at
 * the top level, in the stage's namespace, with the one dimension the alarms read
 * (stacks/alarms.ts reads these names: a renamed metric fails here first).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../functions/api-handler.ts";
import { createMetrics, requestMetrics } from "../../../functions/metrics.ts";
import { createRevoker } from "../../../functions/revoker.ts";
import type { Broker } from "../../../shared/broker.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { ingressEvent, readResult } from "../../support/ingress-events.ts";
import { type CapturedLines, captureLogOutput, emfLines } from "./log-output.ts";

const NAMESPACE = "Coffer/test";
const LAMBDA_CONTEXT = { awsRequestId: "lambda-request-1", functionName: "coffer-test-api" };

/** The metrics an EMF document declares, with their values; fails on a malformed one. */
function declaredMetrics(document: Record<string, unknown>, functionName: string) {
  const aws = document._aws as {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(aws.CloudWatchMetrics).toHaveLength(1);
  const [directive] = aws.CloudWatchMetrics;
  expect(directive?.Namespace).toBe(NAMESPACE);
  expect(directive?.Dimensions).toEqual([["Function"]]);
  expect(document.Function).toBe(functionName);
  const values: Record<string, number> = {};
  for (const metric of directive?.Metrics ?? []) {
    expect(["Count", "Milliseconds"]).toContain(metric.Unit);
    expect(typeof document[metric.Name]).toBe("number");
    values[metric.Name] = document[metric.Name] as number;
  }
  return values;
}

let deployment: Deployment;
let broker: Broker;
let rootToken: string;
let output: CapturedLines;

beforeAll(async () => {
  deployment = await openDeployment();
  ({ broker, rootToken } = deployment);
});

afterAll(async () => {
  await deployment.close();
});

beforeEach(() => {
  output = captureLogOutput();
});

afterEach(() => {
  output.restore();
});

describe("the API's metrics", () => {
  it("count each request, its latency, and a denial, in one line per request with its ids", async () => {
    const handler = createApiHandler(broker, { metrics: createMetrics(NAMESPACE, "api") });
    const send = async (token: string) => {
      const event = ingressEvent("function-url", {
        method: "GET",
        path: "/v1/sys/mounts",
        headers: { "x-vault-token": token },
      });
      // biome-ignore lint/suspicious/noExplicitAny: a Lambda context has more than the logs read.
      return readResult((await handler(event as any, LAMBDA_CONTEXT as any)) as Record<string, unknown>);
    };

    const allowedBody = (await send(rootToken)).body;
    expect((await send("hvs.not-a-token")).status).toBe(403);
    const lines = emfLines(output.json());
    expect(lines).toHaveLength(2);
    const [allowed, denied] = lines.map((line) => declaredMetrics(line, "api"));
    expect(allowed).toMatchObject({ Requests: 1, ServerErrors: 0, Denied: 0 });
    expect(denied).toMatchObject({ Requests: 1, ServerErrors: 0, Denied: 1 });
    expect(allowed?.LatencyMs).toBeGreaterThanOrEqual(0);
    expect(Object.keys(allowed ?? {}).sort()).toEqual(["Denied", "LatencyMs", "Requests", "ServerErrors"]);
    // The ids that join the line to the invocation's logs and to its audit records.
    expect(lines[0]).toMatchObject({
      function_request_id: "lambda-request-1",
      audit_request_id: allowedBody.request_id,
    });
    expect(lines[1]?.audit_request_id).toEqual(expect.any(String));
    expect(lines[1]?.audit_request_id).not.toBe(lines[0]?.audit_request_id);
  });

  it("count every 5xx as a server error, 503 included", () => {
    expect(requestMetrics(503, 5)).toMatchObject({ ServerErrors: { value: 1 }, Denied: { value: 0 } });
    expect(requestMetrics(500, 5).ServerErrors?.value).toBe(1);
    expect(requestMetrics(429, 5).ServerErrors?.value).toBe(0);
  });

  it("write nothing without metrics", async () => {
    const handler = createApiHandler(broker);
    const event = ingressEvent("function-url", { method: "GET", path: "/v1/sys/health" });
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    const result = await handler(event as any, LAMBDA_CONTEXT as any);
    expect(readResult(result as Record<string, unknown>).status).toBe(200);
    expect(emfLines(output.json())).toEqual([]);
  });
});

describe("the revoker's metrics", () => {
  it("write each sweep's lag, failures, backlog and revocations as an EMF line beside its report", async () => {
    const reports: Record<string, unknown>[] = [];
    const revoker = createRevoker(
      broker,
      (level, msg, fields) => reports.push({ level, msg, ...fields }),
      createMetrics(NAMESPACE, "revoker"),
    );
    const report = await revoker({}, { getRemainingTimeInMillis: () => 60_000 });
    expect(reports.find((line) => line.msg === "lease sweep")).toMatchObject({ sweep_id: report.sweep_id });
    const [line] = emfLines(output.json());
    expect(line).toMatchObject({ sweep_id: report.sweep_id });
    expect(declaredMetrics(line!, "revoker")).toEqual({
      RevocationLagMs: report.lag_ms_max,
      RevocationFailures: report.failed,
      LeasesDue: report.due,
      LeasesRevoked: report.revoked + report.revoked_early,
      TokensRevoked: report.tokens_revoked,
    });
  });

  it("write no metrics without them", async () => {
    await createRevoker(broker, () => {})({}, { getRemainingTimeInMillis: () => 60_000 });
    expect(emfLines(output.json())).toEqual([]);
  });
});
