/**
 * Whoever can write to the table but cannot use the root key gains nothing. For each kind
 * of item the broker trusts for a decision, one is written through the API, then changed,
 * moved to another key or stripped of its MAC in the raw table, as such an attacker would;
 * a process reading it afresh (no cache) treats it as absent, fails closed, and reports it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { configKey, roleKey } from "../../shared/auth/kubernetes/storage.ts";
import { configKey as awsConfigKey, roleKey as awsRoleKey } from "../../shared/engines/aws/storage.ts";
import { metaKey } from "../../shared/engines/kv/storage.ts";
import { leaseKey, tokenPartition } from "../../shared/leases/lease-keys.ts";
import { MAC_ATTRIBUTE } from "../../shared/store/item-mac.ts";
import type { Item, ItemKey } from "../../shared/store/item-store.ts";
import { type ClusterKey, clusterKey, jwksOf, mintProjected } from "../support/cluster-keys.ts";
import { type Deployment, openDeployment, type Process } from "../support/deployment.ts";
import { createLeaseTestEngine } from "../support/lease-test-engine.ts";

const ISSUER = "https://cluster.test";

describe("an attacker with write access to the table", () => {
  let deployment: Deployment;
  /** The process the test talks to: the first, until a fresh one replaces it. */
  let api: Process;

  beforeEach(async () => {
    deployment = await openDeployment({ engines: { leasing: createLeaseTestEngine().type } });
    api = deployment;
    return () => deployment.close();
  });

  const call = (method: string, path: string, body?: unknown, token?: string) =>
    api.call(method, path, body, token);

  async function ok(method: string, path: string, body?: unknown, token?: string) {
    const reply = await call(method, path, body, token);
    expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(300);
    return reply.body;
  }

  /** Changes an item in the raw table, the way someone holding only table access can. */
  async function tamper(key: ItemKey, change: (item: Item) => Item): Promise<void> {
    const item = await deployment.store.get(key);
    if (!item) throw new Error(`no item ${key.pk} ${key.sk}`);
    await deployment.store.write([{ op: "put", item: change(item) }]);
  }

  /** A process that reads everything afresh, as another Lambda instance would. */
  async function freshProcess(): Promise<Process> {
    api = await deployment.process();
    return api;
  }

  const expectReported = (process: Process, key: ItemKey) =>
    expect(process.rejected).toContainEqual({ pk: key.pk, sk: key.sk, reason: expect.any(String) });

  async function createToken(policies: string[]): Promise<{ token: string; accessor: string }> {
    const { auth } = await ok("POST", "auth/token/create", { policies });
    return { token: auth.client_token, accessor: auth.accessor };
  }

  async function tokenKeyOf(accessor: string): Promise<ItemKey> {
    const pointer = await deployment.store.get({ pk: `accessor/${accessor}`, sk: "accessor" });
    return { pk: `token/${String(pointer?.token_hmac)}`, sk: "token" };
  }

  async function mountUuid(path: string): Promise<string> {
    const mount = (await api.broker.mounts.list()).find((candidate) => candidate.path === path);
    if (!mount) throw new Error(`no mount ${path}`);
    return mount.uuid;
  }

  /** A kubernetes auth mount trusting `key`, with a role for default/app in "payments". */
  async function kubernetesMount(path: string, key: ClusterKey): Promise<void> {
    await ok("POST", `sys/auth/${path}`, { type: "kubernetes" });
    await ok("POST", `auth/${path}/config`, { issuer: ISSUER, jwks: JSON.stringify(jwksOf(key)) });
    await ok("POST", `auth/${path}/role/app`, {
      bound_service_account_names: ["app"],
      bound_service_account_namespaces: ["payments"],
      audience: "coffer",
      token_policies: ["default"],
    });
  }

  const login = async (path: string, key: ClusterKey, namespace = "payments") =>
    call("POST", `auth/${path}/login`, {
      role: "app",
      jwt: await mintProjected(key, { issuer: ISSUER, audience: "coffer", namespace, serviceAccount: "app" }),
    });

  const isRoot = async (token: string) =>
    (await call("GET", "sys/policies/acl?list=true", undefined, token)).status === 200;

  describe("tokens", () => {
    it("cannot give a token the root policy", async () => {
      const { token, accessor } = await createToken(["default"]);
      const key = await tokenKeyOf(accessor);
      await tamper(key, (item) => ({ ...item, policies: ["root"] }));

      const process = await freshProcess();
      expect(await isRoot(token)).toBe(false);
      expect((await call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
      expectReported(process, key);
    });

    it("cannot move the root token's record onto another token", async () => {
      const { token, accessor } = await createToken(["default"]);
      const { accessor: rootAccessor } = (await ok("GET", "auth/token/lookup-self")).data;
      const rootRecord = await deployment.store.get(await tokenKeyOf(rootAccessor));
      const key = await tokenKeyOf(accessor);
      await deployment.store.write([{ op: "put", item: { ...rootRecord!, ...key } }]);

      const process = await freshProcess();
      expect(await isRoot(token)).toBe(false);
      expectReported(process, key);
    });

    it("cannot keep a token whose MAC is stripped", async () => {
      const { token, accessor } = await createToken(["default"]);
      const key = await tokenKeyOf(accessor);
      await tamper(key, ({ [MAC_ATTRIBUTE]: _mac, ...item }) => item as Item);

      const process = await freshProcess();
      expect((await call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
      expectReported(process, key);
    });

    it("cannot point a token's accessor at the root token", async () => {
      const { accessor } = await createToken(["default"]);
      const { accessor: rootAccessor } = (await ok("GET", "auth/token/lookup-self")).data;
      const rootKey = await tokenKeyOf(rootAccessor);
      const key = { pk: `accessor/${accessor}`, sk: "accessor" };
      await tamper(key, (item) => ({ ...item, token_hmac: rootKey.pk.slice("token/".length) }));

      const process = await freshProcess();
      const lookup = await call("POST", "auth/token/lookup-accessor", { accessor });
      expect(lookup.status).toBe(400);
      expect(JSON.stringify(lookup.body)).not.toContain("root");
      expectReported(process, key);
    });

    it("cannot add the root token to the tokens an auth mount revokes when it is disabled", async () => {
      const cluster = await clusterKey();
      await kubernetesMount("doomed", cluster);
      const { auth } = (await login("doomed", cluster)).body;
      const { accessor: rootAccessor } = (await ok("GET", "auth/token/lookup-self")).data;
      const rootHmac = (await tokenKeyOf(rootAccessor)).pk.slice("token/".length);
      const mountAccessor = (await ok("GET", "sys/auth")).data["doomed/"].accessor;
      const [entry] = (await deployment.store.query({ pk: `auth-tokens/${mountAccessor}` })).items;
      const moved = { ...entry!, sk: rootHmac };
      await deployment.store.write([{ op: "put", item: moved }]);

      const process = await freshProcess();
      await ok("DELETE", "sys/auth/doomed");
      expect(await isRoot(deployment.rootToken)).toBe(true);
      expect((await call("GET", "auth/token/lookup-self", undefined, auth.client_token)).status).toBe(403);
      expectReported(process, moved);
    });
  });

  describe("auth methods", () => {
    it("cannot widen a role to namespaces it does not bind", async () => {
      const cluster = await clusterKey();
      await kubernetesMount("kubernetes", cluster);
      expect((await login("kubernetes", cluster, "other")).status).toBe(403);
      const key = roleKey(await mountUuid("auth/kubernetes/"), "app");
      await tamper(key, (item) => ({ ...item, bound_service_account_namespaces: ["*"] }));

      const process = await freshProcess();
      const reply = await login("kubernetes", cluster, "other");
      expect(reply.status).toBe(400);
      expect(reply.body.auth).toBeUndefined();
      expectReported(process, key);
    });

    it("cannot make a mount trust another issuer's keys", async () => {
      const cluster = await clusterKey();
      const attacker = await clusterKey();
      await kubernetesMount("kubernetes", cluster);
      expect((await login("kubernetes", attacker)).status).toBe(403);
      const key = configKey(await mountUuid("auth/kubernetes/"));
      await tamper(key, (item) => ({ ...item, jwks: JSON.stringify(jwksOf(attacker)) }));

      const process = await freshProcess();
      const reply = await login("kubernetes", attacker);
      expect(reply.body.auth).toBeUndefined();
      expect(reply.status).toBe(400);
      expectReported(process, key);
    });
  });

  describe("policies and mounts", () => {
    it("cannot widen a policy", async () => {
      await ok("POST", "sys/policies/acl/reader", {
        policy: 'path "secret/data/public/*" { capabilities = ["read"] }',
      });
      const { token } = await createToken(["reader"]);
      const key = { pk: "policy/acl", sk: "reader" };
      await tamper(key, (item) => ({
        ...item,
        text: 'path "*" { capabilities = ["read", "list", "sudo"] }',
      }));

      const process = await freshProcess();
      expect(await isRoot(token)).toBe(false);
      expectReported(process, key);
    });

    it("cannot point a mount at another mount's secrets", async () => {
      await ok("POST", "sys/mounts/team-a", { type: "kv", options: { version: "2" } });
      await ok("POST", "sys/mounts/team-b", { type: "kv", options: { version: "2" } });
      await ok("POST", "team-b/data/db", { data: { password: "team-b-password" } });
      const key = { pk: "mount", sk: "team-a/" };
      const teamB = await mountUuid("team-b/");
      await tamper(key, (item) => ({ ...item, uuid: teamB }));

      const process = await freshProcess();
      const reply = await call("GET", "team-a/data/db");
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain("team-b-password");
      expectReported(process, key);
    });
  });

  describe("engines", () => {
    it("cannot change the IAM role an AWS role assumes", async () => {
      await ok("POST", "sys/mounts/aws", { type: "aws" });
      await ok("POST", "aws/roles/deploy", {
        credential_type: "assumed_role",
        role_arns: ["arn:aws:iam::123456789012:role/deploy"],
      });
      const key = awsRoleKey(await mountUuid("aws/"), "deploy");
      await tamper(key, (item) => ({ ...item, role_arns: ["arn:aws:iam::123456789012:role/admin"] }));

      const process = await freshProcess();
      const reply = await call("GET", "aws/roles/deploy");
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain("role/admin");
      expectReported(process, key);
    });

    it("cannot point an engine's configuration at another endpoint", async () => {
      await ok("POST", "sys/mounts/aws", { type: "aws" });
      await ok("POST", "aws/config/root", { region: "us-east-1", sts_endpoint: "http://127.0.0.1:4566" });
      const key = awsConfigKey(await mountUuid("aws/"));
      await tamper(key, (item) => ({ ...item, sts_endpoint: "https://sts.attacker.example" }));

      const process = await freshProcess();
      const reply = await call("GET", "aws/config/root");
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain("attacker");
      expectReported(process, key);
    });

    it("cannot lower a transit key's minimum decryption version", async () => {
      await ok("POST", "sys/mounts/transit", { type: "transit" });
      await ok("POST", "transit/keys/orders");
      const plaintext = Buffer.from("card 4111").toString("base64");
      const { ciphertext } = (await ok("POST", "transit/encrypt/orders", { plaintext })).data;
      await ok("POST", "transit/keys/orders/rotate");
      await ok("POST", "transit/keys/orders/config", { min_decryption_version: 2 });
      expect((await call("POST", "transit/decrypt/orders", { ciphertext })).status).toBe(400);
      const key = { pk: `transit/${await mountUuid("transit/")}`, sk: "key/orders" };
      await tamper(key, (item) => ({ ...item, min_decryption_version: 1 }));

      const process = await freshProcess();
      const reply = await call("POST", "transit/decrypt/orders", { ciphertext });
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body)).not.toContain(plaintext);
      expectReported(process, key);
    });
  });

  describe("leases", () => {
    beforeEach(async () => {
      await ok("POST", "sys/mounts/t", { type: "leasing" });
      await ok("POST", "sys/policies/acl/leasing", {
        policy: 'path "t/creds/*" { capabilities = ["read"] }',
      });
    });

    it("cannot extend a lease past its maximum TTL", async () => {
      const { lease_id: id } = await ok("GET", "t/creds/x?ttl=60");
      const key = leaseKey(id);
      await tamper(key, (item) => ({
        ...item,
        max_expires_at_ms: Number(item.max_expires_at_ms) + 365 * 86_400_000,
      }));

      const process = await freshProcess();
      const reply = await call("PUT", "sys/leases/renew", { lease_id: id, increment: 30 * 86_400 });
      expect(reply.status).toBe(400);
      expectReported(process, key);
    });

    it("cannot make revoking one token revoke another token's lease", async () => {
      const owner = await createToken(["leasing"]);
      const other = await createToken(["leasing"]);
      const { lease_id: id } = await ok("GET", "t/creds/x", undefined, owner.token);
      await ok("GET", "t/creds/y", undefined, other.token);
      const moved = { pk: tokenPartition(other.accessor), sk: id };
      const entry = await deployment.store.get({ pk: tokenPartition(owner.accessor), sk: id });
      await deployment.store.write([{ op: "put", item: { ...entry!, ...moved } }]);

      const process = await freshProcess();
      await ok("POST", "auth/token/revoke-self", undefined, other.token);
      expect((await call("PUT", "sys/leases/lookup", { lease_id: id })).status).toBe(200);
      expectReported(process, moved);
    });
  });

  describe("KV metadata", () => {
    it("cannot serve an older version as the latest", async () => {
      await ok("POST", "secret/data/app", { data: { password: "old-password" } });
      await ok("POST", "secret/data/app", { data: { password: "new-password" } });
      const key = metaKey(await mountUuid("secret/"), "app");
      await tamper(key, (item) => ({ ...item, current_version: 1 }));

      const process = await freshProcess();
      const reply = await call("GET", "secret/data/app");
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain("old-password");
      expectReported(process, key);
    });

    it("cannot revive a deleted version", async () => {
      await ok("POST", "secret/data/gone", { data: { password: "deleted-password" } });
      await ok("DELETE", "secret/data/gone");
      const key = metaKey(await mountUuid("secret/"), "gone");
      await tamper(key, (item) => {
        const versions = structuredClone(item.versions) as Record<string, Record<string, Item[string]>>;
        versions["1"]!.deletion_time = "";
        return { ...item, versions };
      });

      const process = await freshProcess();
      const reply = await call("GET", "secret/data/gone");
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain("deleted-password");
      expectReported(process, key);
    });
  });
});
