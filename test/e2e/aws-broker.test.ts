/**
 * The deployed composition (DynamoDB + KMS, as functions/api.ts builds it) against moto:
 * secrets round-trip through the real SDK clients and the table holds no plaintext.
 */
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { beforeAll, describe, expect, it } from "vitest";
import { awsConfigFromEnv, createAwsBroker } from "../../functions/aws-broker.ts";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { initialize } from "../../shared/sys/init.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

const SECRET = "moto-plaintext-must-not-appear-7c1d";

describe.skipIf(!motoAvailable())("the AWS composition on moto", () => {
  const moto = useMoto();
  let broker: Broker;
  let rootToken: string;
  const tableName = "coffer-e2e";

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    const clientConfig = motoClientConfig(moto);
    await createTable(new DynamoDBClient(clientConfig), tableName);
    const key = await new KMSClient(clientConfig).send(new CreateKeyCommand({}));
    broker = await createAwsBroker(
      awsConfigFromEnv({
        COFFER_TABLE: tableName,
        COFFER_KMS_KEY_ID: key.KeyMetadata?.KeyId,
        COFFER_REGION: moto.region,
        COFFER_AWS_ENDPOINT: moto.endpoint,
      }),
    );
    ({ rootToken } = await initialize(broker));
  });

  it("names every missing setting", () => {
    expect(() => awsConfigFromEnv({})).toThrow(/COFFER_TABLE, COFFER_KMS_KEY_ID/);
  });

  it("reads whether audit records hash numbers and booleans too", () => {
    const required = { COFFER_TABLE: "t", COFFER_KMS_KEY_ID: "k" };
    expect(awsConfigFromEnv(required).auditHashNonStrings).toBe(false);
    expect(awsConfigFromEnv({ ...required, COFFER_AUDIT_HASH_NON_STRINGS: "true" }).auditHashNonStrings).toBe(
      true,
    );
    expect(() => awsConfigFromEnv({ ...required, COFFER_AUDIT_HASH_NON_STRINGS: "1" })).toThrow(
      'COFFER_AUDIT_HASH_NON_STRINGS: "1" must be true or false',
    );
  });

  it("round-trips a secret and stores only ciphertext in DynamoDB", async () => {
    const app = createApp(broker, { logError: () => {} });
    const headers = { "X-Vault-Token": rootToken };
    const write = await app.request("/v1/secret/data/app/db", {
      method: "POST",
      headers,
      body: JSON.stringify({ data: { password: SECRET } }),
    });
    expect(write.status).toBe(200);
    const read = await app.request("/v1/secret/data/app/db", { headers });
    expect((await read.json()).data.data.password).toBe(SECRET);

    const scan = await new DynamoDBClient(motoClientConfig(moto)).send(
      new ScanCommand({ TableName: tableName }),
    );
    expect(scan.Items?.length).toBeGreaterThan(3);
    const dump = JSON.stringify(scan.Items, (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : value,
    );
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(rootToken);
  });
});
