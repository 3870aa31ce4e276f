/**
 * hashi-vault-js (pinned in package.json), unmodified, against `coffer dev` over HTTP,
 * scenario by scenario: sys (health, seal status, capabilities), the token store, a
 * Kubernetes login with the dev issuer's token and a path-scoped policy, and KV version 2.
 * The client has no commands for mounts, policies, transit, AWS or databases; those
 * scenarios are covered with node-vault (compat-node-vault*.test.ts).
 */
import Vault from "hashi-vault-js";
import { beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";
import { api } from "./cli-harness.ts";

const ROOT = "compat-hashi-vault-js-root";

/**
 * The client's type declarations give every result as `Object` and some parameters as
 * strings where the code sends objects (createKVSecretMeta's `metadata`, for one: see
 * https://github.com/kyndryl-open-source/hashi-vault-js/blob/v0.5.1/src/Vault.js#L3929
 * against dist/Vault.d.ts): the test calls its methods as the JavaScript takes them.
 */
type Untyped<T> = {
  // biome-ignore lint/suspicious/noExplicitAny: the client's own declarations are wrong, see above.
  [K in keyof T]: T[K] extends (...args: any[]) => unknown ? (...args: any[]) => Promise<any> : T[K];
};

describe("hashi-vault-js against coffer dev", () => {
  const server = useDevServer({ rootToken: ROOT });
  let client: Untyped<Vault>;

  beforeAll(async () => {
    // The client's default timeout is 1 s; a machine shared by test runs needs more.
    client = new Vault({ baseUrl: `${server.url}/v1`, timeout: 10_000 }) as unknown as Untyped<Vault>;
  });

  describe("sys", () => {
    it("health and seal status", async () => {
      expect(await client.healthCheck()).toMatchObject({ initialized: true, sealed: false, standby: false });
      expect(await client.healthCheck({ standbyok: true, perfstandbyok: true })).toMatchObject({
        initialized: true,
      });
      expect(await client.sealStatus()).toMatchObject({ sealed: false, initialized: true });
    });

    it("capabilities of another token and of its own, for several paths", async () => {
      await api(server.url, ROOT, "PUT", "sys/policies/acl/reader", {
        policy: 'path "secret/data/app/*" { capabilities = ["read", "list"] }',
      });
      const token = (await client.createToken(ROOT, { policies: ["reader"], ttl: "1h" })).client_token;
      const paths = ["secret/data/app/db", "secret/data/other"];
      expect(await client.sysCapabilities(ROOT, token, paths)).toEqual({
        "secret/data/app/db": ["list", "read"],
        "secret/data/other": ["deny"],
      });
      expect(await client.sysCapabilitiesSelf(token, ["secret/data/app/db"])).toEqual({
        "secret/data/app/db": ["list", "read"],
        capabilities: ["list", "read"],
      });
    });
  });

  describe("token store", () => {
    it("creates, looks up, renews and revokes tokens, by token and by accessor", async () => {
      const created = await client.createToken(ROOT, {
        policies: ["default"],
        ttl: "1h",
        meta: { team: "a" },
      });
      const { client_token: token, accessor } = created;
      expect(await client.lookupToken(ROOT, token)).toMatchObject({ accessor, meta: { team: "a" } });
      expect(await client.lookupSelfToken(token)).toMatchObject({ accessor, policies: ["default"] });
      expect(await client.lookupAccessor(ROOT, accessor)).toMatchObject({ accessor });
      expect((await client.renewSelfToken(token, "2h")).lease_duration).toBeGreaterThan(3600);
      await client.revokeAccessor(ROOT, accessor);
      await expect(client.lookupSelfToken(token)).rejects.toMatchObject({ response: { status: 403 } });

      const other = (await client.createToken(ROOT, {})).client_token;
      await client.revokeToken(ROOT, other);
      const third = (await client.createToken(ROOT, {})).client_token;
      await client.revokeSelfToken(third);
      await expect(client.lookupSelfToken(third)).rejects.toMatchObject({ response: { status: 403 } });
    });
  });

  it("renews another token, by token and by accessor, for exactly the increment", async () => {
    const { client_token: token, accessor } = await client.createToken(ROOT, {
      policies: ["default"],
      ttl: "1h",
    });
    expect((await client.renewToken(ROOT, token, "2h")).lease_duration).toBe(7200);
    expect((await client.renewAccessor(ROOT, accessor, "90m")).lease_duration).toBe(5400);
  });

  describe("Kubernetes login with the dev issuer, under a path-scoped policy", () => {
    it("manages the role, logs in, reads inside its path, is refused outside it", async () => {
      await api(server.url, ROOT, "PUT", "sys/policies/acl/payments", {
        policy: 'path "secret/data/payments/*" { capabilities = ["read"] }',
      });
      await client.createK8sRole(ROOT, "payments", {
        bound_service_account_names: "api",
        bound_service_account_namespaces: "payments",
        token_policies: "payments",
        token_ttl: "1h",
      });
      expect(await client.readK8sRole(ROOT, "payments")).toMatchObject({
        bound_service_account_names: ["api"],
        token_policies: ["payments"],
      });
      expect((await client.listK8sRoles(ROOT)).keys).toContain("payments");
      expect(await client.readK8sConfig(ROOT)).toMatchObject({ issuer: server.issuer });

      await client.createKVSecret(ROOT, "payments/stripe", { key: "sk_test" });
      await client.createKVSecret(ROOT, "other/db", { key: "no" });
      const jwt = await requestDevToken(server.url, { namespace: "payments", serviceAccount: "api" });
      const login = await client.loginWithK8s("payments", jwt);
      expect(login).toMatchObject({ policies: ["default", "payments"], renewable: true });
      expect((await client.readKVSecret(login.client_token, "payments/stripe")).data).toEqual({
        key: "sk_test",
      });
      await expect(client.readKVSecret(login.client_token, "other/db")).rejects.toMatchObject({
        response: { status: 403 },
      });
      await client.deleteK8sRole(ROOT, "payments");
    });
  });

  describe("KV version 2", () => {
    it("configures the mount, writes versions, reads, lists, deletes, undeletes, destroys and removes", async () => {
      await client.updateKVEngineConfig(ROOT, { max_versions: 5, cas_required: false });
      expect(await client.readKVEngineConfig(ROOT)).toMatchObject({ max_versions: 5, cas_required: false });
      const first = await client.createKVSecret(ROOT, "team/db", { password: "one" });
      expect(first).toMatchObject({ version: 1 });
      expect(await client.updateKVSecret(ROOT, "team/db", { password: "two" }, 1)).toMatchObject({
        version: 2,
      });
      expect(await client.readKVSecret(ROOT, "team/db")).toMatchObject({
        data: { password: "two" },
        metadata: { version: 2 },
      });
      expect((await client.readKVSecret(ROOT, "team/db", 1)).data).toEqual({ password: "one" });
      expect((await client.listKVSecrets(ROOT, "team")).keys).toEqual(["db"]);
      expect((await client.listKVSecrets(ROOT)).keys).toContain("team/");

      await client.deleteLatestVerKVSecret(ROOT, "team/db");
      await client.deleteVersionsKVSecret(ROOT, "team/db", [1]);
      await client.undeleteVersionsKVSecret(ROOT, "team/db", [1, 2]);
      expect((await client.readKVSecret(ROOT, "team/db")).data).toEqual({ password: "two" });
      await client.destroyVersionsKVSecret(ROOT, "team/db", [1]);
      const metadata = await client.readKVSecretMeta(ROOT, "team/db");
      expect(metadata).toMatchObject({ current_version: 2, versions: { "1": { destroyed: true } } });

      await client.createKVSecretMeta(ROOT, "team/api", { max_versions: 3, custom_metadata: { owner: "a" } });
      await client.updateKVSecretMeta(ROOT, "team/api", { max_versions: 4 });
      expect(await client.readKVSecretMeta(ROOT, "team/api")).toMatchObject({ max_versions: 4 });
      await client.eliminateKVSecret(ROOT, "team/db");
      await expect(client.readKVSecret(ROOT, "team/db")).rejects.toMatchObject({ response: { status: 404 } });
    });
  });
});
