/**
 * A deployment in two regions, as functions/api.ts composes each: the home region's API on
 * its table, and the secondary's on its replica with a broker on the home table for what
 * needs an exact conditional write. Both tables live on one moto; replication is done when
 * a test says so (test/support/global-table.ts). Then the home region goes away (its
 * DynamoDB endpoint a closed loopback port): the secondary still serves reads, logins and
 * transit decryption, and answers every request that changes state 503, writing nothing.
 *
 * KMS: moto does not decrypt a multi-Region key's ciphertext with its replica, so every
 * broker here unwraps the keyring with one key; in AWS each region uses its own replica
 * of the same key material.
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import type { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { type AwsBrokerConfig, createAwsBroker, createHomeBroker } from "../../functions/aws-broker.ts";
import { createApp } from "../../shared/app.ts";
import { createTable } from "../../shared/store/dynamodb.ts";
import { initialize } from "../../shared/sys/init.ts";
import { mintProjected } from "../support/cluster-keys.ts";
import { type RegionalTable, replicate, tableItems } from "../support/global-table.ts";
import { type ApiCall, apiCaller } from "../support/http.ts";
import {
  CLUSTER_AUDIENCE,
  CLUSTER_ISSUER,
  type KubernetesCluster,
  trustCluster,
} from "../support/kubernetes-cluster.ts";
import { freePort, motoAvailable, useMoto } from "../support/moto.ts";

const HOME = "us-east-1";
const SECONDARY = "eu-west-1";
const TABLE = "coffer-regions";

describe.skipIf(!motoAvailable())("a deployment in two regions", () => {
  const moto = useMoto();
  let homeTable: RegionalTable;
  let replicaTable: RegionalTable;
  let root: string;
  let atHome: ApiCall;
  let inSecondary: ApiCall;
  let homeDown: ApiCall;
  let cluster: KubernetesCluster;
  let base: AwsBrokerConfig;

  const client = (region: string, endpoint = moto.endpoint) =>
    new DynamoDBClient({ endpoint, region, credentials: moto.credentials, maxAttempts: 1 });

  beforeAll(async () => {
    // The brokers' own clients take the default credential chain, as in Lambda.
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
    homeTable = { client: client(HOME), tableName: TABLE };
    replicaTable = { client: client(SECONDARY), tableName: TABLE };
    await createTable(homeTable.client, TABLE);
    await createTable(replicaTable.client, TABLE);
    const kms = new KMSClient({ endpoint: moto.endpoint, region: SECONDARY, credentials: moto.credentials });
    const key = await kms.send(new CreateKeyCommand({}));
    base = {
      tableName: TABLE,
      kmsKeyId: String(key.KeyMetadata?.Arn),
      endpoint: moto.endpoint,
      homeRegion: HOME,
      auditWriters: [() => {}],
      log: () => {},
      clients: { kms },
    };

    const home = await createAwsBroker({ ...base, region: HOME });
    expect(await createHomeBroker({ ...base, region: HOME })).toBeUndefined();
    ({ rootToken: root } = await initialize(home));
    atHome = apiCaller(createApp(home, { logError: () => {} }), root);

    const secondaryApp = async (homeEndpoint: string): Promise<Hono> => {
      const config = {
        ...base,
        region: SECONDARY,
        clients: { ...base.clients, homeDynamodb: client(HOME, homeEndpoint) },
      };
      const regional = await createHomeBroker(config);
      expect(regional?.name).toBe(HOME);
      return createApp(await createAwsBroker(config), {
        logError: () => {},
        ...(regional && { home: regional }),
      });
    };
    inSecondary = apiCaller(await secondaryApp(moto.endpoint), root);
    homeDown = apiCaller(await secondaryApp(`http://127.0.0.1:${await freePort()}`), root);

    await atHome("POST", "sys/policies/acl/reader", {
      policy:
        'path "secret/data/*" { capabilities = ["read", "create", "update"] }\npath "transit/*" { capabilities = ["update"] }',
    });
    cluster = await trustCluster(atHome, { policies: ["reader"], now: Date.now });
    await atHome("POST", "sys/mounts/transit", { type: "transit" });
    await atHome("POST", "transit/keys/orders", {});
    await atHome("POST", "secret/data/app", { data: { password: "one" } });
    await replicate(homeTable, replicaTable);
  }, 120_000);

  it("serves reads from the replica, and writes on the home table, where conditions are exact", async () => {
    const read = await inSecondary("GET", "secret/data/app");
    expect(read.status).toBe(200);
    expect(read.body.data.data).toEqual({ password: "one" });

    // A second version at home the replica has not seen: a create-only write from the
    // secondary must fail, as it would in one region, not succeed on the stale replica.
    expect((await atHome("POST", "secret/data/app", { data: { password: "two" } })).status).toBe(200);
    const stale = await inSecondary("GET", "secret/data/app");
    expect(stale.body.data.data).toEqual({ password: "one" });
    const createOnly = await inSecondary("POST", "secret/data/app", {
      options: { cas: 0 },
      data: { password: "mine" },
    });
    expect(createOnly.status).toBe(400);
    expect(createOnly.body.errors.join()).toMatch(/check-and-set/);

    const written = await inSecondary("POST", "secret/data/app", {
      options: { cas: 2 },
      data: { password: "three" },
    });
    expect(written.status).toBe(200);
    expect(written.body.data.version).toBe(3);
    expect((await atHome("GET", "secret/data/app")).body.data.data).toEqual({ password: "three" });
    await replicate(homeTable, replicaTable);
  });

  it("serves a token made at home moments ago, before it has replicated, from the home table", async () => {
    const made = await atHome("POST", "auth/token/create", { policies: ["reader"] });
    const token = made.body.auth.client_token;
    const read = await inSecondary("GET", "secret/data/app", undefined, token);
    expect(read.status).toBe(200);
    await replicate(homeTable, replicaTable);
  });

  it("refuses a home-class request whose token, made here by a login, has not reached home yet, with a 503 to retry", async () => {
    const local = await loginIn(inSecondary, cluster);
    expect(local.status).toBe(200);
    const localToken = local.body.auth.client_token;
    expect((await inSecondary("GET", "secret/data/app", undefined, localToken)).status).toBe(200);

    const early = await inSecondary("POST", "secret/data/other", { data: { a: "b" } }, localToken);
    expect(early.status).toBe(503);
    expect(early.headers.get("retry-after")).toBe("1");
    expect(early.body.errors[0]).toMatch(/this token has not reached the home region \(us-east-1\) yet/);

    // The secondary's login wrote to the replica only; once it has replicated, home knows it.
    await replicate(replicaTable, homeTable);
    expect((await inSecondary("POST", "secret/data/other", { data: { a: "b" } }, localToken)).status).toBe(
      200,
    );
    await replicate(homeTable, replicaTable);
  });

  describe("with the home region down", () => {
    it("still serves reads, logins and transit decryption", async () => {
      const read = await homeDown("GET", "secret/data/app");
      expect(read.status).toBe(200);
      expect(read.body.data.data).toEqual({ password: "three" });

      const login = await loginIn(homeDown, cluster);
      expect(login.status).toBe(200);
      const token = login.body.auth.client_token;
      expect((await homeDown("GET", "secret/data/app", undefined, token)).body.data.data).toEqual({
        password: "three",
      });

      const encrypted = await atHome("POST", "transit/encrypt/orders", { plaintext: btoa("order 7") });
      const decrypted = await homeDown(
        "POST",
        "transit/decrypt/orders",
        { ciphertext: encrypted.body.data.ciphertext },
        token,
      );
      expect(decrypted.status).toBe(200);
      expect(atob(decrypted.body.data.plaintext)).toBe("order 7");
    });

    it("answers requests that change state 503 with Retry-After, naming the home region, and writes nothing", async () => {
      await replicate(homeTable, replicaTable);
      const before = [await tableItems(homeTable), await tableItems(replicaTable)];
      const refused = [
        await homeDown("POST", "secret/data/app", { data: { password: "lost" } }),
        await homeDown("DELETE", "secret/data/app"),
        await homeDown("POST", "auth/token/create", { policies: ["reader"] }),
        await homeDown("POST", "sys/policies/acl/other", { policy: 'path "x" { capabilities = ["read"] }' }),
        await homeDown("POST", "transit/encrypt/orders", { plaintext: btoa("order 8") }),
        await homeDown("POST", "auth/token/revoke-self"),
      ];
      for (const reply of refused) {
        expect(reply.status).toBe(503);
        expect(reply.headers.get("retry-after")).toBe("1");
        expect(reply.body.errors[0]).toMatch(/^the home region \(us-east-1\) cannot be reached/);
      }
      expect([await tableItems(homeTable), await tableItems(replicaTable)]).toEqual(before);
      expect((await homeDown("GET", "secret/data/app")).status).toBe(200);
    });

    it("gives up on a home region that takes connections and never answers, with a 503", async () => {
      // Packets dropped on the way home: the connection hangs instead of being refused.
      const silent = createServer(() => {});
      await new Promise<void>((listening) => silent.listen(0, "127.0.0.1", listening));
      try {
        const config: AwsBrokerConfig = {
          ...base,
          region: SECONDARY,
          endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
          clients: { ...base.clients, dynamodb: client(SECONDARY) },
        };
        const regional = await createHomeBroker(config);
        const hanging = apiCaller(
          createApp(await createAwsBroker(config), {
            logError: () => {},
            ...(regional && { home: regional }),
          }),
          root,
        );
        expect((await hanging("GET", "secret/data/app")).status).toBe(200);
        const refused = await hanging("POST", "secret/data/app", { data: { password: "lost" } });
        expect(refused.status).toBe(503);
        expect(refused.body.errors[0]).toMatch(/^the home region \(us-east-1\) cannot be reached/);
      } finally {
        silent.closeAllConnections();
        silent.close();
      }
    });
  });
});

/** A login through the cluster's role, sent to the given region's API. */
async function loginIn(call: ApiCall, cluster: KubernetesCluster) {
  const jwt = await mintProjected(cluster.key, {
    issuer: CLUSTER_ISSUER,
    audience: [CLUSTER_AUDIENCE],
    iat: Math.floor(Date.now() / 1000),
    namespace: "team-a",
    serviceAccount: "app",
    uid: "0f6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d",
  });
  return call("POST", "auth/kubernetes/login", { role: "workload", jwt });
}
