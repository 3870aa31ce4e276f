/**
 * The fault proxy in front of moto (test/support/fault-proxy.ts) delivers what AWS would:
 * each service's errors arrive through the real SDK clients as that service's own typed
 * errors, a reset before forwarding leaves nothing applied, and a reset after forwarding
 * leaves the request applied while its caller sees the connection fail.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateRoleCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTable } from "../../shared/store/dynamodb.ts";
import { TRUST_POLICY } from "../support/aws-engine-fixture.ts";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

describe.skipIf(!motoAvailable())("the fault proxy", () => {
  const moto = useMoto();
  let proxy: FaultProxy;
  /** Clients through the proxy, one attempt each, so every fault reaches the test. */
  let through: { dynamodb: DynamoDBClient; kms: KMSClient; sts: STSClient; iam: IAMClient };

  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
    const config = { ...motoClientConfig(moto), endpoint: proxy.endpoint, maxAttempts: 1 };
    through = {
      dynamodb: new DynamoDBClient(config),
      kms: new KMSClient(config),
      sts: new STSClient(config),
      iam: new IAMClient(config),
    };
    await createTable(new DynamoDBClient(motoClientConfig(moto)), "proxied");
  }, 60_000);
  afterEach(() => proxy.clear());
  afterAll(async () => {
    await proxy?.close();
  });

  const error = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (caught: { name?: string; $metadata?: { httpStatusCode?: number } }) => ({
        name: caught.name,
        status: caught.$metadata?.httpStatusCode,
      }),
    );

  it("answers each service's errors in its own wire format", async () => {
    const inject = (code: string, status: number) =>
      proxy.inject({ fault: { kind: "error", status, code }, times: 1 });

    inject("ProvisionedThroughputExceededException", 400);
    expect(
      await error(
        through.dynamodb.send(
          new GetItemCommand({ TableName: "proxied", Key: { pk: { S: "a" }, sk: { S: "b" } } }),
        ),
      ),
    ).toEqual({ name: "ProvisionedThroughputExceededException", status: 400 });

    inject("KMSInternalException", 500);
    expect(await error(through.kms.send(new CreateKeyCommand({})))).toEqual({
      name: "KMSInternalException",
      status: 500,
    });
    inject("DisabledException", 400);
    expect(await error(through.kms.send(new DescribeKeyCommand({ KeyId: "k" })))).toEqual({
      name: "DisabledException",
      status: 400,
    });

    inject("Throttling", 400);
    expect(await error(through.sts.send(new GetCallerIdentityCommand({})))).toMatchObject({
      name: "Throttling",
      status: 400,
    });
    inject("NoSuchEntity", 404);
    // The SDK names IAM's modelled NoSuchEntity as it names the exception class.
    expect(await error(through.iam.send(new GetRoleCommand({ RoleName: "nobody" })))).toMatchObject({
      name: "NoSuchEntityException",
      status: 404,
    });
    expect(proxy.requests.map((request) => [request.service, request.operation])).toEqual([
      ["dynamodb", "GetItem"],
      ["kms", "CreateKey"],
      ["kms", "DescribeKey"],
      ["sts", "GetCallerIdentity"],
      ["iam", "GetRole"],
    ]);
  });

  it("resets before forwarding with nothing applied, and after forwarding with the request applied", async () => {
    const put = (sk: string) =>
      through.dynamodb.send(
        new PutItemCommand({ TableName: "proxied", Item: { pk: { S: "reset" }, sk: { S: sk } } }),
      );
    const stored = async (sk: string) =>
      (
        await new DynamoDBClient(motoClientConfig(moto)).send(
          new GetItemCommand({ TableName: "proxied", Key: { pk: { S: "reset" }, sk: { S: sk } } }),
        )
      ).Item !== undefined;

    proxy.inject({ fault: { kind: "reset-before" }, times: 1 });
    await expect(put("before")).rejects.toThrow();
    expect(await stored("before")).toBe(false);

    proxy.inject({ fault: { kind: "reset-after" }, times: 1 });
    await expect(put("after")).rejects.toThrow();
    expect(await stored("after")).toBe(true);

    await through.iam.send(
      new CreateRoleCommand({ RoleName: "reset", AssumeRolePolicyDocument: TRUST_POLICY }),
    );
    expect(proxy.requests.at(-1)).toMatchObject({ service: "iam", operation: "CreateRole", status: 200 });
  });
});
