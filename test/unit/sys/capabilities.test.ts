/**
 * sys/capabilities, sys/capabilities-accessor and sys/capabilities-self as Vault answers
 * them: several paths at once, each mapped to its capabilities, a single path also under
 * `capabilities`; the token's own templated identity counts; an unknown token or
 * accessor is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const POLICY = `
path "secret/data/app/*" { capabilities = ["read", "list"] }
path "secret/data/app/locked" { capabilities = ["deny"] }
path "sys/capabilities*" { capabilities = ["update"] }
`;

describe("capabilities endpoints", () => {
  let subject: Deployment;
  let token: string;
  let accessor: string;

  beforeAll(async () => {
    subject = await openDeployment();
    expect((await subject.call("PUT", "sys/policies/acl/app", { policy: POLICY })).status).toBe(204);
    const created = await subject.call("POST", "auth/token/create", { policies: ["app"], ttl: "1h" });
    token = created.body.auth.client_token;
    accessor = created.body.auth.accessor;
  });
  afterAll(() => subject?.close());

  const PATHS = ["secret/data/app/db", "secret/data/app/locked", "secret/data/other"];
  const EXPECTED = {
    "secret/data/app/db": ["list", "read"],
    "secret/data/app/locked": ["deny"],
    "secret/data/other": ["deny"],
  };

  it("answers for several paths of another token (sys/capabilities)", async () => {
    const reply = await subject.call("POST", "sys/capabilities", { token, paths: PATHS });
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual(EXPECTED);
  });

  it("answers for the token behind an accessor (sys/capabilities-accessor)", async () => {
    const reply = await subject.call("POST", "sys/capabilities-accessor", { accessor, paths: PATHS });
    expect(reply.body.data).toEqual(EXPECTED);
    const single = await subject.call("POST", "sys/capabilities-accessor", {
      accessor,
      path: "secret/data/app/db",
    });
    expect(single.body.data).toEqual({
      "secret/data/app/db": ["list", "read"],
      capabilities: ["list", "read"],
    });
  });

  it("answers for the caller's own token, one path or several (sys/capabilities-self)", async () => {
    const several = await subject.call("POST", "sys/capabilities-self", { paths: PATHS }, token);
    expect(several.body.data).toEqual(EXPECTED);
    // The comma-separated form, as form-style clients send a list.
    const comma = await subject.call("POST", "sys/capabilities-self", { paths: PATHS.join(",") }, token);
    expect(comma.body.data).toEqual(EXPECTED);
    const root = await subject.call("POST", "sys/capabilities", { token: subject.rootToken, paths: ["x"] });
    expect(root.body.data).toEqual({ x: ["root"], capabilities: ["root"] });
  });

  it("refuses an unknown or missing token or accessor with a 400", async () => {
    for (const [path, body, error] of [
      ["sys/capabilities", { token: "cof.unknown", paths: ["x"] }, "invalid token"],
      ["sys/capabilities", { paths: ["x"] }, "missing token"],
      ["sys/capabilities-accessor", { accessor: "nope", paths: ["x"] }, "invalid accessor"],
      ["sys/capabilities-accessor", { paths: ["x"] }, "missing accessor"],
    ] as const) {
      const reply = await subject.call("POST", path, body);
      expect({ path, status: reply.status, errors: reply.body.errors }).toEqual({
        path,
        status: 400,
        errors: [error],
      });
    }
  });

  it("needs a policy on sys/capabilities to ask about another token", async () => {
    const other = await subject.call("POST", "auth/token/create", { policies: ["default"], ttl: "1h" });
    const reply = await subject.call(
      "POST",
      "sys/capabilities",
      { token, paths: ["x"] },
      other.body.auth.client_token,
    );
    expect(reply.status).toBe(403);
  });
});
