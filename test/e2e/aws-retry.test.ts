/**
 * The retry policy of the AWS clients Coffer builds (shared/aws-retry.ts), against moto
 * behind the fault proxy: every call gets its three attempts however long faults last
 * before it, so a call after a long outage still rides out a short fault. The SDK's
 * default retry budget would have run dry after a few dozen faulted calls and left later
 * calls with a single attempt.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAwsBroker } from "../../functions/aws-broker.ts";
import { AWS_MAX_ATTEMPTS, awsRetryDelay } from "../../shared/aws-retry.ts";
import type { Broker } from "../../shared/broker.ts";
import { isCofferError } from "../../shared/errors.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { openAwsFixture } from "../support/aws-engine-fixture.ts";
import { type FaultProxy, type ProxiedRequest, startFaultProxy } from "../support/fault-proxy.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

/** More faulted calls in a row than the SDK's default budget (500 tokens, 14 per transient retry) allows. */
const FAULTED_CALLS = 25;

describe("the retry delay", () => {
  it("is full jitter under a doubling ceiling, longer after throttling, and capped", () => {
    expect([1, 2, 3].map((retry) => awsRetryDelay(retry, false, () => 0.999))).toEqual([99, 199, 399]);
    expect([1, 2].map((retry) => awsRetryDelay(retry, true, () => 0.999))).toEqual([499, 999]);
    expect(awsRetryDelay(10, true, () => 0.999)).toBe(1998);
    expect(awsRetryDelay(2, true, () => 0)).toBe(0);
  });
});

describe.skipIf(!motoAvailable())("AWS clients under sustained faults", () => {
  const moto = useMoto();
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
  }, 60_000);
  afterEach(() => proxy.clear());
  afterAll(async () => {
    await proxy?.close();
  });

  /**
   * Fails every request `matching` for FAULTED_CALLS calls, checking each got all its
   * attempts; then fails only the first two attempts of one more call, which succeeds.
   */
  async function sustainFaults(
    matching: (request: ProxiedRequest) => boolean,
    /** True when the call succeeded, false when it failed as unavailable. */
    call: () => Promise<boolean>,
  ) {
    const failing = proxy.inject({ match: matching, fault: { kind: "reset-before" } });
    for (let i = 0; i < FAULTED_CALLS; i++) {
      const before = failing.applied();
      expect(await call()).toBe(false);
      expect(failing.applied() - before, `faulted call ${i + 1}`).toBe(AWS_MAX_ATTEMPTS);
    }
    proxy.clear();
    const brief = proxy.inject({
      match: matching,
      fault: { kind: "error", status: 500, code: "InternalServerError", message: "Internal server error" },
      times: AWS_MAX_ATTEMPTS - 1,
    });
    expect(await call()).toBe(true);
    expect(brief.applied()).toBe(AWS_MAX_ATTEMPTS - 1);
  }

  it("gives DynamoDB calls of the deployed composition three attempts after a long outage", async () => {
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    const clientConfig = motoClientConfig(moto);
    await createTable(new DynamoDBClient(clientConfig), "retries");
    const key = await new KMSClient(clientConfig).send(new CreateKeyCommand({}));
    const broker: Broker = await createAwsBroker({
      tableName: "retries",
      kmsKeyId: String(key.KeyMetadata?.KeyId),
      region: moto.region,
      endpoint: proxy.endpoint,
      auditWriters: [() => {}],
    });
    const dynamodb = (request: ProxiedRequest) => request.service === "dynamodb";
    await sustainFaults(dynamodb, () =>
      broker.store.get({ pk: "p", sk: "s" }).then(
        () => true,
        (error) => (isCofferError(error, "ERR_UPSTREAM_UNAVAILABLE") ? false : Promise.reject(error)),
      ),
    );
  }, 60_000);

  it("gives the aws engine's STS calls three attempts after a long outage", async () => {
    const aws = await openAwsFixture(moto, {}, proxy.endpoint);
    const role = await aws.call("POST", "aws/roles/app", {
      credential_type: "assumed_role",
      role_arns: [aws.roles.app!.arn],
    });
    expect(role.status).toBe(204);
    const assumeRole = (request: ProxiedRequest) => request.operation === "AssumeRole";
    await sustainFaults(assumeRole, async () => {
      const reply = await aws.call("GET", "aws/creds/app");
      expect([200, 503]).toContain(reply.status);
      return reply.status === 200;
    });
  }, 60_000);
});
