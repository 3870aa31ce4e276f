/**
 * The database engine's configuration API without a database (verify_connection false):
 * Vault's paths, shapes and status codes, every bad input refused with a message naming
 * it, nothing half-written, and the create/update distinction policies rely on.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import type { ApiCall } from "../../support/http.ts";

const CONNECTION = {
  plugin_name: "postgresql-database-plugin",
  connection_url: "postgresql://{{username}}:{{password}}@127.0.0.1:1/app",
  username: "vault",
  password: "root-secret",
  verify_connection: false,
};
const CREATION = `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

let subject: Deployment;
let call: ApiCall;

async function mountItems() {
  const uuid = (await subject.broker.mounts.list()).find((mount) => mount.path === "database/")!.uuid;
  return (await subject.broker.store.query({ pk: `database/${uuid}` })).items;
}

beforeEach(async () => {
  subject = await openDeployment();
  call = subject.call;
  expect((await call("POST", "sys/mounts/database", { type: "database" })).status).toBe(204);
});
afterEach(() => subject.close());

describe("connections", () => {
  it("writes, reads, lists, merges on update and deletes", async () => {
    expect((await call("LIST", "database/config")).status).toBe(404);
    expect((await call("GET", "database/config/pg")).status).toBe(404);
    expect((await call("POST", "database/config/pg", CONNECTION)).status).toBe(204);
    expect(
      (await call("POST", "database/config/pg", { allowed_roles: "ro,rw", verify_connection: false })).status,
    ).toBe(204);
    const read = await call("GET", "database/config/pg");
    expect(read.body.data).toMatchObject({
      plugin_name: "postgresql-database-plugin",
      allowed_roles: ["ro", "rw"],
      verify_connection: false,
      connection_details: { connection_url: CONNECTION.connection_url, username: "vault" },
    });
    expect(JSON.stringify(read.body)).not.toContain("root-secret");
    expect((await call("LIST", "database/config")).body.data.keys).toEqual(["pg"]);
    expect((await call("DELETE", "database/config/pg")).status).toBe(204);
    expect((await call("GET", "database/config/pg")).status).toBe(404);
    expect(await mountItems()).toEqual([]);
  });

  it.each([
    [{ ...CONNECTION, plugin_name: undefined }, "plugin_name must be provided"],
    [
      { ...CONNECTION, plugin_name: "mysql-database-plugin" },
      /unsupported plugin_name "mysql-database-plugin"/,
    ],
    [{ ...CONNECTION, connection_url: "" }, "connection_url cannot be empty"],
    [{ ...CONNECTION, connection_url: "postgresql://h/d?sslcert=/x" }, /unsupported parameters: sslcert/],
    [{ ...CONNECTION, max_open_connections: 500 }, /"max_open_connections": expected an integer <= 50/],
    [{ ...CONNECTION, max_open_connections: -1 }, /expected an integer >= 0/],
    [{ ...CONNECTION, max_idle_connections: -1 }, /"max_idle_connections": expected an integer >= 0/],
    [{ ...CONNECTION, password_authentication: "md5" }, /use "password" or "scram-sha-256"/],
    [
      { ...CONNECTION, password_policy: "strong" },
      `"password_policy" is not supported by Coffer's database engine`,
    ],
    [{ ...CONNECTION, username_template: "{{.RoleName}}" }, /"username_template" is not supported/],
    [{ ...CONNECTION, tls_ca: "not pem" }, /expected PEM certificates/],
    [
      { ...CONNECTION, root_rotation_statements: [`ALTER ROLE "{{name}}" PASSWORD '{{pw}}'`] },
      /unknown placeholder \{\{pw\}\}/,
    ],
    [{ ...CONNECTION, verify_connection: "maybe" }, /"verify_connection": expected a boolean/],
  ])("refuses a bad write with 400 and stores nothing (%#)", async (body, message) => {
    const reply = await call("POST", "database/config/pg", body);
    expect(reply.status).toBe(400);
    if (typeof message === "string") expect(reply.body.errors).toEqual([message]);
    else expect(reply.body.errors[0]).toMatch(message);
    expect(await mountItems()).toEqual([]);
  });

  it.each([
    ["postgresql://ad@min:Sup3rSecret@127.0.0.1:1/app", "postgresql://ad@min:*****@127.0.0.1:1/app"],
    ["postgresql://admin:s3cr@tP4ss@127.0.0.1:1/app", "postgresql://admin:*****@127.0.0.1:1/app"],
  ])(
    "masks a literal password holding or following an @ (%s) and refuses to rotate it",
    async (url, shown) => {
      const written = await call("POST", "database/config/pg", { ...CONNECTION, connection_url: url });
      expect(written.status).toBe(200);
      expect(written.body.warnings).toHaveLength(1);
      const read = await call("GET", "database/config/pg");
      expect(read.body.data.connection_details.connection_url).toBe(shown);
      for (const fragment of ["Sup3rSecret", "s3cr", "tP4ss"]) {
        expect(JSON.stringify(read.body)).not.toContain(fragment);
      }
      const rotate = await call("POST", "database/rotate-root/pg");
      expect(rotate.status).toBe(400);
      expect(rotate.body.errors[0]).toMatch(/connection_url holds the password itself/);
    },
  );

  it("accepts Vault's fields of unimplemented features when they are empty", async () => {
    const reply = await call("POST", "database/config/pg", {
      ...CONNECTION,
      plugin_version: "",
      password_policy: "",
      username_template: "",
      disable_escaping: false,
      rotation_period: 0,
    });
    expect(reply.status).toBe(204);
  });

  it("ignores fields it does not know, as Vault does, and stores the rest", async () => {
    const reply = await call("POST", "database/config/pg", { ...CONNECTION, surprise: 1 });
    expect(reply.status).toBe(204);
    expect((await call("GET", "database/config/pg")).body.data.plugin_name).toBe(CONNECTION.plugin_name);
  });

  it("fails verification clearly when the database cannot be reached", async () => {
    const reply = await call("POST", "database/config/pg", { ...CONNECTION, verify_connection: true });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatch(
      /^error verifying the connection: the database could not be reached/,
    );
    expect(reply.body.errors[0]).not.toContain("root-secret");
    expect(await mountItems()).toEqual([]);
  });

  it("distinguishes create from update for policies, as Vault does", async () => {
    await call("PUT", "sys/policies/acl/updater", {
      policy: JSON.stringify({ path: { "database/config/*": { capabilities: ["update", "read"] } } }),
    });
    const { token } = await subject.broker.tokens.create({
      policies: ["updater"],
      displayName: "t",
      path: "auth/token/create",
      ttl: 600,
    });
    expect((await call("POST", "database/config/pg", CONNECTION, token)).status).toBe(403);
    await call("POST", "database/config/pg", CONNECTION);
    expect(
      (await call("POST", "database/config/pg", { ...CONNECTION, allowed_roles: "*" }, token)).status,
    ).toBe(204);
  });
});

describe("roles", () => {
  beforeEach(async () => {
    await call("POST", "database/config/pg", CONNECTION);
  });

  it("writes with Vault's fields, reads Vault's shape, merges on update, lists and deletes", async () => {
    expect(
      (
        await call("POST", "database/roles/ro", {
          db_name: "pg",
          creation_statements: CREATION,
          default_ttl: "1h",
          max_ttl: 86_400,
        })
      ).status,
    ).toBe(204);
    await call("POST", "database/roles/ro", { revocation_statements: [`DROP ROLE "{{name}}";`] });
    expect((await call("GET", "database/roles/ro")).body.data).toEqual({
      db_name: "pg",
      creation_statements: [CREATION],
      revocation_statements: [`DROP ROLE "{{name}}";`],
      renew_statements: [],
      rollback_statements: [],
      default_ttl: 3600,
      max_ttl: 86_400,
      credential_type: "password",
      credential_config: {},
    });
    expect((await call("LIST", "database/roles")).body.data.keys).toEqual(["ro"]);
    expect((await call("DELETE", "database/roles/ro")).status).toBe(204);
    expect((await call("GET", "database/roles/ro")).status).toBe(404);
    expect((await call("LIST", "database/roles")).status).toBe(404);
  });

  it.each([
    [{ creation_statements: CREATION }, 'missing required field "db_name"'],
    [{ db_name: "pg" }, "empty creation statements"],
    [
      { db_name: "pg", creation_statements: CREATION, default_ttl: "2h", max_ttl: "1h" },
      '"default_ttl" cannot exceed "max_ttl"',
    ],
    [
      { db_name: "pg", creation_statements: CREATION, default_ttl: "soon" },
      /"default_ttl": expected a duration/,
    ],
    [
      { db_name: "pg", creation_statements: CREATION, credential_type: "rsa_private_key" },
      /Coffer issues "password" only/,
    ],
    [
      {
        db_name: "pg",
        creation_statements: CREATION,
        renew_statements: [`ALTER ROLE "{{name}}" PASSWORD '{{password}}'`],
      },
      /"renew_statements" statement 1: unknown placeholder \{\{password\}\}/,
    ],
    [{ db_name: "p g", creation_statements: CREATION }, /invalid connection name "p g"/],
  ])("refuses a bad role with 400 and stores nothing (%#)", async (body, message) => {
    const reply = await call("POST", "database/roles/ro", body);
    expect(reply.status).toBe(400);
    if (typeof message === "string") expect(reply.body.errors).toEqual([message]);
    else expect(reply.body.errors[0]).toMatch(message);
    expect((await mountItems()).map((item) => item.sk)).toEqual(["config/pg"]);
  });

  it("ignores a field it does not know, as Vault does", async () => {
    const reply = await call("POST", "database/roles/ro", {
      db_name: "pg",
      creation_statements: CREATION,
      ttl: 5,
    });
    expect(reply.status).toBe(204);
    expect((await call("GET", "database/roles/ro")).body.data.default_ttl).toBe(0);
  });

  it("answers 400 for credentials of a role whose connection is gone, and for rotate and reset of unknown connections", async () => {
    await call("POST", "database/roles/ro", { db_name: "other", creation_statements: CREATION });
    expect(await call("GET", "database/creds/ro")).toMatchObject({
      status: 400,
      body: { errors: ['no connection named "other"'] },
    });
    expect((await call("POST", "database/rotate-root/other")).body.errors).toEqual([
      'no connection named "other"',
    ]);
    expect((await call("POST", "database/reset/other")).status).toBe(400);
    // A field the endpoint does not know is ignored, as Vault ignores it: the answer is about the connection.
    expect((await call("POST", "database/rotate-root/other", { force: true })).body.errors).toEqual([
      'no connection named "other"',
    ]);
    expect(await subject.broker.leases.list("database/")).toEqual([]);
  });
});
