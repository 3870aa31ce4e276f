/**
 * Policy names are case-insensitive, as in Vault (and trimmed): `ADMIN`, ` admin` and
 * `admin` name one policy. The ACL is checked on the name that is written, so a spelling
 * of a name never gets past a rule on the name itself.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KvHarness, kvHarness } from "../kv/harness.ts";

const ADMIN = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }';
const OTHER = 'path "secret/*" { capabilities = ["read"] }';
const ROUTES = ["sys/policies/acl", "sys/policy"];
/** Spellings of "admin" as a request path segment (percent-encoded where needed). */
const SPELLINGS = ["ADMIN", "Admin", "%20admin", "admin%20", "%20ADMIN%20"];

describe("policy names", () => {
  let kv: KvHarness;
  beforeEach(async () => {
    kv = await kvHarness();
    await kv.broker.policies.write("admin", ADMIN);
  });
  afterEach(async () => {
    await kv.store.close();
  });

  /** A token that may manage every policy but the one named by the exact rules. */
  const manager = (exact: string) =>
    kv.tokenWith({
      manager: ROUTES.map(
        (route) => `path "${route}/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "${route}/admin" { capabilities = ${exact} }`,
      ).join("\n"),
    });

  it("checks every operation on either route against the rule for the name that is written", async () => {
    const token = await manager('["deny"]');
    for (const route of ROUTES) {
      for (const spelling of SPELLINGS) {
        const where = `${route}/${spelling}`;
        const write = await kv.call("PUT", where, { token, body: { policy: OTHER } });
        expect(write.status, `PUT ${where}`).toBe(403);
        const read = await kv.call("GET", where, { token });
        expect(read.status, `GET ${where}`).toBe(403);
        const remove = await kv.call("DELETE", where, { token });
        expect(remove.status, `DELETE ${where}`).toBe(403);
      }
    }
    expect(await kv.broker.policies.read("admin")).toBe(ADMIN);
  });

  it("tells create from update on the name that is written", async () => {
    // May create `admin` but not change it: the policy exists, so writing it is an update.
    const token = await manager('["create", "read"]');
    for (const route of ROUTES) {
      for (const spelling of SPELLINGS) {
        const write = await kv.call("PUT", `${route}/${spelling}`, { token, body: { policy: OTHER } });
        expect(write.status, `${route}/${spelling}`).toBe(403);
      }
    }
    expect(await kv.broker.policies.read("admin")).toBe(ADMIN);
    await kv.call("DELETE", "sys/policies/acl/admin");
    const created = await kv.call("PUT", "sys/policies/acl/ADMIN", { token, body: { policy: OTHER } });
    expect(created.status).toBe(204);
    expect(await kv.broker.policies.read("admin")).toBe(OTHER);
  });

  it("writes, reads and deletes a policy under its lower-case name when allowed", async () => {
    const token = await manager('["deny"]');
    for (const route of ROUTES) {
      const write = await kv.call("PUT", `${route}/Team-A`, { token, body: { policy: OTHER } });
      expect(write.status, route).toBe(204);
      const read = await kv.call("GET", `${route}/%20TEAM-a`, { token });
      expect(read.status, route).toBe(200);
      expect(read.body.data.name).toBe("team-a");
      expect((await kv.call("DELETE", `${route}/TEAM-A`, { token })).status, route).toBe(204);
      expect(await kv.broker.policies.read("team-a")).toBeUndefined();
    }
  });

  it("refuses names that are not policy names", async () => {
    for (const route of ROUTES) {
      for (const name of ["a%20b", "%09admin", "-lead", "x".repeat(129)]) {
        const write = await kv.call("PUT", `${route}/${name}`, { body: { policy: OTHER } });
        expect(write.status, `${route}/${name}`).toBe(400);
      }
    }
  });

  it("folds the policy names a token or a role is given", async () => {
    const created = await kv.call("POST", "auth/token/create", { body: { policies: ["ADMIN", " Team "] } });
    expect(created.status).toBe(200);
    expect(created.body.auth.policies).toEqual(["admin", "default", "team"]);
    const commaSeparated = await kv.call("POST", "auth/token/create", { body: { policies: "Admin, TEAM" } });
    expect(commaSeparated.body.auth.policies).toEqual(["admin", "default", "team"]);

    // A parent holding `team` may give it in any spelling, and nothing else (not even
    // `default`, which it does not hold).
    const parent = await kv.tokenWith({
      team: `${OTHER}\npath "auth/token/create" { capabilities = ["update"] }`,
    });
    const child = await kv.call("POST", "auth/token/create", { token: parent, body: { policies: ["TEAM"] } });
    expect(child.status).toBe(200);
    expect(child.body.auth.policies).toEqual(["team"]);
    const escalate = await kv.call("POST", "auth/token/create", {
      token: parent,
      body: { policies: ["ADMIN"] },
    });
    expect(escalate.status).toBe(400);

    expect((await kv.call("POST", "sys/auth/kubernetes", { body: { type: "kubernetes" } })).status).toBe(204);
    const role = await kv.call("POST", "auth/kubernetes/role/app", {
      body: {
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
        token_policies: "Team, ADMIN",
      },
    });
    expect(role.status).toBe(204);
    const read = await kv.call("GET", "auth/kubernetes/role/app");
    expect(read.body.data.token_policies).toEqual(["team", "admin"]);
  });
});
