/**
 * The database engine over HTTP against a real PostgreSQL server: credentials that log in
 * and can do exactly what the creation statements grant, renewals that move VALID UNTIL,
 * and every way a lease ends (on demand, by prefix, by identity, with its token, by the
 * scheduled sweep) terminating the user's sessions and dropping it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRevoker } from "../../functions/revoker.ts";
import { poolUsage } from "../../shared/engines/database/connection-pools.node.ts";
import {
  type DatabaseFixture,
  openDatabaseFixture,
  READ_ONLY_CREATION,
} from "../support/database-fixture.ts";
import { identityCases, TOKEN_MAKER_POLICY } from "../support/identity-cases.ts";
import { trustCluster } from "../support/kubernetes-cluster.ts";
import { postgresAvailable, usePostgres } from "../support/postgres.ts";
import { provenIdentity } from "../support/token-record.ts";
import { waitFor } from "../support/wait.ts";

describe.skipIf(!postgresAvailable())("the database engine against PostgreSQL", () => {
  const postgres = usePostgres();
  let db: DatabaseFixture;
  beforeEach(async () => {
    db = await openDatabaseFixture(postgres);
    const role = await db.call("POST", "database/roles/reader", {
      db_name: "pg",
      creation_statements: READ_ONLY_CREATION,
      default_ttl: "1h",
      max_ttl: "4h",
    });
    expect(role.status).toBe(204);
  }, 60_000);
  afterEach(async () => {
    await db?.close();
  });

  /** A token like a Kubernetes login's: the service account and its entity, proven. */
  async function serviceAccountToken(namespace: string, name: string, entityId = `${namespace}/${name}`) {
    return db.broker.tokens.create({
      policies: ["root"],
      displayName: `kubernetes-${namespace}-${name}`,
      path: "auth/kubernetes/login",
      ttl: 3600,
      identity: provenIdentity(namespace, name, entityId),
    });
  }

  async function validUntil(username: string): Promise<number> {
    const [row] = await postgres.query<{ rolvaliduntil: Date }>(
      "SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1",
      [username],
    );
    return row!.rolvaliduntil.getTime();
  }

  const errorCode = (error: unknown) => (error as { code?: string }).code;

  /** The audit records of lease revocations: their status and the facts the engine reported. */
  function revocationRecords() {
    type Recorded = {
      request: { operation: string };
      response: { status: number; data: Record<string, unknown> };
    };
    return (db.audit as unknown as Recorded[])
      .filter((record) => record.request.operation === "revoke")
      .map((record) => ({ status: record.response.status, data: record.response.data }));
  }

  describe("credentials", () => {
    it("mints a user that logs in and can do exactly what the creation statements grant", async () => {
      const { token } = await serviceAccountToken("payments", "api");
      const reply = await db.call("GET", "database/creds/reader", undefined, token);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ renewable: true, lease_duration: 3600, mount_type: "database" });
      expect(reply.body.lease_id).toMatch(/^database\/creds\/reader\/[\w-]{24}$/);
      expect(Object.keys(reply.body.data).sort()).toEqual(["password", "username"]);
      const { username, password } = reply.body.data;
      expect(username).toMatch(/^v-payments-api-reader-[a-z0-9]{12}$/);
      expect(password).toMatch(/^[A-Za-z0-9]{32}$/);

      const session = await db.login(username, password);
      try {
        expect((await session.query("SELECT secret FROM app_data")).rows).toEqual([
          { secret: "visible to readers" },
        ]);
        const insert = await session.query("INSERT INTO app_data VALUES (2, 'x')").catch((e: unknown) => e);
        expect(errorCode(insert)).toBe("42501");
        const create = await session.query("CREATE TABLE mine (x int)").catch((e: unknown) => e);
        expect(errorCode(create)).toBe("42501");
        const [role] = (
          await session.query(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = current_user",
          )
        ).rows;
        expect(role).toEqual({
          rolsuper: false,
          rolcreaterole: false,
          rolcreatedb: false,
          rolcanlogin: true,
        });
      } finally {
        await session.end();
      }
      // VALID UNTIL is the lease's expiry.
      const lease = await db.call("PUT", "sys/leases/lookup", { lease_id: reply.body.lease_id });
      expect(lease.status).toBe(200);
      const expiry = Date.parse(lease.body.data.expire_time);
      expect(Math.abs((await validUntil(username)) - expiry)).toBeLessThanOrEqual(1000);
    });

    it("answers Vault's errors for unknown roles, disallowed roles and bodies", async () => {
      expect(await db.call("GET", "database/creds/nope")).toMatchObject({
        status: 400,
        body: { errors: ["unknown role: nope"] },
      });
      await db.call("POST", "database/config/pg", { allowed_roles: ["writer-*"], verify_connection: false });
      expect(await db.call("GET", "database/creds/reader")).toMatchObject({
        status: 400,
        body: { errors: ['"reader" is not an allowed role'] },
      });
      expect((await db.call("POST", "database/creds/reader", {})).status).toBe(405);
      expect(await db.leaseItems()).toBe(0);
      expect(await db.generatedUsers()).toEqual([]);
    });

    it("names users after the token when it carries no service account, within 63 bytes", async () => {
      const long = "a".repeat(120);
      await db.call("POST", `database/roles/${long}`, {
        db_name: "pg",
        creation_statements: READ_ONLY_CREATION,
      });
      const { token } = await serviceAccountToken("n".repeat(63), "s".repeat(63));
      const reply = await db.call("GET", `database/creds/${long}`, undefined, token);
      expect(reply.status).toBe(200);
      expect(new TextEncoder().encode(reply.body.data.username).length).toBeLessThanOrEqual(63);
      expect(await db.generatedUsers()).toEqual([reply.body.data.username]);
      const root = await db.call("GET", "database/creds/reader");
      expect(root.body.data.username).toMatch(/^v-root-reader-[a-z0-9]{12}$/);
    });
  });

  describe("usernames from proof", () => {
    const policies = ["database-creds", TOKEN_MAKER_POLICY];

    /** The callers of test/support/identity-cases.ts, logged in through a cluster this broker trusts. */
    async function callers() {
      const policy = 'path "database/creds/*" { capabilities = ["read"] }';
      expect((await db.call("POST", "sys/policies/acl/database-creds", { policy })).status).toBe(204);
      const cluster = await trustCluster(db.call, { policies, now: db.clock.now });
      return identityCases(db.call, cluster, policies);
    }

    it("name each user after what its caller's login proved, never after meta", async () => {
      for (const { token, proven, name } of await callers()) {
        const reply = await db.call("GET", "database/creds/reader", undefined, token);
        expect(reply.status, name).toBe(200);
        const { username } = reply.body.data;
        const expected = proven
          ? `v-${proven.namespace}-${proven.serviceAccount}-reader-`
          : "v-token-reader-";
        expect(username, name).toMatch(new RegExp(`^${expected}[a-z0-9]{12}$`));
        expect(await db.generatedUsers(), name).toContain(username);
      }
    });

    it("are dropped by revoke-identity exactly for the proven entity and the tokens it made", async () => {
      const cases = await callers();
      const users: string[] = [];
      for (const { token } of cases) {
        users.push((await db.call("GET", "database/creds/reader", undefined, token)).body.data.username);
      }
      const entity = cases[0]!.entityId;
      expect((await db.call("PUT", "sys/leases/revoke-identity", { entity_id: entity })).status).toBe(204);
      const left = await db.generatedUsers();
      expect(users.map((user) => left.includes(user))).toEqual(
        cases.map(({ entityId }) => entityId !== entity),
      );
    });
  });

  describe("renewal", () => {
    it("moves VALID UNTIL with the lease, never past the role's max_ttl", async () => {
      const reply = await db.call("GET", "database/creds/reader");
      const { username } = reply.body.data;
      const before = await validUntil(username);
      const renewed = await db.call("PUT", "sys/leases/renew", {
        lease_id: reply.body.lease_id,
        increment: "2h",
      });
      expect(renewed.status).toBe(200);
      expect(renewed.body).toMatchObject({
        lease_id: reply.body.lease_id,
        renewable: true,
        lease_duration: 7200,
      });
      const after = await validUntil(username);
      expect(after - before).toBeGreaterThan(3590_000);
      expect(Math.abs(after - (Date.now() + 7200_000))).toBeLessThan(5_000);

      const capped = await db.call("PUT", `sys/leases/renew/${reply.body.lease_id}`, { increment: "10h" });
      expect(capped.body.lease_duration).toBeLessThanOrEqual(4 * 3600);
      expect(await validUntil(username)).toBeLessThanOrEqual(before - 3600_000 + 4 * 3600_000 + 2000);
    });

    it("uses the role's renew statements when it has them", async () => {
      await db.call("POST", "database/roles/reader", {
        renew_statements: [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}' CONNECTION LIMIT 3;`],
      });
      const reply = await db.call("GET", "database/creds/reader");
      await db.call("PUT", "sys/leases/renew", { lease_id: reply.body.lease_id, increment: 600 });
      const [row] = await postgres.query("SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", [
        reply.body.data.username,
      ]);
      expect(row).toEqual({ rolconnlimit: 3 });
    });

    it("refuses to renew a user someone dropped, and the lease still revokes cleanly", async () => {
      const reply = await db.call("GET", "database/creds/reader");
      await postgres.query(
        `DROP OWNED BY "${reply.body.data.username}"; DROP ROLE "${reply.body.data.username}"`,
      );
      const renewed = await db.call("PUT", "sys/leases/renew", { lease_id: reply.body.lease_id });
      expect(renewed.status).toBe(400);
      expect(renewed.body.errors[0]).toMatch(/no longer exists/);
      expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(204);
      expect(await db.leaseItems()).toBe(0);
    });
  });

  describe("revocation", () => {
    it("on demand: ends the user's open sessions, drops it, and refuses its logins", async () => {
      const reply = await db.call("GET", "database/creds/reader");
      const { username, password } = reply.body.data;
      const session = await db.login(username, password);
      const ended = new Promise((resolve) => session.once("error", resolve));
      expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(204);
      await ended;
      const query = await session.query("SELECT 1").catch((e: unknown) => e);
      expect(query).toBeInstanceOf(Error);
      const login = await db.login(username, password).catch((e: unknown) => e);
      expect(errorCode(login)).toBe("28P01");
      expect(await db.generatedUsers()).toEqual([]);
      expect(await db.leaseItems()).toBe(0);
      expect(revocationRecords()).toEqual([
        expect.objectContaining({
          status: 204,
          data: expect.objectContaining({ user_existed: true, sessions_terminated: 1 }),
        }),
      ]);
    });

    it("hands what the user created to the root user instead of failing or losing it", async () => {
      await db.call("POST", "database/roles/owner", {
        db_name: "pg",
        creation_statements: [
          `CREATE ROLE "{{name}}" LOGIN PASSWORD '{{password}}'; GRANT CREATE ON SCHEMA public TO "{{name}}";`,
        ],
      });
      const reply = await db.call("GET", "database/creds/owner");
      const session = await db.login(reply.body.data.username, reply.body.data.password);
      await session.query("CREATE TABLE made_by_user (x int)");
      await session.end();
      expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(204);
      expect(await db.generatedUsers()).toEqual([]);
      const [owner] = await postgres.query(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_user'",
      );
      expect(owner).toEqual({ tableowner: postgres.user });
      await postgres.query("DROP TABLE made_by_user");
    });

    it("by prefix, by identity and with the token that obtained them", async () => {
      const alice = await serviceAccountToken("team-a", "alice");
      const bob = await serviceAccountToken("team-b", "bob");
      const carol = await serviceAccountToken("team-c", "carol");
      for (const { token } of [alice, alice, bob, carol]) {
        expect((await db.call("GET", "database/creds/reader", undefined, token)).status).toBe(200);
      }
      await db.call("POST", "database/roles/other", {
        db_name: "pg",
        creation_statements: READ_ONLY_CREATION,
      });
      await db.call("GET", "database/creds/other");
      expect(await db.generatedUsers()).toHaveLength(5);
      // Usernames name the service account, which is how the steps below tell them apart.
      const usersOf = async (name: string) => (await db.generatedUsers()).filter((u) => u.includes(name));
      expect(await usersOf("alice")).toHaveLength(2);
      expect(await usersOf("bob")).toHaveLength(1);

      const identity = await db.call("PUT", "sys/leases/revoke-identity", { entity_id: "team-a/alice" });
      expect(identity.status).toBe(204);
      expect(await usersOf("alice")).toEqual([]);
      expect(await db.generatedUsers()).toHaveLength(3);

      await db.call("POST", "auth/token/revoke", { token: bob.token });
      expect(await usersOf("bob")).toEqual([]);
      expect(await db.generatedUsers()).toHaveLength(2);

      expect((await db.call("PUT", "sys/leases/revoke-prefix/database/creds/reader")).status).toBe(204);
      const left = await db.generatedUsers();
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^v-root-other-/);
    });

    it("runs the role's own revocation statements, or the issue-time ones once the role is deleted", async () => {
      await postgres.query("DROP TABLE IF EXISTS revoked_log; CREATE TABLE revoked_log (who text)");
      await db.call("POST", "database/roles/reader", {
        revocation_statements: [
          `INSERT INTO revoked_log VALUES ('{{name}}'); REVOKE ALL ON app_data FROM "{{name}}"; DROP ROLE "{{name}}";`,
        ],
      });
      const first = await db.call("GET", "database/creds/reader");
      const second = await db.call("GET", "database/creds/reader");
      await db.call("PUT", "sys/leases/revoke", { lease_id: first.body.lease_id });
      await db.call("DELETE", "database/roles/reader");
      await db.call("PUT", "sys/leases/revoke", { lease_id: second.body.lease_id });
      const logged = await postgres.query<{ who: string }>("SELECT who FROM revoked_log ORDER BY who");
      expect(logged.map((row) => row.who).sort()).toEqual(
        [first.body.data.username, second.body.data.username].sort(),
      );
      expect(await db.generatedUsers()).toEqual([]);
    });

    it("counts a user that no longer exists as revoked", async () => {
      const reply = await db.call("GET", "database/creds/reader");
      const { username } = reply.body.data;
      await postgres.query(`REVOKE ALL ON app_data FROM "${username}"; DROP ROLE "${username}"`);
      expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(204);
      expect(await db.leaseItems()).toBe(0);
      expect(revocationRecords()).toEqual([
        expect.objectContaining({ status: 204, data: expect.objectContaining({ user_existed: false }) }),
      ]);
    });

    it("200 credentials issued at once are distinct and all gone after the sweeps that follow their expiry", async () => {
      // The burst queues for the pool's 4 connections, and the connect timeout (5 s unless
      // the URL sets one) also bounds that wait: on a machine busy with other suites, the
      // last in the queue can wait longer. What is tested here is not how fast the queue
      // moves, so the connection allows the wait the URL may allow at most.
      const reconfigured = await db.call("POST", "database/config/pg", {
        plugin_name: "postgresql-database-plugin",
        connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}?connect_timeout=30`,
        username: postgres.user,
        password: postgres.password,
        allowed_roles: "*",
      });
      expect(reconfigured.status, JSON.stringify(reconfigured.body)).toBeLessThan(300);
      await db.call("POST", "database/roles/reader", { default_ttl: 60 });
      // What the server sees of Coffer's connections while the burst runs.
      let most = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const [row] = await postgres.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'coffer'",
          );
          most = Math.max(most, row!.n);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const replies = await Promise.all(
        Array.from({ length: 200 }, () => db.call("GET", "database/creds/reader")),
      );
      sampling = false;
      await sampler;
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(4);
      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
      const usernames = new Set(replies.map((reply) => reply.body.data.username));
      const passwords = new Set(replies.map((reply) => reply.body.data.password));
      expect(usernames.size).toBe(200);
      expect(passwords.size).toBe(200);
      expect((await db.generatedUsers()).length).toBe(200);

      db.clock.advance(61_000);
      const revoker = createRevoker(db.broker, () => {});
      for (let tick = 0; tick < 5 && (await db.leaseItems()) > 0; tick++) {
        await revoker({}, { getRemainingTimeInMillis: () => 60_000 });
      }
      expect(await db.leaseItems()).toBe(0);
      expect(await db.generatedUsers()).toEqual([]);
    }, 120_000);
  });

  describe("connections", () => {
    it("hides every secret from reads, and stores the connection only sealed", async () => {
      const read = await db.call("GET", "database/config/pg");
      expect(read.status).toBe(200);
      expect(read.body.data).toEqual({
        plugin_name: "postgresql-database-plugin",
        plugin_version: "",
        connection_details: {
          connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/postgres`,
          username: postgres.user,
          max_open_connections: 4,
          max_idle_connections: 0,
          max_connection_lifetime: "0s",
          password_authentication: "password",
        },
        allowed_roles: ["*"],
        root_credentials_rotate_statements: [],
        password_policy: "",
        verify_connection: true,
      });
      const creds = await db.call("GET", "database/creds/reader");
      const stored = JSON.stringify(await db.mountItems(), (_, value) =>
        value instanceof Uint8Array ? Buffer.from(value).toString("latin1") : value,
      );
      for (const secret of [
        postgres.password,
        postgres.host,
        String(postgres.port),
        creds.body.data.password,
      ]) {
        expect(stored).not.toContain(secret);
      }
      const audit = JSON.stringify(db.audit);
      expect(audit).not.toContain(postgres.password);
      expect(audit).not.toContain(creds.body.data.password);
      expect(JSON.stringify(db.logs)).not.toContain(postgres.password);
      expect((await db.call("LIST", "database/config")).body.data.keys).toEqual(["pg"]);
    });

    it("masks a password written into the URL, with Vault's warning", async () => {
      const written = await db.call("POST", "database/config/pg", {
        connection_url: postgres.url,
        username: "",
        password: "",
      });
      expect(written.status).toBe(200);
      expect(written.body.warnings).toEqual([
        "Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.",
      ]);
      const read = await db.call("GET", "database/config/pg");
      expect(read.body.data.connection_details.connection_url).toBe(
        `postgresql://postgres:*****@${postgres.host}:${postgres.port}/postgres`,
      );
      expect((await db.call("GET", "database/creds/reader")).status).toBe(200);
      expect((await db.call("POST", "database/rotate-root/pg")).status).toBe(400);
    });

    it("masks all of a literal password that holds or follows an @", async () => {
      for (const [userInfo, shown] of [
        ["ad@min:Sup3rSecret", "ad@min:*****"],
        ["admin:s3cr@tP4ss", "admin:*****"],
      ]) {
        const url = `postgresql://${userInfo}@${postgres.host}:${postgres.port}/postgres`;
        const written = await db.call("POST", "database/config/pg", {
          connection_url: url,
          verify_connection: false,
        });
        expect(written.status).toBe(200);
        const read = await db.call("GET", "database/config/pg");
        expect(read.body.data.connection_details.connection_url).toBe(
          `postgresql://${shown}@${postgres.host}:${postgres.port}/postgres`,
        );
        for (const fragment of ["Sup3rSecret", "s3cr", "tP4ss"]) {
          expect(JSON.stringify(read.body)).not.toContain(fragment);
        }
        expect((await db.call("POST", "database/rotate-root/pg")).status).toBe(400);
      }
    });

    it("rotates the root password: changed in the database, unknown to anyone, still working", async () => {
      expect((await db.call("POST", "database/rotate-root/pg")).status).toBe(204);
      const oldLogin = await db.login(postgres.user, postgres.password).catch((e: unknown) => e);
      expect(errorCode(oldLogin)).toBe("28P01");
      const read = await db.call("GET", "database/config/pg");
      expect(JSON.stringify(read.body)).not.toMatch(/"password":/);
      const reply = await db.call("GET", "database/creds/reader");
      expect(reply.status).toBe(200);
      expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(204);
      // Give the server its known password back for the tests that follow.
      await postgres.restorePassword();
    });

    it("pools at most max_open_connections per connection, closes them when idle and on reset", async () => {
      await db.call("POST", "database/config/pg", { max_open_connections: 2, verify_connection: false });
      await Promise.all(Array.from({ length: 12 }, () => db.call("GET", "database/creds/reader")));
      const ours = async () =>
        Number(
          (
            await postgres.query<{ n: string }>(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'coffer'",
            )
          )[0]!.n,
        );
      expect(await ours()).toBeGreaterThan(0);
      expect(await ours()).toBeLessThanOrEqual(2);
      // A backend leaves pg_stat_activity a moment after its client hangs up: poll for it.
      const noneOfOurs = async () => ((await ours()) === 0 ? true : undefined);
      expect((await db.call("POST", "database/reset/pg")).status).toBe(204);
      await waitFor("the reset pool's sessions to end", noneOfOurs, 5_000);
      expect((await db.call("POST", "database/reset-connection/nope")).status).toBe(400);

      await db.call("GET", "database/creds/reader");
      expect(await ours()).toBe(1);
      // The pool closes a connection idle for 10 s.
      await waitFor(
        "the idle pool to close",
        () => (poolUsage(`${db.databaseMountUuid}/pg`).open === 0 ? true : undefined),
        11_000,
      );
      await waitFor("the idle pool's sessions to end", noneOfOurs, 5_000);
    }, 30_000);

    it("sends only SCRAM verifiers with password_authentication scram-sha-256, and the passwords work", async () => {
      await db.call("POST", "database/config/pg", { password_authentication: "scram-sha-256" });
      await postgres.query("ALTER SYSTEM SET log_statement = 'all'");
      await postgres.query("SELECT pg_reload_conf()");
      try {
        const reply = await db.call("GET", "database/creds/reader");
        const session = await db.login(reply.body.data.username, reply.body.data.password);
        await session.end();
        const [row] = await postgres.query<{ rolpassword: string }>(
          "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
          [reply.body.data.username],
        );
        expect(row!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
        // The root password too: rotated, it reaches the server as a verifier only.
        expect((await db.call("POST", "database/rotate-root/pg")).status).toBe(204);
        expect((await db.call("GET", "database/creds/reader")).status).toBe(200);
        const [root] = await postgres.query<{ rolpassword: string }>(
          "SELECT rolpassword FROM pg_authid WHERE rolname = $1",
          [postgres.user],
        );
        expect(root!.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
        const log = postgres.serverLog();
        expect(log).toContain(`CREATE ROLE "${reply.body.data.username}"`);
        expect(log).toContain(`ALTER ROLE "${postgres.user}" WITH PASSWORD 'SCRAM-SHA-256$4096:`);
        expect(log).not.toContain(reply.body.data.password);
      } finally {
        await postgres.query("ALTER SYSTEM RESET log_statement");
        await postgres.query("SELECT pg_reload_conf()");
        await postgres.restorePassword();
      }
    });

    it("works with a root user that is no superuser, as on Amazon RDS (CREATEROLE, pg_signal_backend)", async () => {
      await postgres.query("DROP ROLE IF EXISTS coffer_admin");
      await postgres.query(
        "CREATE ROLE coffer_admin LOGIN CREATEROLE PASSWORD 'admin-password'; GRANT pg_signal_backend TO coffer_admin; GRANT SELECT ON app_data TO coffer_admin WITH GRANT OPTION",
      );
      try {
        const configured = await db.call("POST", "database/config/pg", {
          username: "coffer_admin",
          password: "admin-password",
        });
        expect(configured.status).toBe(204);
        const reply = await db.call("GET", "database/creds/reader");
        expect(reply.status).toBe(200);
        const session = await db.login(reply.body.data.username, reply.body.data.password);
        const ended = new Promise((resolve) => session.once("error", resolve));
        expect((await session.query("SELECT count(*)::int AS n FROM app_data")).rows).toEqual([{ n: 1 }]);
        expect((await db.call("PUT", "sys/leases/revoke", { lease_id: reply.body.lease_id })).status).toBe(
          204,
        );
        await ended;
        expect(await db.generatedUsers()).toEqual([]);
      } finally {
        await db.call("DELETE", "database/config/pg");
        await postgres.query("DROP OWNED BY coffer_admin; DROP ROLE coffer_admin");
      }
    });

    it("revokes the mount's users when the mount is disabled", async () => {
      await db.call("GET", "database/creds/reader");
      await db.call("GET", "database/creds/reader");
      expect((await db.call("DELETE", "sys/mounts/database")).status).toBe(204);
      expect(await db.generatedUsers()).toEqual([]);
      expect(await db.leaseItems()).toBe(0);
      expect(await db.mountItems()).toEqual([]);
    });
  });
});
