/**
 * The aws engine when AWS fails. STS answers from a wire-level fake (throttling, access
 * denied, faults, unreachable): the caller gets a clear 503 or 400 and nothing is left
 * behind, no lease and no credentials. IAM failing during a revocation (STS from moto, IAM
 * from the fake): the lease stays, marked, is retried by later sweeps with backoff, shows
 * in the log, and is revoked once IAM answers again. And a fresh API function starting
 * while KMS or DynamoDB fails (through a fault proxy in front of moto): every request is a
 * 503 with Retry-After, and nothing happens until the service is back.
 */
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsBroker } from "../../functions/aws-broker.ts";
import { warmUp } from "../../functions/warm-up.ts";
import { createApp } from "../../shared/app.ts";
import { EXPIRY_SHARDS, expiryPartition } from "../../shared/leases/lease-keys.ts";
import { RETRY_BASE_MS } from "../../shared/leases/revocation.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { initialize } from "../../shared/sys/init.ts";
import { MOTO_ACCESS_KEY, MOTO_SECRET_KEY, TRUST_POLICY } from "../support/aws-engine-fixture.ts";
import { type AwsJsonFault, startAwsFaultProxy } from "../support/aws-fault-proxy.ts";
import { clusterKey, mintProjected } from "../support/cluster-keys.ts";
import { type Deployment, openDeployment } from "../support/deployment.ts";
import { type FakeSts, type QueryResponse, queryError, startFakeSts } from "../support/fake-sts.ts";
import { apiCaller, serveOnLoopback } from "../support/http.ts";
import { freePort, motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { allItems } from "../support/store-items.ts";

const ROLE_ARN = "arn:aws:iam::123456789012:role/app";

async function leaseItems(store: ItemStore): Promise<number> {
  const partitions = [
    "lease/aws",
    ...Array.from({ length: EXPIRY_SHARDS }, (_, shard) => expiryPartition(shard)),
  ];
  const pages = await Promise.all(partitions.map((pk) => allItems(store, pk)));
  return pages.reduce((total, items) => total + items.length, 0);
}

/** A deployment on SQLite with `aws/` mounted, configured with the given endpoints, and role "app". */
async function openSubject(config: Record<string, unknown>, roleArn = ROLE_ARN): Promise<Deployment> {
  const subject = await openDeployment();
  const { call } = subject;
  expect((await call("POST", "sys/mounts/aws", { type: "aws" })).status).toBe(204);
  const configured = await call("POST", "aws/config/root", {
    region: "us-east-1",
    access_key: MOTO_ACCESS_KEY,
    secret_key: MOTO_SECRET_KEY,
    ...config,
  });
  expect(configured.status).toBe(204);
  expect((await call("POST", "aws/roles/app", { role_arns: roleArn })).status).toBe(204);
  return subject;
}

describe("STS failing", () => {
  let fake: FakeSts | undefined;
  let subject: Deployment | undefined;
  afterEach(async () => {
    await fake?.close();
    await subject?.close();
    fake = undefined;
    subject = undefined;
  });

  async function failingWith(response: QueryResponse): Promise<Deployment> {
    fake = await startFakeSts(() => response);
    subject = await openSubject({ sts_endpoint: fake.endpoint, iam_endpoint: fake.endpoint });
    return subject;
  }

  it("answers 503 with Retry-After when STS throttles, after the SDK's retries, and leaves no lease", async () => {
    const { call, broker, audit } = await failingWith(queryError(400, "Throttling", "Rate exceeded"));
    const reply = await call("GET", "aws/creds/app");
    expect(reply.status).toBe(503);
    expect(reply.headers.get("retry-after")).toBe("1");
    expect(reply.body.errors).toEqual([`AWS throttled the request to assume role ${ROLE_ARN}; retry later`]);
    expect(fake?.requests.map((request) => request.action)).toEqual([
      "AssumeRole",
      "AssumeRole",
      "AssumeRole",
    ]);
    expect(await leaseItems(broker.store)).toBe(0);
    expect(audit.at(-1)).toMatchObject({ request: { path: "aws/creds/app" }, response: { status: 503 } });
  });

  it("answers 400 naming AWS's refusal when STS denies access, without retrying, and leaves no lease", async () => {
    const { call, broker } = await failingWith(
      queryError(
        403,
        "AccessDenied",
        `User: coffer is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
      ),
    );
    const reply = await call("POST", "aws/creds/app", { ttl: "15m" });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatch(
      /^AWS refused to assume role .*: AccessDenied: User: coffer is not authorized/,
    );
    expect(fake?.requests).toHaveLength(1);
    expect(await leaseItems(broker.store)).toBe(0);
  });

  it("answers 503 when STS fails on its side", async () => {
    const { call, broker } = await failingWith(queryError(500, "InternalFailure", "internal"));
    const reply = await call("GET", "aws/creds/app");
    expect(reply.status).toBe(503);
    expect(reply.body.errors).toEqual([`AWS failed to assume role ${ROLE_ARN}: InternalFailure`]);
    expect(await leaseItems(broker.store)).toBe(0);
  });

  it("answers 503 when STS answers without credentials", async () => {
    const { call, broker } = await failingWith({
      status: 200,
      body: '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>',
    });
    const reply = await call("GET", "aws/creds/app");
    expect(reply.status).toBe(503);
    expect(await leaseItems(broker.store)).toBe(0);
  });

  it("answers 503 when STS cannot be reached", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    subject = await openSubject({ sts_endpoint: closed, iam_endpoint: closed, max_retries: 0 });
    const reply = await subject.call("GET", "aws/creds/app");
    expect(reply.status).toBe(503);
    expect(reply.body.errors).toEqual([`AWS could not be reached to assume role ${ROLE_ARN}`]);
    expect(await leaseItems(subject.broker.store)).toBe(0);
  });
});

describe.skipIf(!motoAvailable())("IAM failing during a revocation", () => {
  const moto = useMoto();
  let fake: FakeSts;
  let roleArn: string;
  beforeAll(async () => {
    const iam = new IAMClient(motoClientConfig(moto));
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: "app", AssumeRolePolicyDocument: TRUST_POLICY }),
    );
    roleArn = String(role.Role?.Arn);
    fake = await startFakeSts(() => queryError(503, "ServiceUnavailable", "IAM is having a bad day"));
  }, 60_000);
  afterAll(async () => {
    await fake?.close();
  });

  it("keeps the lease marked, retries it on later sweeps with backoff, and revokes it once IAM recovers", async () => {
    const subject = await openSubject({ sts_endpoint: moto.endpoint, iam_endpoint: fake.endpoint }, roleArn);
    const { call, broker, clock, logs } = subject;
    const creds = await call("GET", "aws/creds/app");
    expect(creds.status).toBe(200);
    const leaseId = creds.body.lease_id as string;

    const revoke = await call("PUT", `sys/leases/revoke/${leaseId}`, {});
    expect(revoke.status).toBe(503);
    expect(revoke.body.errors[0]).toMatch(
      new RegExp(
        `^failed to revoke 1 of 1 leases; they remain marked for revocation and the revoker retries them: ${leaseId}: `,
      ),
    );
    const failedOnce = logs.filter(
      (event) => event.msg === "lease revocation failed" && event.lease_id === leaseId,
    );
    expect(failedOnce).toHaveLength(1);
    expect(failedOnce[0]).toMatchObject({ level: "warn", attempts: 1 });
    // Still there, still live (the credentials are), and no longer renewable.
    expect((await call("PUT", "sys/leases/lookup", { lease_id: leaseId })).status).toBe(200);

    // The first retry waits RETRY_BASE_MS; it fails again and the next waits twice as long.
    expect((await broker.leases.sweep({ budgetMs: 10_000 })).due).toBe(0);
    clock.advance(RETRY_BASE_MS);
    expect(await broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({ due: 1, failed: 1 });
    expect((await broker.leases.lookup(leaseId))?.attempts).toBe(2);
    clock.advance(RETRY_BASE_MS);
    expect((await broker.leases.sweep({ budgetMs: 10_000 })).due).toBe(0);

    // IAM is back (here: the endpoint now points at one that works).
    expect(
      (
        await call("POST", "aws/config/root", {
          region: "us-east-1",
          sts_endpoint: moto.endpoint,
          iam_endpoint: moto.endpoint,
          access_key: MOTO_ACCESS_KEY,
          secret_key: MOTO_SECRET_KEY,
        })
      ).status,
    ).toBe(204);
    clock.advance(RETRY_BASE_MS);
    expect(await broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({
      due: 1,
      revoked_early: 1,
      failed: 0,
    });
    expect(await broker.leases.lookup(leaseId)).toBeUndefined();
    expect(logs.filter((event) => event.msg === "lease revocation failed")).toHaveLength(2);
    await subject.close();
  });
});

describe.skipIf(!motoAvailable())("a cold start while KMS or DynamoDB fails", () => {
  const tableName = "coffer-cold-start";
  const issuer = "https://cluster.example";
  const moto = useMoto();
  let kmsKeyId: string;
  let rootToken: string;
  let jwt: string;

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    await createTable(new DynamoDBClient(motoClientConfig(moto)), tableName);
    const key = await new KMSClient(motoClientConfig(moto)).send(new CreateKeyCommand({}));
    kmsKeyId = String(key.KeyMetadata?.KeyId);
    const broker = await createAwsBroker({
      tableName,
      kmsKeyId,
      region: moto.region,
      endpoint: moto.endpoint,
    });
    ({ rootToken } = await initialize(broker));
    const call = apiCaller(createApp(broker, { logError: () => {} }), rootToken);
    const signer = await clusterKey("ES256");
    for (const [path, body] of [
      ["sys/auth/kubernetes", { type: "kubernetes" }],
      ["auth/kubernetes/config", { issuer, pem_keys: [signer.pem] }],
      [
        "auth/kubernetes/role/app",
        {
          bound_service_account_names: "app",
          bound_service_account_namespaces: "default",
          audience: "coffer",
          token_policies: "default",
        },
      ],
    ] as const) {
      expect((await call("POST", path, body)).status).toBe(204);
    }
    jwt = await mintProjected(signer, { issuer, audience: "coffer" });
  }, 60_000);

  /** Every item of the table, as moto holds it. */
  async function tableItems(): Promise<string[]> {
    const scan = await new DynamoDBClient(motoClientConfig(moto)).send(
      new ScanCommand({ TableName: tableName }),
    );
    return (scan.Items ?? []).map((item) => `${item.pk?.S} ${item.sk?.S}`).sort();
  }

  const FAULTS: [string, (request: { service: string; operation: string }) => AwsJsonFault | undefined][] = [
    [
      "KMS Decrypt throttled",
      (request) =>
        request.service === "KMS"
          ? { status: 400, type: "ThrottlingException", message: "Rate exceeded" }
          : undefined,
    ],
    [
      "KMS failing on its side",
      (request) =>
        request.service === "KMS"
          ? { status: 500, type: "KMSInternalException", message: "internal" }
          : undefined,
    ],
    [
      "the KMS key disabled",
      (request) =>
        request.service === "KMS"
          ? { status: 400, type: "DisabledException", message: "the key is disabled" }
          : undefined,
    ],
    [
      "DynamoDB throttled",
      (request) =>
        request.service === "DynamoDB"
          ? {
              status: 400,
              type: "ThrottlingException",
              message: "Rate of requests exceeds the allowed throughput.",
            }
          : undefined,
    ],
  ];

  it.each(FAULTS)(
    "%s: a KV write and a login answer 503 with Retry-After and do nothing",
    async (_name, fault) => {
      const proxy = await startAwsFaultProxy(moto.endpoint);
      proxy.fault = fault;
      const audit: { type: string; request: { path: string } }[] = [];
      // A fresh API function, as functions/api.ts builds it: its warm-up fails.
      const broker = await createAwsBroker({
        tableName,
        kmsKeyId,
        region: moto.region,
        endpoint: proxy.endpoint,
        auditWriters: [(line) => void audit.push(JSON.parse(line))],
      });
      await warmUp(broker);
      const server = await serveOnLoopback(createApp(broker, { logError: () => {} }));
      const post = (path: string, body: unknown, token?: string) =>
        fetch(`${server.address}/v1/${path}`, {
          method: "POST",
          headers: token ? { "X-Vault-Token": token } : {},
          body: JSON.stringify(body),
        });
      try {
        const before = await tableItems();
        for (const [path, body, token] of [
          ["secret/data/cold/db", { data: { password: "written-while-down" } }, rootToken],
          ["auth/kubernetes/login", { role: "app", jwt }, undefined],
        ] as const) {
          const reply = await post(path, body, token);
          expect({ path, status: reply.status, retryAfter: reply.headers.get("retry-after") }).toEqual({
            path,
            status: 503,
            retryAfter: "1",
          });
          expect((await reply.json()).errors).toEqual([
            expect.stringMatching(/unavailable|throttl|disabled/i),
          ]);
        }
        expect(proxy.faulted.length).toBeGreaterThan(0);
        expect(await tableItems()).toEqual(before);
        // No handler ran: no request record was ever written, only the refusals.
        expect(audit.filter((record) => record.type === "request")).toEqual([]);

        // The service is back: the same function serves both, without a restart.
        proxy.fault = () => undefined;
        expect((await post("secret/data/cold/db", { data: { password: "written" } }, rootToken)).status).toBe(
          200,
        );
        expect((await post("auth/kubernetes/login", { role: "app", jwt })).status).toBe(200);
      } finally {
        await server.close();
        await proxy.close();
      }
    },
  );
});
