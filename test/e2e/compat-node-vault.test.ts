/**
 * node-vault (pinned in package.json), unmodified, against `coffer dev` over HTTP, scenario
 * by scenario: sys (health, mounts, auth methods, policies, tune, remount, revoke by
 * prefix), KV version 2 and 1, a Kubernetes login with the dev issuer's token and a
 * path-scoped policy, the token store, and transit. Every call is the client's own
 * command or its generic read/write/list/delete, as an application would make it.
 */
import vault from "node-vault";
import { beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";

const ROOT = "compat-node-vault-root";

describe("node-vault against coffer dev", () => {
  const server = useDevServer({ rootToken: ROOT });
  let client: ReturnType<typeof vault>;

  beforeAll(async () => {
    client = vault({ endpoint: server.url, token: ROOT });
  });

  describe("sys", () => {
    it("health, seal status, leader and init", async () => {
      expect(await client.health()).toMatchObject({ initialized: true, sealed: false, standby: false });
      expect(await client.health({ activecode: 299 })).toMatchObject({ initialized: true });
      expect(await client.status()).toMatchObject({ sealed: false, initialized: true });
      expect(await client.initialized()).toEqual({ initialized: true });
      expect(await client.leader()).toMatchObject({ ha_enabled: false, is_self: true });
    });

    it("mounts: enable (with its mount_point), list, tune, remount, disable", async () => {
      // node-vault sends every argument as the body, mount_point included: Vault ignores it.
      await client.mount({
        mount_point: "kv-node",
        type: "kv",
        options: { version: "2" },
        description: "node",
      });
      expect((await client.mounts()).data["kv-node/"]).toMatchObject({
        type: "kv",
        options: { version: "2" },
      });
      await client.write("sys/mounts/kv-node/tune", { default_lease_ttl: "1h", max_lease_ttl: "2h" });
      expect((await client.read("sys/mounts/kv-node/tune")).data).toMatchObject({
        default_lease_ttl: 3600,
        max_lease_ttl: 7200,
      });
      await client.write("kv-node/data/moved", { data: { kept: "yes" } });
      await client.remount({ from: "kv-node", to: "kv-moved" });
      expect((await client.read("kv-moved/data/moved")).data.data).toEqual({ kept: "yes" });
      await client.unmount({ mount_point: "kv-moved" });
      expect(Object.keys((await client.mounts()).data)).not.toContain("kv-moved/");
    });

    it("auth methods: enable, list, tune, disable", async () => {
      await client.enableAuth({ mount_point: "k8s-node", type: "kubernetes", description: "cluster" });
      expect((await client.auths()).data["k8s-node/"]).toMatchObject({ type: "kubernetes" });
      await client.write("sys/auth/k8s-node/tune", { default_lease_ttl: "30m" });
      expect((await client.read("sys/auth/k8s-node/tune")).data.default_lease_ttl).toBe(1800);
      await client.disableAuth({ mount_point: "k8s-node" });
      expect(Object.keys((await client.auths()).data)).not.toContain("k8s-node/");
    });

    it("policies through the legacy sys/policy endpoints, name repeated in the body", async () => {
      const rules = 'path "secret/data/app/*" { capabilities = ["read"] }';
      await client.addPolicy({ name: "app-read", rules });
      expect((await client.getPolicy({ name: "app-read" })).rules).toBe(rules);
      expect((await client.policies()).policies).toContain("app-read");
      await client.removePolicy({ name: "app-read" });
      expect((await client.policies()).policies).not.toContain("app-read");
    });
  });

  describe("KV", () => {
    it("version 2: write, read, versions, list with LIST and with ?list=1, delete", async () => {
      await client.write("secret/data/app/db", { data: { password: "one" } });
      await client.write("secret/data/app/db", { data: { password: "two" } });
      expect((await client.read("secret/data/app/db")).data).toMatchObject({
        data: { password: "two" },
        metadata: { version: 2 },
      });
      expect((await client.read("secret/data/app/db?version=1")).data.data).toEqual({ password: "one" });
      expect((await client.list("secret/metadata/app")).data.keys).toEqual(["db"]);
      const getOnly = vault({ endpoint: server.url, token: ROOT, noCustomHTTPVerbs: true });
      expect((await getOnly.list("secret/metadata/app")).data.keys).toEqual(["db"]);
      await client.update("secret/data/app/db", { data: { user: "app" } });
      expect((await client.read("secret/data/app/db")).data.data).toEqual({ password: "two", user: "app" });
      await client.destroySecretVersions({ mount_point: "secret", path: "app/db", versions: [1] });
      expect((await client.read("secret/metadata/app/db")).data.versions["1"].destroyed).toBe(true);
      await client.delete("secret/metadata/app/db");
      await expect(client.read("secret/data/app/db")).rejects.toMatchObject({
        response: { statusCode: 404 },
      });
    });

    it("version 1: write, read, list, delete", async () => {
      await client.mount({ mount_point: "kv1", type: "kv" });
      await client.write("kv1/app/db", { password: "v1" });
      expect((await client.read("kv1/app/db")).data).toEqual({ password: "v1" });
      expect((await client.list("kv1/app")).data.keys).toEqual(["db"]);
      await client.delete("kv1/app/db");
      await expect(client.read("kv1/app/db")).rejects.toMatchObject({ response: { statusCode: 404 } });
    });
  });

  describe("Kubernetes login with the dev issuer, under a path-scoped policy", () => {
    it("logs in, reads inside its path, is refused outside it", async () => {
      await client.addPolicy({
        name: "payments",
        rules: 'path "secret/data/payments/*" { capabilities = ["read"] }',
      });
      // node-vault's addKubernetesRole cannot send a request: its schema lists the fields
      // without `properties`, and building the body reads `properties` (TypeError), see
      // https://github.com/nodevault/node-vault/blob/v0.12.0/src/commands.js#L206-L239 and
      // https://github.com/nodevault/node-vault/blob/v0.12.0/src/index.js#L327
      await expect(
        client.addKubernetesRole({ role_name: "payments", policies: ["payments"] }),
      ).rejects.toThrow(TypeError);
      await client.write("auth/kubernetes/role/payments", {
        bound_service_account_names: ["api"],
        bound_service_account_namespaces: ["payments"],
        policies: ["payments"],
        ttl: "1h",
      });
      await client.write("secret/data/payments/stripe", { data: { key: "sk_test" } });
      await client.write("secret/data/other/db", { data: { key: "no" } });

      const jwt = await requestDevToken(server.url, { namespace: "payments", serviceAccount: "api" });
      const app = vault({ endpoint: server.url });
      // The Kubernetes commands render their path from the call's arguments only, so the
      // client's own `kubernetesPath` setting never reaches it: without `mount_point` the
      // path is "auth//login", which Vault refuses too. See
      // https://github.com/nodevault/node-vault/blob/v0.12.0/src/index.js#L345 and
      // https://github.com/nodevault/node-vault/blob/v0.12.0/src/commands.js#L634
      await expect(app.kubernetesLogin({ role: "payments", jwt })).rejects.toMatchObject({
        response: { statusCode: 400 },
      });
      const login = await app.kubernetesLogin({ mount_point: "kubernetes", role: "payments", jwt });
      expect(login.auth).toMatchObject({ policies: ["default", "payments"], renewable: true });
      // kubernetesLogin is a token source: the client now uses the token it got.
      expect(app.token).toBe(login.auth.client_token);
      expect((await app.read("secret/data/payments/stripe")).data.data).toEqual({ key: "sk_test" });
      await expect(app.read("secret/data/other/db")).rejects.toMatchObject({ response: { statusCode: 403 } });
      const role = await client.getKubernetesRole({ mount_point: "kubernetes", role_name: "payments" });
      expect(role.data).toMatchObject({ bound_service_account_names: ["api"] });
      await client.deleteKubernetesRole({ mount_point: "kubernetes", role_name: "payments" });
    });
  });

  describe("token store", () => {
    it("creates, looks up, renews and revokes tokens", async () => {
      // tokenCreate is one of node-vault's "token sources": the client switches to the
      // token it created (https://github.com/nodevault/node-vault/blob/v0.12.0/src/commands.js#L809),
      // so the tokens are made by a client of their own.
      const maker = vault({ endpoint: server.url, token: ROOT });
      const created = await maker.tokenCreate({ policies: ["default"], ttl: "1h", meta: { team: "a" } });
      const { client_token: token, accessor } = created.auth;
      expect((await client.tokenLookup({ token })).data).toMatchObject({ accessor, meta: { team: "a" } });
      expect((await client.tokenLookupAccessor({ accessor })).data.accessor).toBe(accessor);
      const own = vault({ endpoint: server.url, token });
      expect((await own.tokenLookupSelf()).data).toMatchObject({ accessor, policies: ["default"] });
      expect((await own.tokenRenewSelf({ increment: "2h" })).auth.lease_duration).toBeGreaterThan(3600);
      const caps = await own.write("sys/capabilities-self", {
        paths: ["secret/data/x", "sys/capabilities-self"],
      });
      expect(caps.data).toEqual({ "secret/data/x": ["deny"], "sys/capabilities-self": ["update"] });
      await client.tokenRevokeAccessor({ accessor });
      await expect(own.tokenLookupSelf()).rejects.toMatchObject({ response: { statusCode: 403 } });

      const other = (await vault({ endpoint: server.url, token: ROOT }).tokenCreate({})).auth.client_token;
      await client.tokenRevoke({ token: other });
      await expect(client.tokenLookup({ token: other })).rejects.toMatchObject({
        response: { statusCode: 403 },
      });
      const third = vault({
        endpoint: server.url,
        token: (await vault({ endpoint: server.url, token: ROOT }).tokenCreate({})).auth.client_token,
      });
      await third.tokenRevokeSelf();
      await expect(third.tokenLookupSelf()).rejects.toMatchObject({ response: { statusCode: 403 } });
    });

    it("revokes children with their parent, keeps them with revoke-orphan, renews, and lists roles", async () => {
      // Token sources switch the client that called them: each gets a client of its own.
      const as = (token: string) => vault({ endpoint: server.url, token });
      await client.addPolicy({
        name: "token-maker",
        rules: 'path "auth/token/create" { capabilities = ["create", "update"] }',
      });
      const create = async (token: string) =>
        (await as(token).tokenCreate({ policies: ["default", "token-maker"] })).auth.client_token as string;

      const parent = await create(ROOT);
      const child = await create(parent);
      await client.tokenRevoke({ token: parent });
      await expect(client.tokenLookup({ token: child })).rejects.toMatchObject({
        response: { statusCode: 403 },
      });

      const keeper = await create(ROOT);
      const kept = await create(keeper);
      await client.tokenRevokeOrphan({ token: keeper });
      expect((await client.tokenLookup({ token: kept })).data.orphan).toBe(true);
      expect((await as(ROOT).tokenRenew({ token: kept, increment: "2h" })).auth.lease_duration).toBe(7200);

      expect((await as(ROOT).tokenCreateOrphan({ policies: ["default"] })).auth.orphan).toBe(true);
      await client.write("auth/token/roles/deployer", { allowed_policies: ["default"] });
      expect((await client.tokenRoles()).data.keys).toEqual(["deployer"]);
    });
  });

  describe("transit", () => {
    it("creates a key, encrypts and decrypts, lists and deletes", async () => {
      await client.transitCreateKey({ name: "orders" });
      const plaintext = Buffer.from("4111 1111 1111 1111").toString("base64");
      const { ciphertext } = (await client.encryptData({ name: "orders", plaintext })).data;
      expect(ciphertext).toMatch(/^vault:v1:/);
      expect((await client.decryptData({ name: "orders", ciphertext })).data.plaintext).toBe(plaintext);
      expect((await client.transitReadKey({ name: "orders" })).data).toMatchObject({ name: "orders" });
      expect((await client.transitListKeys()).data.keys).toContain("orders");
      await client.write("transit/keys/orders/config", { deletion_allowed: true });
      await client.transitDeleteKey({ name: "orders" });
    });
  });
});
