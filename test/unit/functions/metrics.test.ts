/**
 * The functions' metrics (functions/metrics.ts): each API request and each sweep writes a
 * CloudWatch Embedded Metric Format document, whose every declared metric is a number at
 * the top level, in the stage's namespace, with the one dimension the alarms read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../functions/api-handler.ts";
import { requestMetrics } from "../../../functions/metrics.ts";
import { createRevoker } from "../../../functions/revoker.ts";
import type { Broker } from "../../../shared/broker.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { ingressEvent, readResult } from "./ingress-events.ts";

const NAMESPACE = "Coffer/test";

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

beforeAll(async () => {
  deployment = await openDeployment();
  ({ broker, rootToken } = deployment);
});

afterAll(async () => {
  await deployment.close();
});

describe("the API's metrics", () => {
  it("count each request, its latency, and a denial, in one line per request", async () => {
    const lines: string[] = [];
    const handler = createApiHandler(broker, {
      metrics: { namespace: NAMESPACE, write: (line) => lines.push(line) },
    });
    const send = async (token: string) => {
      const event = ingressEvent("function-url", {
        method: "GET",
        path: "/v1/sys/mounts",
        headers: { "x-vault-token": token },
      });
      // biome-ignore lint/suspicious/noExplicitAny: the Lambda context is not read by the app.
      return readResult((await handler(event as any, {} as any)) as Record<string, unknown>);
    };

    expect((await send(rootToken)).status).toBe(200);
    expect((await send("hvs.not-a-token")).status).toBe(403);
    expect(lines).toHaveLength(2);
    const [allowed, denied] = lines.map((line) => declaredMetrics(JSON.parse(line), "api"));
    expect(allowed).toMatchObject({ Requests: 1, ServerErrors: 0, Denied: 0 });
    expect(denied).toMatchObject({ Requests: 1, ServerErrors: 0, Denied: 1 });
    expect(allowed?.LatencyMs).toBeGreaterThanOrEqual(0);
  });

  it("count every 5xx as a server error, 503 included", () => {
    expect(requestMetrics(503, 5)).toMatchObject({ ServerErrors: { value: 1 }, Denied: { value: 0 } });
    expect(requestMetrics(500, 5).ServerErrors?.value).toBe(1);
    expect(requestMetrics(429, 5).ServerErrors?.value).toBe(0);
  });

  it("write nothing unless a namespace is given", async () => {
    const handler = createApiHandler(broker);
    const event = ingressEvent("function-url", { method: "GET", path: "/v1/sys/health" });
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    expect(readResult((await handler(event as any, {} as any)) as Record<string, unknown>).status).toBe(200);
  });
});

describe("the revoker's metrics", () => {
  it("make each sweep report an EMF document with lag, failures, backlog and revocations", async () => {
    const lines: Record<string, unknown>[] = [];
    const revoker = createRevoker(
      broker,
      (level, msg, fields) => lines.push({ level, msg, ...fields }),
      NAMESPACE,
    );
    const report = await revoker({}, { getRemainingTimeInMillis: () => 60_000 });
    const sweep = lines.find((line) => line.msg === "lease sweep");
    expect(sweep).toMatchObject({ sweep_id: report.sweep_id, lag_ms_max: report.lag_ms_max });
    expect(declaredMetrics(sweep!, "revoker")).toEqual({
      RevocationLagMs: report.lag_ms_max,
      RevocationFailures: report.failed,
      LeasesDue: report.due,
      LeasesRevoked: report.revoked + report.revoked_early,
    });
  });

  it("write a plain report line without a namespace", async () => {
    const lines: Record<string, unknown>[] = [];
    await createRevoker(broker, (level, msg, fields) => lines.push({ level, msg, ...fields }))(
      {},
      { getRemainingTimeInMillis: () => 60_000 },
    );
    expect(lines.find((line) => line.msg === "lease sweep")).not.toHaveProperty("_aws");
  });
});
