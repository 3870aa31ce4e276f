/**
 * Transit on the deployed composition (DynamoDB + KMS) against moto: key changes are
 * DynamoDB transactions with conditions, material is sealed under KMS, and the table holds
 * neither plaintext nor key material in clear.
 */

import { createPublicKey, verify } from "node:crypto";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { beforeAll, describe, expect, it } from "vitest";
import { awsConfigFromEnv, createAwsBroker } from "../../functions/aws-broker.ts";
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { runPeriodicWork } from "../../shared/mounts/periodic.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { initialize } from "../../shared/sys/init.ts";
import { type ApiCall, apiCaller } from "../support/http.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

const SECRET = "transit-on-dynamodb-3b8e";
const b64 = (text: string) => Buffer.from(text).toString("base64");

describe.skipIf(!motoAvailable())("transit on DynamoDB and KMS (moto)", () => {
  const moto = useMoto();
  let broker: Broker;
  const tableName = "coffer-transit-e2e";

  let call: ApiCall;

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
    const { rootToken } = await initialize(broker);
    call = apiCaller(createApp(broker, { logError: () => {} }), rootToken);
    await broker.mounts.enable({ path: "transit/", type: "transit" });
  });

  it("creates, encrypts, rotates, rewraps, trims and deletes", async () => {
    expect((await call("POST", "transit/keys/app", { auto_rotate_period: "1h" })).status).toBe(200);
    const v1 = (await call("POST", "transit/encrypt/app", { plaintext: b64(SECRET) })).body.data.ciphertext;
    expect((await call("POST", "transit/keys/app/rotate")).body.data.latest_version).toBe(2);
    const rewrapped = (await call("POST", "transit/rewrap/app", { ciphertext: v1 })).body.data;
    expect(rewrapped.key_version).toBe(2);
    const decrypted = (await call("POST", "transit/decrypt/app", { ciphertext: rewrapped.ciphertext })).body
      .data;
    expect(Buffer.from(decrypted.plaintext, "base64").toString()).toBe(SECRET);
    expect(await runPeriodicWork(broker, { deadline: Number.POSITIVE_INFINITY })).toMatchObject({
      done: 0,
      failed: 0,
      complete: true,
    });

    const config = await call("POST", "transit/keys/app/config", {
      min_decryption_version: 2,
      min_encryption_version: 2,
    });
    expect(config.status).toBe(200);
    const trimmed = await call("POST", "transit/keys/app/trim", { min_available_version: 2 });
    expect(Object.keys(trimmed.body.data.keys)).toEqual(["2"]);
    expect((await call("POST", "transit/decrypt/app", { ciphertext: v1 })).status).toBe(400);

    const scan = await new DynamoDBClient(motoClientConfig(moto)).send(
      new ScanCommand({ TableName: tableName }),
    );
    const dump = JSON.stringify(scan.Items, (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : value,
    );
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(b64(SECRET));

    await call("POST", "transit/keys/app/config", { deletion_allowed: true });
    expect((await call("DELETE", "transit/keys/app")).status).toBe(204);
    expect((await call("GET", "transit/keys/app")).status).toBe(404);
  });

  it("keeps a signing key's pair on DynamoDB: signatures verify across rotation, outside the broker too", async () => {
    expect((await call("POST", "transit/keys/signer", { type: "ecdsa-p256" })).status).toBe(200);
    const input = b64(SECRET);
    const v1 = (await call("POST", "transit/sign/signer", { input })).body.data.signature;
    expect((await call("POST", "transit/keys/signer/rotate")).body.data.latest_version).toBe(2);
    const v2 = (await call("POST", "transit/sign/signer", { input })).body.data.signature;
    const keys = (await call("GET", "transit/keys/signer")).body.data.keys;
    for (const [version, signature] of [
      ["1", v1],
      ["2", v2],
    ]) {
      expect((await call("POST", "transit/verify/signer", { input, signature })).body.data.valid).toBe(true);
      const bytes = Buffer.from(signature.split(":")[2], "base64");
      expect(verify("sha256", Buffer.from(SECRET), createPublicKey(keys[version].public_key), bytes)).toBe(
        true,
      );
    }
  });
});
