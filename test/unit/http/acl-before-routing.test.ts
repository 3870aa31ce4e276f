/**
 * The policy is checked on the full path before the caller is told anything about it, as
 * in Vault: without a capability on a path, "no handler", "unsupported path", "unsupported
 * operation" and a plain refusal are one and the same 403. A caller with a grant still
 * gets the precise answer, and writes keep Vault's create-versus-update distinction.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const DENIED = { status: 403, body: { errors: ["permission denied"] } };

/** [method, path, what the path is, the answer a root token gets]. */
const PATHS: [string, string, string, number][] = [
  ["GET", "secret/data/app/db", "mounted, route exists", 200],
  ["POST", "secret/data/app/db", "mounted, route exists", 200],
  ["DELETE", "secret/data/app/db", "mounted, route exists", 204],
  ["LIST", "secret/metadata/", "mounted, route exists", 200],
  ["PATCH", "secret/config", "mounted, route exists, operation unsupported", 405],
  ["GET", "secret/nonexistent/x", "mounted, no such route", 404],
  ["POST", "secret/nonexistent/x", "mounted, no such route", 404],
  ["GET", "nosuchmount/x", "not mounted", 404],
  ["DELETE", "nosuchmount/x", "not mounted", 404],
  ["POST", "auth/nosuch/login", "auth method not mounted", 404],
  ["GET", "sys/mounts", "built-in, route exists", 200],
  ["DELETE", "sys/policies/acl/nosuch", "built-in, route exists", 204],
  ["PUT", "sys/leases/revoke-prefix/secret/", "built-in, sudo route", 204],
  ["GET", "sys/nonexistent", "built-in, no such route", 404],
  ["POST", "auth/token/nonexistent", "token store, no such route", 404],
  ["GET", "auth/token/create", "token store, operation unsupported", 405],
];

describe("ACL before routing", () => {
  let subject: Deployment;
  const tokens: Record<string, string> = {};

  async function tokenWith(policy: string, rules: string): Promise<string> {
    expect((await subject.call("POST", `sys/policies/acl/${policy}`, { policy: rules })).status).toBe(204);
    const created = await subject.call("POST", "auth/token/create", { policies: [policy] });
    expect(created.status).toBe(200);
    return created.body.auth.client_token;
  }

  beforeAll(async () => {
    subject = await openDeployment();
    tokens.ungranted = await tokenWith(
      "elsewhere",
      'path "secret/data/granted/*" { capabilities = ["read"] }',
    );
    tokens.createOnly = await tokenWith(
      "create-only",
      'path "secret/data/cu/*" { capabilities = ["create"] }',
    );
    tokens.updateOnly = await tokenWith(
      "update-only",
      'path "secret/data/cu/*" { capabilities = ["update"] }',
    );
    tokens.everywhere = await tokenWith(
      "everywhere",
      'path "*" { capabilities = ["create", "read", "update", "patch", "delete", "list"] }',
    );
    for (const path of ["cu/existing", "app/db"]) {
      expect((await subject.call("POST", `secret/data/${path}`, { data: { a: "1" } })).status).toBe(200);
    }
  });
  afterAll(() => subject?.close());

  it("answers one identical 403 to a token without grants, a bad token and no token, wherever the path leads", async () => {
    for (const [method, path, kind] of PATHS) {
      for (const token of [tokens.ungranted, "cof.not-a-token", ""]) {
        const reply = await subject.call(method, path, method === "GET" ? undefined : {}, token);
        expect({ kind, method, path, status: reply.status, body: reply.body }).toEqual({
          kind,
          method,
          path,
          ...DENIED,
        });
      }
    }
  });

  it("tells a caller allowed on the path what is there", async () => {
    for (const [method, path, kind, status] of PATHS) {
      const reply = await subject.call(method, path, method === "GET" ? undefined : {});
      // KV wants data on a write; anything but a refusal shows the route was reached.
      const reached = path === "secret/data/app/db" && method === "POST" ? 400 : status;
      expect({ kind, method, path, status: reply.status }).toEqual({ kind, method, path, status: reached });
    }
    const noMount = await subject.call("POST", "nosuchmount/x", {}, tokens.everywhere);
    expect(noMount).toMatchObject({
      status: 404,
      body: { errors: [expect.stringMatching(/^no handler for route/)] },
    });
    const noRoute = await subject.call("GET", "secret/nonexistent/x", undefined, tokens.everywhere);
    expect(noRoute).toMatchObject({ status: 404, body: { errors: ["unsupported path"] } });
    // Granted everything but sudo: a sudo route is refused, however it exists.
    expect(
      (await subject.call("PUT", "sys/leases/revoke-prefix/secret/", {}, tokens.everywhere)).status,
    ).toBe(403);
  });

  it("keeps create versus update for writes: create makes new secrets only, update changes existing ones only", async () => {
    const write = (path: string, token: string) =>
      subject.call("POST", `secret/data/cu/${path}`, { data: { b: "2" } }, token);
    expect((await write("fresh-1", tokens.createOnly as string)).status).toBe(200);
    expect((await write("existing", tokens.createOnly as string)).status).toBe(403);
    expect((await write("fresh-2", tokens.updateOnly as string)).status).toBe(403);
    expect((await write("existing", tokens.updateOnly as string)).status).toBe(200);
    const created = subject.audit.filter(
      (record) => record.type === "request" && record.request.path === "secret/data/cu/fresh-1",
    );
    expect(created.map((record) => record.request.operation)).toEqual(["create"]);
  });

  it("still serves routes that need no token, and those whose handler decides what a token may see", async () => {
    expect((await subject.call("GET", "sys/health", undefined, "")).status).toBe(200);
    const ui = (token: string) =>
      subject.call("GET", "sys/internal/ui/mounts/secret/data/granted/x", undefined, token);
    expect(await ui(tokens.ungranted as string)).toMatchObject({
      status: 200,
      body: { data: { path: "secret/" } },
    });
    expect((await ui(tokens.createOnly as string)).status).toBe(200);
    const other = await tokenWith("transit-only", 'path "transit/*" { capabilities = ["read"] }');
    // The handler's own refusal, in Vault's words.
    expect((await ui(other)).status).toBe(403);
    expect(await ui("")).toMatchObject(DENIED);
  });
});
