/**
 * The database engine when things go wrong, against a real PostgreSQL server: the server
 * down, a wrong root password, statements that fail, the store failing to record a lease,
 * a revocation racing the creation, a rotation that dies half-way. Each time the caller
 * gets a clear error, and both sides are inspected: no lease without a user in the store,
 * no user without a lease on the server.
 */
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DatabaseFixture,
  openDatabaseFixture,
  READ_ONLY_CREATION,
} from "../support/database-fixture.ts";
import { postgresAvailable, usePostgres } from "../support/postgres.ts";
import { startPostgresProxy } from "../support/postgres-proxy.ts";
import { waitFor } from "../support/wait.ts";

describe.skipIf(!postgresAvailable())("the database engine when things fail", () => {
  const postgres = usePostgres();
  let db: DatabaseFixture;
  beforeEach(async () => {
    db = await openDatabaseFixture(postgres);
    const role = await db.call("POST", "database/roles/reader", {
      db_name: "pg",
      creation_statements: READ_ONLY_CREATION,
      default_ttl: 60,
    });
    expect(role.status).toBe(204);
  }, 60_000);
  afterEach(async () => {
    await db?.close();
  });

  /** Neither side holds anything: no lease (nor index entry) in the store, no user on the server. */
  async function expectNothingLeft() {
    expect(await db.leaseItems()).toBe(0);
    expect(await db.generatedUsers()).toEqual([]);
  }

  describe("the server down", () => {
    it("answers 503 with Retry-After when issuing, and leaves no lease", async () => {
      await postgres.pause();
      try {
        const reply = await db.call("GET", "database/creds/reader");
        expect(reply.status).toBe(503);
        expect(reply.headers.get("retry-after")).toBe("1");
        expect(reply.body.errors[0]).toMatch(/^the database could not be reached to connect to "pg": /);
        expect(await db.leaseItems()).toBe(0);
      } finally {
        await postgres.start();
      }
      await expectNothingLeft();
    });

    it("keeps a lease it could not revoke, retries it with backoff, and revokes it once the server is back", async () => {
      const reply = await db.call("GET", "database/creds/reader");
      const { username } = reply.body.data;
      await postgres.pause();
      try {
        const revoke = await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id });
        expect(revoke.status).toBe(503);
        expect(revoke.body.errors[0]).toContain(reply.body.lease_id);
        db.clock.advance(61_000);
        const report = await db.broker.leases.sweep({ budgetMs: 10_000 });
        expect(report).toMatchObject({ due: 1, failed: 1, revoked: 0 });
        expect(await db.leaseItems()).toBeGreaterThan(0);
        expect(db.logs.some((event) => event.msg === "lease revocation failed")).toBe(true);
      } finally {
        await postgres.start();
      }
      expect(await db.generatedUsers()).toEqual([username]);
      db.clock.advance(3_600_000);
      const report = await db.broker.leases.sweep({ budgetMs: 10_000 });
      expect(report).toMatchObject({ revoked: 1, failed: 0 });
      await expectNothingLeft();
    });
  });

  describe("a wrong root password", () => {
    const wrong = { password: "not-the-password" };

    it("is refused when the connection is written and verified, and nothing is stored", async () => {
      const before = (await db.mountItems()).find((item) => item.sk === "config/pg");
      expect(before).toBeDefined();
      const reply = await db.call("POST", "database/config/pg", wrong);
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual([
        `error verifying the connection: the database refused to connect to "pg": password authentication failed for user "${postgres.user}" (SQLSTATE 28P01)`,
      ]);
      const after = (await db.mountItems()).find((item) => item.sk === "config/pg");
      expect(after?.version).toBe(before?.version);
      expect((await db.call("GET", "database/creds/reader")).status).toBe(200);
    });

    it("fails issuing with a clear 400 when written unverified, leaving no lease and no user", async () => {
      expect(
        (await db.call("POST", "database/config/pg", { ...wrong, verify_connection: false })).status,
      ).toBe(204);
      const reply = await db.call("GET", "database/creds/reader");
      expect(reply.status).toBe(400);
      expect(reply.body.errors[0]).toMatch(
        /password authentication failed for user "postgres" \(SQLSTATE 28P01\)/,
      );
      expect(JSON.stringify(reply.body)).not.toContain(wrong.password);
      await expectNothingLeft();
    });
  });

  describe("statements that fail", () => {
    it("are refused when the role is written if they cannot be rendered", async () => {
      const cases: [unknown, RegExp][] = [
        [[`CREATE ROLE "{{nme}}"`], /unknown placeholder \{\{nme\}\}/],
        [[`CREATE ROLE "{{name}}" PASSWORD '{{password}}`], /ends inside an unterminated string constant/],
        [[`CREATE ROLE "{{name}} WITH LOGIN`], /ends inside an unterminated quoted identifier/],
        [[`DO $$ BEGIN`], /ends inside an unterminated dollar-quoted string/],
        [[], /empty creation statements/],
        [42, /expected a string or a list of strings/],
      ];
      for (const [creation_statements, message] of cases) {
        const reply = await db.call("POST", "database/roles/bad", { db_name: "pg", creation_statements });
        expect(reply.status).toBe(400);
        expect(reply.body.errors[0]).toMatch(message);
      }
      const revocation = await db.call("POST", "database/roles/bad", {
        db_name: "pg",
        creation_statements: READ_ONLY_CREATION,
        revocation_statements: `DROP ROLE "{{name}}"; -- {{password}}`,
      });
      expect(revocation.body.errors[0]).toMatch(
        /"revocation_statements" statement 1: unknown placeholder \{\{password\}\}/,
      );
      expect((await db.call("GET", "database/roles/bad")).status).toBe(404);
    });

    it("roll back whole when one fails, with PostgreSQL's message and no lease or user left", async () => {
      await db.call("POST", "database/roles/broken", {
        db_name: "pg",
        creation_statements: [READ_ONLY_CREATION[0], `GRANT SELECT ON no_such_table TO "{{name}}";`],
      });
      const reply = await db.call("GET", "database/creds/broken");
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual([
        'the database refused to create the user: relation "no_such_table" does not exist (SQLSTATE 42P01)',
      ]);
      await expectNothingLeft();

      await db.call("POST", "database/roles/broken", {
        creation_statements: [`CREATE ROLE "{{name}}" LOGIN; CREATE NONSENSE;`],
      });
      const syntax = await db.call("GET", "database/creds/broken");
      expect(syntax.body.errors[0]).toMatch(/syntax error at or near "NONSENSE" \(SQLSTATE 42601\)$/);
      await expectNothingLeft();
    });

    it("never show a password that PostgreSQL quotes back in its message", async () => {
      await db.call("POST", "database/roles/leaky", {
        db_name: "pg",
        creation_statements: [`CREATE ROLE "{{name}}" LOGIN PASSWORD 'x' VALID UNTIL '{{password}}';`],
      });
      const reply = await db.call("GET", "database/creds/leaky");
      expect(reply.status).toBe(400);
      // PostgreSQL quotes the password whole ("invalid input syntax for type timestamp") or
      // only its tail ("time zone ... not recognized"), depending on how it begins.
      const message: string = reply.body.errors[0];
      expect(message).toMatch(/^the database refused to create the user: .*time zone.*"\[redacted\]"/);
      const quoted = (text: string) => [...text.matchAll(/"([^"]*)"/g)].map((match) => match[1]);
      expect(quoted(message)).toEqual(["[redacted]"]);
      const audited = db.audit.filter(
        (record) =>
          record.type === "response" &&
          (record as { request: { path: string } }).request.path === "database/creds/leaky",
      );
      expect(audited).toHaveLength(1);
      expect(quoted(String(audited[0]?.error))).toEqual(["[redacted]"]);
      await expectNothingLeft();
    });
  });

  it("drops the user when the connection dies as it commits, leaving neither user nor lease", async () => {
    const proxy = await startPostgresProxy(postgres);
    try {
      await db.call("POST", "database/config/pg", {
        connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${proxy.port}/postgres`,
      });
      proxy.cutAfter("COMMIT");
      const reply = await db.call("GET", "database/creds/reader");
      expect(proxy.cuts).toBe(1);
      expect(reply.status).toBe(503);
      expect(reply.body.errors[0]).toMatch(/^the database could not be reached to create the user: /);
      // The server did commit: the lease's revocation, through its type, dropped the user.
      const revoked = db.audit.filter(
        (record) => (record as { request: { operation: string } }).request.operation === "revoke",
      );
      expect(revoked).toEqual([
        expect.objectContaining({
          response: expect.objectContaining({ data: expect.objectContaining({ user_existed: true }) }),
        }),
      ]);
    } finally {
      await proxy.close();
    }
    await expectNothingLeft();
  });

  it("creates no user when the store cannot record the lease", async () => {
    // The disk refuses lease writes, as a full or failing disk would; the adapter is untouched.
    const disk = new Database(db.storePath);
    disk.exec(`CREATE TRIGGER refuse_leases BEFORE INSERT ON items WHEN NEW.pk = 'lease/database'
      BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    try {
      const reply = await db.call("GET", "database/creds/reader");
      expect(reply.status).toBe(500);
      expect(reply.body.errors).toEqual(["internal error"]);
    } finally {
      disk.exec("DROP TRIGGER refuse_leases");
      disk.close();
    }
    await expectNothingLeft();
  });

  it("drops the user again when its lease is revoked while the user is being created", async () => {
    await db.call("POST", "database/roles/slow", {
      db_name: "pg",
      creation_statements: [...READ_ONLY_CREATION, "SELECT pg_sleep(3);"],
    });
    const issuing = db.call("GET", "database/creds/slow");
    // The lease is written before the user; revoke it while the statements still sleep.
    await waitFor(
      "the lease of the user being created",
      async () => ((await db.leaseItems()) > 0 ? true : undefined),
      2_000,
      20,
    );
    expect((await db.call("PUT", "sys/leases/revoke-prefix/database/creds/slow")).status).toBe(204);
    const reply = await issuing;
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      "the lease was revoked while its database user was being created; request new credentials",
    ]);
    await expectNothingLeft();
  });

  it("finishes a root rotation that died before storing its password, on the next use", async () => {
    // The store takes the pending password, then fails the write that would confirm it.
    const disk = new Database(db.storePath);
    disk.exec(`CREATE TABLE writes (n INTEGER); INSERT INTO writes VALUES (0);
      CREATE TRIGGER count_config AFTER UPDATE ON items WHEN NEW.sk = 'config/pg'
        BEGIN UPDATE writes SET n = n + 1; END;
      CREATE TRIGGER fail_confirm BEFORE UPDATE ON items WHEN NEW.sk = 'config/pg' AND (SELECT n FROM writes) >= 1
        BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    try {
      expect((await db.call("POST", "database/rotate-root/pg")).status).toBe(500);
    } finally {
      disk.exec("DROP TRIGGER fail_confirm; DROP TRIGGER count_config; DROP TABLE writes");
      disk.close();
    }
    const oldLogin = await db.login(postgres.user, postgres.password).catch((error: unknown) => error);
    expect((oldLogin as { code?: string }).code).toBe("28P01");
    // A new process: nothing pooled, so it connects with the stored (old) password first.
    await db.call("POST", "database/reset/pg");
    const reply = await db.call("GET", "database/creds/reader");
    expect(reply.status).toBe(200);
    const item = (await db.mountItems()).find((candidate) => candidate.sk === "config/pg");
    await db.call("POST", "database/reset/pg");
    expect((await db.call("GET", "database/creds/reader")).status).toBe(200);
    expect((await db.mountItems()).find((candidate) => candidate.sk === "config/pg")?.version).toBe(
      item?.version,
    );
    await postgres.restorePassword();
  });
});
