/**
 * No SQL injection through role names, usernames or templates, proved against a real
 * PostgreSQL server: hostile values rendered into every kind of place a template can put
 * them either become exactly the name or password they are, or are refused; the table
 * they try to drop is still there.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderStatement } from "../../shared/engines/database/statement-template.ts";
import {
  type DatabaseFixture,
  openDatabaseFixture,
  READ_ONLY_CREATION,
} from "../support/database-fixture.ts";
import { canLogIn, postgresAvailable, usePostgres } from "../support/postgres.ts";
import { provenIdentity } from "../support/token-record.ts";

const HOSTILE_NAME = `evil"; DROP TABLE app_data; --`;
const HOSTILE_PASSWORD = `p'; DROP TABLE app_data; --`;

describe.skipIf(!postgresAvailable())("SQL injection", () => {
  const postgres = usePostgres();
  let db: DatabaseFixture;
  beforeEach(async () => {
    db = await openDatabaseFixture(postgres);
  }, 60_000);
  afterEach(async () => {
    await db?.close();
    await postgres.query(`DROP ROLE IF EXISTS "${HOSTILE_NAME.replaceAll('"', '""')}"`);
  });

  const tableSurvived = async () =>
    expect(await postgres.query("SELECT count(*)::int AS n FROM app_data")).toEqual([{ n: 1 }]);

  const execute = (template: string, values: Record<string, string>) =>
    postgres.query(renderStatement(template, values));

  it.each([
    ["quoted, as Vault's documentation writes them", `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}';`],
    ["bare", `CREATE ROLE {{name}} LOGIN PASSWORD {{password}};`],
    ["in an escape string", `CREATE ROLE "{{name}}" LOGIN PASSWORD E'{{password}}';`],
  ])("renders hostile values %s into exactly the name and password they are", async (_, template) => {
    await execute(template, { name: HOSTILE_NAME, password: HOSTILE_PASSWORD });
    expect(await postgres.query("SELECT rolname FROM pg_roles WHERE rolname = $1", [HOSTILE_NAME])).toEqual([
      { rolname: HOSTILE_NAME },
    ]);
    expect(await canLogIn(postgres, HOSTILE_NAME, HOSTILE_PASSWORD)).toBe(true);
    await tableSurvived();
  });

  it("takes a backslash literally in an escape string, and refuses it where its meaning depends on the server", async () => {
    const password = `a\\'; DROP TABLE app_data; --`;
    await execute(`CREATE ROLE "{{name}}" LOGIN PASSWORD E'{{password}}';`, { name: HOSTILE_NAME, password });
    expect(await canLogIn(postgres, HOSTILE_NAME, password)).toBe(true);
    expect(() =>
      renderStatement(`ALTER ROLE "{{name}}" PASSWORD '{{password}}'`, { name: "x", password }),
    ).toThrow(/contains a backslash/);
    await tableSurvived();
  });

  it("refuses a value that could end a dollar-quoted body or a comment, and renders a plain one", async () => {
    const block = `DO $body$ BEGIN EXECUTE format('CREATE ROLE %I', '{{name}}'); END $body$;`;
    for (const name of [
      `x'); DROP TABLE app_data; --`,
      "x$body$; DROP TABLE app_data; --",
      "x\nDROP TABLE app_data",
    ]) {
      expect(() => renderStatement(block, { name })).toThrow(
        /cannot be rendered inside a dollar-quoted string/,
      );
    }
    expect(() => renderStatement("-- for {{name}}\nSELECT 1", { name: "x\nDROP TABLE app_data" })).toThrow(
      /inside a comment/,
    );
    await execute(block, { name: "v-plain-name" });
    expect(await postgres.query("SELECT rolname FROM pg_roles WHERE rolname = 'v-plain-name'")).toHaveLength(
      1,
    );
    await postgres.query(`DROP ROLE "v-plain-name"`);
    await tableSurvived();
  });

  it("refuses role and connection names that are not plain names", async () => {
    for (const name of [`r";DROP TABLE app_data;--`, "r'x", "r x", "-r", "r$"]) {
      const path = encodeURIComponent(name);
      for (const [method, route, body] of [
        ["POST", `database/roles/${path}`, { db_name: "pg", creation_statements: READ_ONLY_CREATION }],
        ["GET", `database/creds/${path}`, undefined],
        ["POST", `database/config/${path}`, { plugin_name: "postgresql-database-plugin" }],
      ] as const) {
        const reply = await db.call(method, route, body);
        expect(reply.status, `${method} ${route}`).toBe(400);
        expect(reply.body.errors[0]).toMatch(/^invalid (role|connection) name/);
      }
    }
    await tableSurvived();
    expect(await db.generatedUsers()).toEqual([]);
  });

  it("derives usernames from hostile service account names without letting anything through", async () => {
    await db.call("POST", "database/roles/reader", {
      db_name: "pg",
      creation_statements: READ_ONLY_CREATION,
    });
    const { token } = await db.broker.tokens.create({
      policies: ["root"],
      displayName: `x"; DROP TABLE app_data; --`,
      path: "auth/kubernetes/login",
      ttl: 600,
      identity: provenIdentity(`ns"; DROP TABLE app_data; --`, "sa'$$--\\"),
    });
    const reply = await db.call("GET", "database/creds/reader", undefined, token);
    expect(reply.status).toBe(200);
    expect(reply.body.data.username).toMatch(/^v-ns-drop-table-app_data-sa-reader-[a-z0-9]{12}$/);
    await tableSurvived();
  });
});
