/**
 * Named policies in the store: the built-in `default`, the protected `root`, case-folded
 * names, templated ACLs, and the per-process cache bound (ACL_POLICY_CACHE_MS) with two
 * processes sharing one store.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../../shared/policy/default-policy.ts";
import { ACL_POLICY_CACHE_MS, createPolicyStore } from "../../../shared/policy/policy-store.ts";
import type { ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";

const READ_APP = 'path "secret/data/app/*" { capabilities = ["read"] }';

describe("policy store", () => {
  let store: ItemStore;
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    store = openSqliteStore({ path: ":memory:" });
    clock = 1_000_000;
  });
  afterEach(async () => {
    await store.close();
  });

  it("writes, reads, lists and deletes policies, folding names to lower case", async () => {
    const policies = createPolicyStore(store, now);
    await policies.write("App-Reader", READ_APP);
    expect(await policies.read("app-reader")).toBe(READ_APP);
    expect(await policies.list()).toEqual(["app-reader", "default", "root"]);
    await policies.delete("APP-READER");
    expect(await policies.read("app-reader")).toBeUndefined();
    expect(await policies.list()).toEqual(["default", "root"]);
  });

  it("stores nothing when the text does not parse", async () => {
    const policies = createPolicyStore(store, now);
    await expect(policies.write("bad", 'path "a" { capabilities = ["reed"] }')).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    expect(await policies.read("bad")).toBeUndefined();
    expect((await store.query({ pk: "policy/acl" })).items).toEqual([]);
  });

  it("protects root and default, and refuses invalid names", async () => {
    const policies = createPolicyStore(store, now);
    await expect(policies.write("root", READ_APP)).rejects.toMatchObject({
      message: 'cannot update the "root" policy',
    });
    await expect(policies.delete("root")).rejects.toMatchObject({
      message: 'cannot delete the "root" policy',
    });
    await expect(policies.delete("default")).rejects.toMatchObject({
      message: 'cannot delete the "default" policy',
    });
    for (const name of ["", "a/b", "x".repeat(129), "sp ace", "-lead"]) {
      await expect(policies.write(name, READ_APP), name).rejects.toMatchObject({
        code: "ERR_INVALID_REQUEST",
      });
    }
    expect(await policies.read("root")).toBeUndefined();
  });

  it("has Vault's default policy before and after it is stored, and lets operators edit it", async () => {
    const policies = createPolicyStore(store, now);
    expect(await policies.read("default")).toBe(DEFAULT_POLICY);
    const acl = await policies.acl(["default"]);
    expect([...acl.capabilities("auth/token/lookup-self")]).toEqual(["read"]);
    expect([...acl.capabilities("sys/capabilities-self")]).toEqual(["update"]);
    expect([...acl.capabilities("secret/data/x")]).toEqual([]);

    await policies.ensureDefault();
    await policies.write("default", `${DEFAULT_POLICY}\n${READ_APP}`);
    await policies.ensureDefault();
    expect(await policies.read("default")).toContain(READ_APP);
  });

  it("grants everything to root and nothing for unknown policies", async () => {
    const policies = createPolicyStore(store, now);
    const root = await policies.acl(["root", "anything"]);
    expect(root.root).toBe(true);
    expect(root.capabilities("sys/auth/x").has("sudo")).toBe(true);
    expect([...(await policies.acl(["no-such-policy"])).capabilities("secret/data/app/x")]).toEqual([]);
  });

  it("fills templates from the caller's identity", async () => {
    const policies = createPolicyStore(store, now);
    await policies.write(
      "per-namespace",
      'path "secret/data/{{identity.entity.aliases.auth_kubernetes_abc.metadata.service_account_namespace}}/*" { capabilities = ["read"] }',
    );
    const acl = await policies.acl(["per-namespace"], {
      aliases: { auth_kubernetes_abc: { service_account_namespace: "team-a" } },
    });
    expect([...acl.capabilities("secret/data/team-a/db")]).toEqual(["read"]);
    expect([...acl.capabilities("secret/data/team-b/db")]).toEqual([]);
    const anonymous = await policies.acl(["per-namespace"]);
    expect([...anonymous.capabilities("secret/data/team-a/db")]).toEqual([]);
  });

  it("sees a change made by another process within ACL_POLICY_CACHE_MS, and its own at once", async () => {
    const here = createPolicyStore(store, now);
    const there = createPolicyStore(store, now);
    await here.write("app", READ_APP);
    expect([...(await there.acl(["app"])).capabilities("secret/data/app/x")]).toEqual(["read"]);

    await here.write("app", 'path "secret/data/app/*" { capabilities = ["deny"] }');
    expect([...(await here.acl(["app"])).capabilities("secret/data/app/x")]).toEqual(["deny"]);
    clock += ACL_POLICY_CACHE_MS - 1;
    expect([...(await there.acl(["app"])).capabilities("secret/data/app/x")]).toEqual(["read"]);
    clock += 1;
    expect([...(await there.acl(["app"])).capabilities("secret/data/app/x")]).toEqual(["deny"]);

    await here.delete("app");
    clock += ACL_POLICY_CACHE_MS;
    expect([...(await there.acl(["app"])).capabilities("secret/data/app/x")]).toEqual([]);
  });

  it("builds an ACL once per set of policies, and again at once when one of them changes", async () => {
    const here = createPolicyStore(store, now);
    const there = createPolicyStore(store, now);
    await here.write("app", READ_APP);
    const first = await here.acl(["app", "default"]);
    expect(await here.acl(["APP", "default", "app"])).toBe(first);
    expect([...first.capabilities("secret/data/app/x")]).toEqual(["read"]);

    await here.write("app", 'path "secret/data/app/*" { capabilities = ["deny"] }');
    const changed = await here.acl(["app", "default"]);
    expect(changed).not.toBe(first);
    expect([...changed.capabilities("secret/data/app/x")]).toEqual(["deny"]);

    // Changed through another process: the ACL built here goes with the cached policy.
    const thereBefore = await there.acl(["app"]);
    await here.write("app", READ_APP);
    clock += ACL_POLICY_CACHE_MS;
    expect([...(await there.acl(["app"])).capabilities("secret/data/app/x")]).toEqual(["read"]);
    expect(await there.acl(["app"])).not.toBe(thereBefore);

    await here.delete("app");
    expect([...(await here.acl(["app", "default"])).capabilities("secret/data/app/x")]).toEqual([]);
  });

  it("keeps the ACL of a templated policy per identity", async () => {
    const policies = createPolicyStore(store, now);
    await policies.write(
      "per-namespace",
      'path "secret/data/{{identity.entity.aliases.auth_kubernetes_abc.metadata.service_account_namespace}}/*" { capabilities = ["read"] }',
    );
    const teamA = { aliases: { auth_kubernetes_abc: { service_account_namespace: "team-a" } } };
    const teamB = { aliases: { auth_kubernetes_abc: { service_account_namespace: "team-b" } } };
    const a = await policies.acl(["per-namespace"], teamA);
    const b = await policies.acl(["per-namespace"], teamB);
    expect([...b.capabilities("secret/data/team-a/db")]).toEqual([]);
    expect([...b.capabilities("secret/data/team-b/db")]).toEqual(["read"]);
    expect(await policies.acl(["per-namespace"], structuredClone(teamA))).toBe(a);
    expect([...(await policies.acl(["per-namespace"])).capabilities("secret/data/team-a/db")]).toEqual([]);
  });

  it("fails closed when a stored policy no longer parses", async () => {
    await store.write([{ op: "put", item: { pk: "policy/acl", sk: "broken", text: "path {" } }]);
    await expect(createPolicyStore(store, now).acl(["broken"])).rejects.toMatchObject({
      code: "ERR_INTERNAL",
    });
  });
});
