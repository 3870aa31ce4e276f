/**
 * The database engine end to end: a broker on SQLite (a file, so a test can reach into it
 * the way a failing disk would), the HTTP app around it, a `database/` mount whose
 * connection "pg" points at a real PostgreSQL server, a table the generated users may read,
 * and helpers to see what the server and the store hold.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { EXPIRY_SHARDS, expiryPartition } from "../../shared/leases/lease-keys.ts";
import type { Item, ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { type Deployment, openDeployment } from "./deployment.ts";
import type { Postgres } from "./postgres.ts";
import { allItems } from "./store-items.ts";

/** Creates the user and lets it read one table, as a read-only application role would. */
export const READ_ONLY_CREATION = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
  `GRANT SELECT ON app_data TO "{{name}}";`,
];

export interface DatabaseFixture extends Deployment {
  /** The SQLite file behind the store (empty for another store). */
  storePath: string;
  /** The generated users (names starting "v-") the server knows. */
  generatedUsers(): Promise<string[]>;
  /** Lease items and expiry index entries in the store. */
  leaseItems(): Promise<number>;
  /** Every item of the mount's own partition. */
  mountItems(): Promise<Item[]>;
  /** The uuid of the database/ mount. */
  databaseMountUuid: string;
  /** Logs in as a generated user; the caller ends the client. */
  login(username: string, password: string): Promise<pg.Client>;
  close(): Promise<void>;
}

/**
 * `on` replaces the SQLite file with another store (DynamoDB behind a fault proxy);
 * `storePath` is then empty.
 */
export async function openDatabaseFixture(
  postgres: Postgres,
  config: Record<string, unknown> = {},
  on?: { store: ItemStore; storage: string },
): Promise<DatabaseFixture> {
  const dir = mkdtempSync(join(tmpdir(), "coffer-db-store-"));
  const storePath = on ? "" : join(dir, "coffer.db");
  const store: ItemStore = on?.store ?? openSqliteStore({ path: storePath });
  const subject = await openDeployment({ store, storage: on?.storage });
  const { call } = subject;

  await postgres.query("DROP TABLE IF EXISTS app_data");
  await postgres.query("CREATE TABLE app_data (id int PRIMARY KEY, secret text)");
  await postgres.query("INSERT INTO app_data VALUES (1, 'visible to readers')");
  // Leftovers of an earlier test on the same server would confuse the counts.
  for (const { rolname } of await postgres.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%'",
  )) {
    await postgres.query(`DROP OWNED BY "${rolname}"; DROP ROLE "${rolname}"`);
  }

  const mounted = await call("POST", "sys/mounts/database", { type: "database" });
  if (mounted.status !== 204) throw new Error(`mounting database failed: ${JSON.stringify(mounted.body)}`);
  const configured = await call("POST", "database/config/pg", {
    plugin_name: "postgresql-database-plugin",
    connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}`,
    username: postgres.user,
    password: postgres.password,
    allowed_roles: "*",
    ...config,
  });
  if (configured.status !== 204 && configured.status !== 200)
    throw new Error(`configuring the connection failed: ${JSON.stringify(configured.body)}`);
  const databaseMountUuid = await subject.mountUuid("database/");

  return Object.assign(subject, {
    storePath,
    databaseMountUuid,
    async generatedUsers() {
      const rows = await postgres.query<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%' ORDER BY rolname",
      );
      return rows.map((row) => row.rolname);
    },
    async leaseItems() {
      const partitions = [
        "lease/database",
        ...Array.from({ length: EXPIRY_SHARDS }, (_, shard) => expiryPartition(shard)),
      ];
      let count = 0;
      for (const pk of partitions) count += (await allItems(store, pk)).length;
      return count;
    },
    async mountItems() {
      return allItems(store, `database/${databaseMountUuid}`);
    },
    async login(username: string, password: string) {
      const client = new pg.Client({
        host: postgres.host,
        port: postgres.port,
        database: postgres.database,
        user: username,
        password,
      });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    },
    async close() {
      await call("DELETE", "sys/mounts/database");
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
