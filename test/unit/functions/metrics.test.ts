/**
 * The functions' metrics (functions/metrics.ts): each API request and each sweep writes a
 * CloudWatch Embedded Metric Format document, whose every declared metric is a number at
 * the top level, in the stage's namespace, with the one dimension the alarms read
 * (stacks/alarms.ts reads these names: a renamed metric fails here first).
 */

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../../../functions/api-handler.ts";
import { type AwsBrokerConfig, createAwsBroker } from "../../../functions/aws-broker.ts";
import { createMetrics, requestMetrics } from "../../../functions/metrics.ts";
import { createRevoker } from "../../../functions/revoker.ts";
import { warmUp } from "../../../functions/warm-up.ts";
import type { Broker } from "../../../shared/broker.ts";
import { routeLabel } from "../../../shared/mounts/route-label.ts";
import { createTable } from "../../../shared/store/dynamodb.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { ingressEvent, readResult } from "../../support/ingress-events.ts";
import { createLeaseTestEngine } from "../../support/lease-test-engine.ts";
import { type Moto, motoAvailable, motoClientConfig, startMoto } from "../../support/moto.ts";
import { type CapturedLines, captureLogOutput, emfLines } from "./log-output.ts";

const NAMESPACE = "Coffer/test";
const NO_CALLS = { store: 0, kms: 0 };
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
  deployment = await openDeployment({ engines: { leasing: createLeaseTestEngine().type } });
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
    expect(Object.keys(allowed ?? {}).sort()).toEqual([
      "Denied",
      "KmsCalls",
      "LatencyMs",
      "LeasesIssued",
      "LeasesRenewed",
      "Requests",
      "ServerErrors",
      "StoreCalls",
    ]);
    // The ids that join the line to the invocation's logs and to its audit records.
    expect(lines[0]).toMatchObject({
      function_request_id: "lambda-request-1",
      audit_request_id: allowedBody.request_id,
    });
    expect(lines[1]?.audit_request_id).toEqual(expect.any(String));
    expect(lines[1]?.audit_request_id).not.toBe(lines[0]?.audit_request_id);
  });

  it("count every 5xx as a server error, 503 included", () => {
    const served = (status: number) =>
      requestMetrics({ status, latencyMs: 5, route: "kv:data/*", carriesLease: false, calls: NO_CALLS });
    expect(served(503)).toMatchObject({ ServerErrors: { value: 1 }, Denied: { value: 0 } });
    expect(served(500).ServerErrors?.value).toBe(1);
    expect(served(429).ServerErrors?.value).toBe(0);
  });

  it("label each request with its route and status, and count the leases it issued or renewed", async () => {
    const handler = createApiHandler(broker, { metrics: createMetrics(NAMESPACE, "api") });
    const send = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) => {
      const event = ingressEvent("function-url", {
        method,
        path: `/v1/${path}`,
        headers: { "x-vault-token": options.token ?? rootToken, "content-type": "application/json" },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      return readResult((await handler(event as any, LAMBDA_CONTEXT as any)) as Record<string, unknown>);
    };
    expect((await send("POST", "sys/mounts/leasing", { body: { type: "leasing" } })).status).toBe(204);
    output.raw.length = 0;

    const secretName = "team-7f3a/payroll-db";
    const secretValue = "metrics-plaintext-must-not-appear-5c1d";
    expect(
      (await send("POST", `secret/data/${secretName}`, { body: { data: { v: secretValue } } })).status,
    ).toBe(200);
    expect((await send("GET", `secret/data/${secretName}`)).status).toBe(200);
    expect((await send("GET", "secret/data/team-7f3a/missing")).status).toBe(404);
    expect((await send("GET", `secret/data/${secretName}`, { token: "hvs.not-a-token" })).status).toBe(403);
    expect((await send("GET", `no-such-mount/${secretName}`)).status).toBe(404);
    const issued = await send("GET", "leasing/creds/deploy-7f3a");
    const leaseId: string = issued.body.lease_id;
    expect(leaseId).toMatch(/^leasing\/creds\/deploy-7f3a\//);
    expect((await send("PUT", "sys/leases/renew", { body: { lease_id: leaseId } })).status).toBe(200);
    expect((await send("PUT", `sys/renew/${leaseId}`)).status).toBe(200);
    expect((await send("PUT", "sys/leases/renew", { body: { lease_id: `${leaseId}x` } })).status).toBe(400);
    // A token is not a lease: its creation issues none.
    expect((await send("POST", "auth/token/create", { body: { ttl: "1h" } })).status).toBe(200);

    const lines = emfLines(output.json());
    const seen = lines.map((line) => {
      const metrics = declaredMetrics(line, "api");
      return {
        route: line.route,
        status: line.status,
        issued: metrics.LeasesIssued,
        renewed: metrics.LeasesRenewed,
        denied: metrics.Denied,
      };
    });
    expect(seen).toEqual([
      { route: "kv:data/*", status: "200", issued: 0, renewed: 0, denied: 0 },
      { route: "kv:data/*", status: "200", issued: 0, renewed: 0, denied: 0 },
      { route: "kv:data/*", status: "404", issued: 0, renewed: 0, denied: 0 },
      { route: "kv:data/*", status: "403", issued: 0, renewed: 0, denied: 1 },
      { route: "unmatched", status: "404", issued: 0, renewed: 0, denied: 0 },
      { route: "leasing:creds/*", status: "200", issued: 1, renewed: 0, denied: 0 },
      { route: "system:leases/renew", status: "200", issued: 0, renewed: 1, denied: 0 },
      { route: "system:renew/*", status: "200", issued: 0, renewed: 1, denied: 0 },
      { route: "system:leases/renew", status: "400", issued: 0, renewed: 0, denied: 0 },
      { route: "token:create(?:-orphan)?", status: "200", issued: 0, renewed: 0, denied: 0 },
    ]);
    // The label is the route's, never the path's: no secret's, credential's or lease's name, no token.
    const written = output.raw.join("");
    for (const forbidden of [rootToken, "hvs.not-a-token", "team-7f3a", "deploy-7f3a", leaseId, secretValue])
      expect(written).not.toContain(forbidden);
  });

  it("label a route by its pattern, each path parameter a star", () => {
    const mount = { type: "transit" } as Parameters<typeof routeLabel>[0]["mount"];
    const label = (pattern: RegExp) => routeLabel({ mount, route: { pattern, fields: {}, operations: {} } });
    expect(label(/^export\/(?<type>[^/]+)\/(?<name>[^/]+)(?:\/(?<version>[^/]+))?$/)).toBe(
      "transit:export/*/*(?:/*)?",
    );
    expect(label(/^keys\/(?<name>[^/(]+)\/config$/)).toBe("transit:keys/*/config");
    expect(label(/^keys\/?$/)).toBe("transit:keys/?");
    expect(routeLabel({ mount })).toBe("transit:unmatched");
    expect(routeLabel({})).toBe("unmatched");
  });

  it("give every route of every engine a label of literal segments and stars only", async () => {
    const handler = createApiHandler(broker);
    for (const [path, type] of [
      ["sys/mounts/transit", "transit"],
      ["sys/mounts/aws", "aws"],
      ["sys/mounts/database", "database"],
      ["sys/mounts/kv1", "kv"],
      ["sys/auth/kubernetes", "kubernetes"],
    ]) {
      const event = ingressEvent("function-url", {
        method: "POST",
        path: `/v1/${path}`,
        headers: { "x-vault-token": rootToken, "content-type": "application/json" },
        body: JSON.stringify({ type, ...(type === "kv" && { options: { version: "1" } }) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const result = (await handler(event as any, LAMBDA_CONTEXT as any)) as Record<string, unknown>;
      expect(readResult(result).status).toBe(204);
    }
    const labels = new Set<string>();
    for (const mount of await broker.mounts.list())
      for (const route of (await broker.engineFor(mount)).routes) labels.add(routeLabel({ mount, route }));
    expect(labels.size).toBeGreaterThan(70);
    // No group that captures, no character class, no escape: nothing a path could fill in.
    for (const label of labels) expect(label).toMatch(/^[a-z]+:([a-z0-9_/*?|-]|\(\?:|\))*$/);
    expect(labels).toContain("kv:*");
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

describe.skipIf(!motoAvailable())("the API's round trips, on DynamoDB and KMS (moto)", () => {
  let moto: Moto;
  let config: AwsBrokerConfig;
  let motoToken: string;
  /** Every round trip the clients made, whoever made it, counted at the wire by the test. */
  const seen = { store: 0, kms: 0 };
  const tally = <Client extends DynamoDBClient | KMSClient>(client: Client, service: keyof typeof seen) => {
    (client.middlewareStack as DynamoDBClient["middlewareStack"]).add(
      (next) => (args) => {
        seen[service]++;
        return next(args);
      },
      { step: "deserialize", name: "test-tally" },
    );
    return client;
  };
  // Fresh clients for each broker: a broker of its own is a cold start of its own.
  const clients = () => ({
    dynamodb: tally(new DynamoDBClient(motoClientConfig(moto)), "store"),
    kms: tally(new KMSClient(motoClientConfig(moto)), "kms"),
  });
  const apiOn = (broker: Broker) => {
    const handler = createApiHandler(broker, { metrics: createMetrics(NAMESPACE, "api") });
    return async (method: string, path: string, body?: unknown) => {
      const event = ingressEvent("function-url", {
        method,
        path: `/v1/${path}`,
        headers: { "x-vault-token": motoToken, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const answer = (await handler(event as any, LAMBDA_CONTEXT as any)) as Record<string, unknown>;
      const result = readResult(answer);
      const lines = emfLines(output.json());
      return { status: result.status, metrics: declaredMetrics(lines[lines.length - 1]!, "api") };
    };
  };
  /** What `work` sent over the wire, and its result. */
  const measured = async <T>(work: () => Promise<T>) => {
    seen.store = 0;
    seen.kms = 0;
    const result = await work();
    return { result, calls: { ...seen } };
  };

  beforeAll(async () => {
    moto = await startMoto();
    const clientConfig = motoClientConfig(moto);
    await createTable(new DynamoDBClient(clientConfig), "coffer-metrics");
    const key = await new KMSClient(clientConfig).send(new CreateKeyCommand({}));
    config = {
      tableName: "coffer-metrics",
      kmsKeyId: key.KeyMetadata?.KeyId as string,
      auditWriters: [() => {}],
      log: () => {},
    };
    motoToken = (await initialize(await createAwsBroker({ ...config, clients: clients() }))).rootToken;
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it("count exactly the DynamoDB and KMS round trips each request made", async () => {
    const send = apiOn(await createAwsBroker({ ...config, clients: clients() }));
    // A cold start: the keyring unwrapped with KMS, the mount table, token and policy read.
    const cold = await measured(() => send("POST", "secret/data/app/db", { data: { password: "x" } }));
    const write = await measured(() => send("POST", "secret/data/app/db", { data: { password: "y" } }));
    const read = await measured(() => send("GET", "secret/data/app/db"));
    const missing = await measured(() => send("GET", "secret/data/app/none"));
    for (const { result, calls } of [cold, write, read, missing]) {
      expect(result.metrics).toMatchObject({ StoreCalls: calls.store, KmsCalls: calls.kms });
    }
    expect([cold, write, read, missing].map(({ result }) => result.status)).toEqual([200, 200, 200, 404]);
    expect(cold.result.metrics.KmsCalls).toBe(1);
    expect(cold.result.metrics.StoreCalls).toBeGreaterThan(write.result.metrics.StoreCalls!);
    expect(read.result.metrics.KmsCalls).toBe(0);
    expect(read.result.metrics.StoreCalls).toBeGreaterThan(0);
  });

  it("count none of the calls made outside the request, such as the warm-up's, even while it waits on them", async () => {
    const alone = await measured(async () =>
      warmUp(await createAwsBroker({ ...config, clients: clients() })),
    );
    expect(alone.calls.kms).toBe(1);

    const broker = await createAwsBroker({ ...config, clients: clients() });
    const send = apiOn(broker);
    const overlapped = await measured(async () => {
      // The initialization's warm-up, still unwrapping the keyring as the first request arrives.
      const warming = warmUp(broker);
      const answered = await send("GET", "secret/data/app/db");
      await warming;
      return answered;
    });
    expect(overlapped.result.status).toBe(200);
    // The request waited on the warm-up's unwrapping instead of calling KMS itself.
    expect(overlapped.calls.kms).toBe(1);
    expect(overlapped.result.metrics.KmsCalls).toBe(0);
    expect(overlapped.result.metrics.StoreCalls).toBe(overlapped.calls.store - alone.calls.store);
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
