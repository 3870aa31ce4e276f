/**
 * export -> import (shared/operator/export-archive.ts, import-archive.ts) between two
 * deployments with different root keys: every engine's data, read back through the API
 * of the target; tokens and leases only when asked; an import that crashes resumes where
 * it stopped; an archive changed, cut or opened with the wrong passphrase is refused
 * before anything is written; a target that is not empty is refused.
 */
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { readArchive } from "../../../shared/operator/archive-format.ts";
import { exportArchive } from "../../../shared/operator/export-archive.ts";
import { importArchive } from "../../../shared/operator/import-archive.ts";
import { generateRoot } from "../../../shared/operator/root-tokens.ts";
import type { ItemScanner, ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { type Deployment, openDeployment, type Process } from "../../support/deployment.ts";
import { type StoreFault, storeWithFaults } from "../../support/store-faults.ts";

const PASSPHRASE = "correct horse battery staple";
const CONTENTS_ALL = { tokens: true, leases: true };

let source: Deployment;
/** The source's table, which an export scans. */
let sourceStore: ItemStore & ItemScanner;
/** Empty until an import fills it: not initialized. */
let target: Deployment;
/** The target's table, scanned to see what an import wrote. */
let targetStore: ItemStore & ItemScanner;
let rootToken: string;
let ciphertext: string;

/** A source with every engine: KV v2 versions and metadata, KV v1, policies, auth, transit, aws. */
async function populate(api: Process, token: string) {
  const ok = async (method: string, path: string, body?: unknown) => {
    const answer = await api.call(method, path, body, token);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
    return answer.body;
  };
  for (const n of [1, 2, 3])
    await ok("POST", "secret/data/team-a/db", { data: { password: `db password, version ${n}` } });
  await ok("POST", "secret/metadata/team-a/db", { max_versions: 5, custom_metadata: { owner: "team-a" } });
  await ok("POST", "secret/delete/team-a/db", { versions: [1] });
  await ok("POST", "secret/destroy/team-a/db", { versions: [2] });
  await ok("POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
  await ok("POST", "legacy/app", { api_key: "k-1" });
  await ok("POST", "sys/policies/acl/app-read", {
    policy: 'path "secret/data/team-a/*" { capabilities = ["read"] }',
  });
  await ok("POST", "sys/auth/k8s", { type: "kubernetes" });
  const { publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  await ok("POST", "auth/k8s/config", {
    issuer: "https://issuer.example.com",
    jwks: JSON.stringify({ keys: [jwk] }),
  });
  await ok("POST", "auth/k8s/role/app", {
    bound_service_account_names: ["app"],
    bound_service_account_namespaces: ["team-a"],
    audience: "coffer",
    token_policies: ["app-read"],
  });
  await ok("POST", "sys/mounts/transit", { type: "transit" });
  await ok("POST", "transit/keys/orders", {});
  ciphertext = (await ok("POST", "transit/encrypt/orders", { plaintext: btoa("order 42") })).data.ciphertext;
  await ok("POST", "sys/mounts/aws", { type: "aws" });
  await ok("POST", "aws/config/root", { region: "eu-west-1" });
  await ok("POST", "aws/roles/deploy", {
    credential_type: "assumed_role",
    role_arns: ["arn:aws:iam::123456789012:role/coffer-targets/deploy"],
  });
}

/** What the target must answer as the source did. */
async function expectSameData(api: Process, token: string) {
  const read = async (path: string) => {
    const answer = await api.call("GET", path, undefined, token);
    expect(answer.status, `GET ${path}: ${JSON.stringify(answer.body)}`).toBe(200);
    return answer.body.data;
  };
  expect((await read("secret/data/team-a/db")).data).toEqual({ password: "db password, version 3" });
  expect((await api.call("GET", "secret/data/team-a/db?version=1", undefined, token)).status).toBe(404);
  const metadata = await read("secret/metadata/team-a/db");
  expect(metadata).toMatchObject({
    current_version: 3,
    max_versions: 5,
    custom_metadata: { owner: "team-a" },
  });
  expect(metadata.versions["1"].deletion_time).not.toBe("");
  expect(metadata.versions["2"].destroyed).toBe(true);
  expect(await read("legacy/app")).toEqual({ api_key: "k-1" });
  expect((await read("sys/policies/acl/app-read")).policy).toContain("secret/data/team-a/*");
  expect(await read("auth/k8s/role/app")).toMatchObject({ audience: "coffer", token_policies: ["app-read"] });
  expect(await read("auth/k8s/config")).toMatchObject({ issuer: "https://issuer.example.com" });
  const decrypted = await api.call("POST", "transit/decrypt/orders", { ciphertext }, token);
  expect(atob(decrypted.body.data.plaintext)).toBe("order 42");
  expect(await read("aws/roles/deploy")).toMatchObject({ credential_type: "assumed_role" });
  expect(await read("aws/config/root")).toMatchObject({ region: "eu-west-1" });
}

beforeEach(async () => {
  sourceStore = openSqliteStore({ path: ":memory:" });
  source = await openDeployment({ store: sourceStore });
  targetStore = openSqliteStore({ path: ":memory:" });
  target = await openDeployment({ store: targetStore, initialize: false });
  rootToken = source.rootToken;
  await populate(source, rootToken);
});

afterEach(async () => {
  await source.close();
  await target.close();
});

const exported = (contents = CONTENTS_ALL) =>
  exportArchive({
    store: sourceStore,
    keyProvider: createLocalKeyProvider(source.rootKey),
    contents,
    sealing: { kind: "passphrase", passphrase: PASSPHRASE },
  });

async function imported(archive: Uint8Array, store: ItemStore = target.store) {
  const { header, records } = await readArchive(archive, { passphrase: PASSPHRASE });
  const keyProvider = createLocalKeyProvider(target.rootKey);
  return importArchive({
    store: { ...store, scan: targetStore.scan },
    keyProvider,
    keyWrapper: keyProvider,
    header,
    records,
  });
}

describe("export and import", () => {
  it("carry every engine's data, the tokens and the leases into a deployment with another root key", async () => {
    const { archive, items, rejected, keyringVersions } = await exported();
    expect(rejected).toBe(0);
    expect(keyringVersions).toBe(1);
    expect(Buffer.from(archive).includes(Buffer.from("order 42"))).toBe(false);
    expect(Buffer.from(archive).includes(Buffer.from("db password"))).toBe(false);
    const result = await imported(archive);
    expect(result).toMatchObject({ items, resumedAt: 0, alreadyDone: false });

    const targetApi = await target.process();
    await expectSameData(targetApi, rootToken);
    expect(targetApi.rejected).toEqual([]);
    // The target wraps the keyring under its own root key: the source's cannot open it.
    const foreign = await target.process({ keyProvider: createLocalKeyProvider(source.rootKey) });
    await expect(foreign.broker.keyring.get(1)).rejects.toMatchObject({ code: "ERR_DECRYPT_FAILED" });
  });

  it("leave tokens out unless asked: the target needs generate-root, then holds the same data", async () => {
    // A child token with a TTL: expiry and parent indexes besides the token itself.
    const child = await source.call(
      "POST",
      "auth/token/create",
      { policies: ["default"], ttl: "1h" },
      rootToken,
    );
    expect(child.status).toBe(200);
    await source.call("POST", "auth/token/roles/deployer", { allowed_policies: ["default"] }, rootToken);
    const { archive } = await exported({ tokens: false, leases: false });
    await imported(archive);
    const partitions = new Set((await targetStore.scan({})).items.map((item) => item.pk.split("/")[0]));
    for (const tokenFamily of [
      "token",
      "accessor",
      "auth-tokens",
      "token-exp",
      "token-children",
      "token-entity",
      "root-tokens",
    ]) {
      expect(partitions).not.toContain(tokenFamily);
    }
    expect(partitions).toContain("token-role");
    const targetApi = await target.process();
    expect((await targetApi.call("GET", "auth/token/lookup-self", undefined, rootToken)).status).toBe(403);
    const { rootToken: newRoot } = await generateRoot(targetApi.broker);
    await expectSameData(targetApi, newRoot);
  });

  it("is idempotent: importing the same archive again changes nothing", async () => {
    const { archive } = await exported();
    await imported(archive);
    const again = await imported(archive);
    expect(again.alreadyDone).toBe(true);
    await expectSameData(await target.process(), rootToken);
  });

  it.each<StoreFault>(["unavailable", "applied-unavailable"])(
    "resumes after a crash mid-import (the store failing: %s) and ends with the same deployment",
    async (fault) => {
      for (let n = 0; n < 60; n++) {
        await source.call("POST", `secret/data/bulk/${n}`, { data: { n } }, rootToken);
      }
      const { archive, items } = await exported();
      // The keyring, the progress item and one batch land; the next batch meets the fault,
      // and the process dies with it: nothing after it is written.
      let writes = 0;
      const faulty = storeWithFaults(target.store, () => (writes === 4 ? fault : "none"));
      const crashing: ItemStore = {
        ...faulty,
        async write(ops) {
          writes++;
          if (writes > 4) throw new Error("the process is gone");
          return faulty.write(ops);
        },
      };
      await expect(imported(archive, crashing)).rejects.toThrow();
      expect(writes).toBe(4);
      // Not initialized while half-imported: sys/init goes last.
      expect(await target.store.get({ pk: "sys", sk: "init" })).toBeUndefined();

      const resumed = await imported(archive);
      expect(resumed.resumedAt).toBe(fault === "applied-unavailable" ? 100 : 50);
      expect(resumed.items).toBe(items);
      const targetApi = await target.process();
      await expectSameData(targetApi, rootToken);
      const bulk = await targetApi.call("GET", "secret/data/bulk/59", undefined, rootToken);
      expect(bulk.body.data.data).toEqual({ n: 59 });
    },
  );

  it("refuses an archive changed, cut short or reordered, and a wrong passphrase, before writing", async () => {
    const { archive } = await exported();
    const flipped = Uint8Array.from(archive);
    flipped[flipped.length - 10]! ^= 1;
    await expect(readArchive(flipped, { passphrase: PASSPHRASE })).rejects.toThrow(/does not verify/);
    const headerEdited = Buffer.from(
      Buffer.from(archive).toString("latin1").replace('"leases":true', '"leases":false'),
      "latin1",
    );
    await expect(readArchive(headerEdited, { passphrase: PASSPHRASE })).rejects.toThrow(
      /does not open|does not verify/,
    );
    await expect(
      readArchive(archive.subarray(0, archive.length - 7), { passphrase: PASSPHRASE }),
    ).rejects.toThrow(/cut short/);
    await expect(readArchive(archive, { passphrase: "wrong passphrase!" })).rejects.toThrow(
      /passphrase does not open/,
    );
    await expect(readArchive(new TextEncoder().encode("coffer-archive 9\n{}\n"), {})).rejects.toThrow(
      /format .* is not one this version reads/,
    );
    expect((await targetStore.scan({})).items).toEqual([]);
  });

  it("refuses an archive cut at a frame boundary", async () => {
    // Enough items for two frames, then drop the last frame.
    for (let n = 0; n < 600; n++) {
      await source.call("POST", `secret/data/bulk/${n}`, { data: { n } }, rootToken);
    }
    const { archive } = await exported({ tokens: false, leases: false });
    const { bodyStart } = (await import("../../../shared/operator/archive-format.ts")).readArchiveHeader(
      archive,
    );
    const firstLength = new DataView(archive.buffer, archive.byteOffset + bodyStart).getUint32(0);
    const firstFrameOnly = archive.subarray(0, bodyStart + 4 + firstLength);
    expect(firstFrameOnly.length).toBeLessThan(archive.length);
    await expect(readArchive(firstFrameOnly, { passphrase: PASSPHRASE })).rejects.toThrow(
      /frame 0 does not verify/,
    );
  });

  it("refuses a target that is not empty", async () => {
    const { archive } = await exported();
    const targetApi = await target.process();
    await initialize(targetApi.broker);
    await expect(imported(archive)).rejects.toThrow(/not empty/);
  });

  it("leaves out and reports an item that does not verify at the source", async () => {
    await source.store.write([{ op: "put", item: { pk: "mount", sk: "forged", type: "kv" } }]);
    const reported: string[] = [];
    const { rejected } = await exportArchive({
      store: sourceStore,
      keyProvider: createLocalKeyProvider(source.rootKey),
      contents: CONTENTS_ALL,
      sealing: { kind: "passphrase", passphrase: PASSPHRASE },
      onRejectedItem: (item) => reported.push(`${item.pk} ${item.sk} ${item.reason}`),
    });
    expect(rejected).toBe(1);
    expect(reported).toEqual(["mount forged no MAC"]);
  });
});
