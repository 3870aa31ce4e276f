/**
 * Policy names are case-insensitive, as in Vault (and trimmed): `ADMIN`, ` admin` and
 * `admin` name one policy. The ACL is checked on the name that is written, so a spelling
 * of a name never gets past a rule on the name itself.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const ADMIN = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }';
const OTHER = 'path "secret/*" { capabilities = ["read"] }';
const ROUTES = ["sys/policies/acl", "sys/policy"];
/** Spellings of "admin" as a request path segment (percent-encoded where needed). */
const SPELLINGS = ["ADMIN", "Admin", "%20admin", "admin%20", "%20ADMIN%20"];

describe("policy names", () => {
  let deployment: Deployment;
  beforeEach(async () => {
    deployment = await openDeployment();
    await deployment.broker.policies.write("admin", ADMIN);
  });
  afterEach(async () => {
    await deployment.close();
  });

  /** A token that may manage every policy but the one named by the exact rules. */
  const manager = (exact: string) =>
    deployment.tokenWith({
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
        const write = await deployment.call("PUT", where, { policy: OTHER }, token);
        expect(write.status, `PUT ${where}`).toBe(403);
        const read = await deployment.call("GET", where, undefined, token);
        expect(read.status, `GET ${where}`).toBe(403);
        const remove = await deployment.call("DELETE", where, undefined, token);
        expect(remove.status, `DELETE ${where}`).toBe(403);
      }
    }
    expect(await deployment.broker.policies.read("admin")).toBe(ADMIN);
  });

  it("tells create from update on the name that is written", async () => {
    // May create `admin` but not change it: the policy exists, so writing it is an update.
    const token = await manager('["create", "read"]');
    for (const route of ROUTES) {
      for (const spelling of SPELLINGS) {
        const write = await deployment.call("PUT", `${route}/${spelling}`, { policy: OTHER }, token);
        expect(write.status, `${route}/${spelling}`).toBe(403);
      }
    }
    expect(await deployment.broker.policies.read("admin")).toBe(ADMIN);
    await deployment.call("DELETE", "sys/policies/acl/admin");
    const created = await deployment.call("PUT", "sys/policies/acl/ADMIN", { policy: OTHER }, token);
    expect(created.status).toBe(204);
    expect(await deployment.broker.policies.read("admin")).toBe(OTHER);
  });

  it("writes, reads and deletes a policy under its lower-case name when allowed", async () => {
    const token = await manager('["deny"]');
    for (const route of ROUTES) {
      const write = await deployment.call("PUT", `${route}/Team-A`, { policy: OTHER }, token);
      expect(write.status, route).toBe(204);
      const read = await deployment.call("GET", `${route}/%20TEAM-a`, undefined, token);
      expect(read.status, route).toBe(200);
      expect(read.body.data.name).toBe("team-a");
      expect((await deployment.call("DELETE", `${route}/TEAM-A`, undefined, token)).status, route).toBe(204);
      expect(await deployment.broker.policies.read("team-a")).toBeUndefined();
    }
  });

  it("refuses names that are not policy names", async () => {
    for (const route of ROUTES) {
      for (const name of ["a%20b", "%09admin", "-lead", "x".repeat(129)]) {
        const write = await deployment.call("PUT", `${route}/${name}`, { policy: OTHER });
        expect(write.status, `${route}/${name}`).toBe(400);
      }
    }
  });

  it("folds the policy names a token or a role is given", async () => {
    const created = await deployment.call("POST", "auth/token/create", { policies: ["ADMIN", " Team "] });
    expect(created.status).toBe(200);
    expect(created.body.auth.policies).toEqual(["admin", "default", "team"]);
    const commaSeparated = await deployment.call("POST", "auth/token/create", { policies: "Admin, TEAM" });
    expect(commaSeparated.body.auth.policies).toEqual(["admin", "default", "team"]);

    // A parent holding `team` may give it in any spelling, and nothing else (not even
    // `default`, which it does not hold).
    const parent = await deployment.tokenWith({
      team: `${OTHER}\npath "auth/token/create" { capabilities = ["update"] }`,
    });
    const child = await deployment.call("POST", "auth/token/create", { policies: ["TEAM"] }, parent);
    expect(child.status).toBe(200);
    expect(child.body.auth.policies).toEqual(["team"]);
    const escalate = await deployment.call("POST", "auth/token/create", { policies: ["ADMIN"] }, parent);
    expect(escalate.status).toBe(400);

    expect((await deployment.call("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(204);
    const role = await deployment.call("POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
      token_policies: "Team, ADMIN",
    });
    expect(role.status).toBe(204);
    const read = await deployment.call("GET", "auth/kubernetes/role/app");
    expect(read.body.data.token_policies).toEqual(["team", "admin"]);
  });
});
