/**
 * The database connections of one mount, as its routes and its lease type use them: each
 * read from the store and opened, then served from this process's pool for its version
 * (connection-pools.node.ts), with failures turned into clear errors scrubbed of the
 * connection's secrets (database-errors.ts).
 *
 * A root password rotation that changed the database but died before its new password was
 * stored leaves that password pending beside the old one (rotate-root.ts); when the
 * database refuses the old one, the pending one is tried and, if it works, stored.
 */
import type { PoolClient } from "pg";
import { CofferError, invalidRequest, isCofferError } from "../../errors.ts";
import type { EngineContext } from "../engine.ts";
import {
  type ConnectionConfig,
  configFromItem,
  configToItem,
  type StoredConnection,
} from "./connection-config.ts";
import { closePool, closePools, type PoolSettings, poolFor } from "./connection-pools.node.ts";
import { connectionTarget, literalPasswordsIn } from "./connection-url.ts";
import { databaseFailure, isPasswordRefused } from "./database-errors.ts";
import { configKey } from "./storage.ts";

export interface Connections {
  find(name: string): Promise<StoredConnection | undefined>;
  /** Like find; a missing connection is a 400 naming it. */
  get(name: string): Promise<StoredConnection>;
  /**
   * Stores the configuration if the connection still has version `previous` (null: if it
   * does not exist yet), and retires this process's pool of the old one.
   */
  save(name: string, config: ConnectionConfig, previous: string | null): Promise<StoredConnection>;
  /**
   * Runs `work` with a client of the connection's pool. Any failure, connecting or in
   * `work`, becomes a CofferError about `what`, with the root passwords and `secrets`
   * scrubbed from its message; a client that failed is discarded.
   */
  run<T>(
    connection: StoredConnection,
    what: string,
    work: (client: PoolClient) => Promise<T>,
    secrets?: readonly string[],
  ): Promise<T>;
  /** Closes this process's pool of the connection. */
  close(name: string): Promise<void>;
  closeAll(): Promise<void>;
}

export function poolSettings(config: ConnectionConfig, password: string): PoolSettings {
  return {
    target: connectionTarget(config.connectionUrl, {
      username: config.username,
      password,
      tlsCa: config.tlsCa,
    }),
    max: config.maxOpenConnections,
    maxLifetimeSeconds: config.maxConnectionLifetime,
  };
}

export function createConnections(context: EngineContext): Connections {
  const { mount, store } = context;
  const poolKey = (name: string) => `${mount.uuid}/${name}`;

  async function find(name: string): Promise<StoredConnection | undefined> {
    const item = await store.get(configKey(mount.uuid, name));
    return item && configFromItem(context, item);
  }

  async function save(
    name: string,
    config: ConnectionConfig,
    previous: string | null,
  ): Promise<StoredConnection> {
    const item = await configToItem(context, name, config);
    try {
      await store.write([
        {
          op: "put",
          item,
          condition: previous === null ? { exists: false } : { attribute: "version", equals: previous },
        },
      ]);
    } catch (error) {
      if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
      throw new CofferError("ERR_CONFLICT", `the connection "${name}" changed meanwhile; try again`);
    }
    // Not awaited: closing waits for connections in use, possibly the caller's own.
    void closePool(poolKey(name));
    return { name, version: String(item.version), config };
  }

  async function connect(connection: StoredConnection): Promise<PoolClient> {
    const { name, version, config } = connection;
    const attempt = (password: string, which: string) =>
      poolFor(poolKey(name), `${version}/${which}`, () => poolSettings(config, password)).connect();
    try {
      return await attempt(config.password, "current");
    } catch (error) {
      if (!isPasswordRefused(error) || config.pendingPassword === "") throw error;
    }
    const client = await attempt(config.pendingPassword, "pending");
    // The rotation did reach the database: its password is the one to keep. A lost race
    // here means someone else stored a newer configuration, which wins.
    const confirmed = { ...config, password: config.pendingPassword, pendingPassword: "" };
    await save(name, confirmed, version).catch(() => undefined);
    return client;
  }

  async function runWithClient<T>(
    connection: StoredConnection,
    what: string,
    work: (client: PoolClient) => Promise<T>,
    secrets: readonly string[],
  ): Promise<T> {
    const scrub = [
      connection.config.password,
      connection.config.pendingPassword,
      ...literalPasswordsIn(connection.config.connectionUrl),
      ...secrets,
    ];
    let client: PoolClient;
    try {
      client = await connect(connection);
    } catch (error) {
      throw databaseFailure(`connect to "${connection.name}"`, error, scrub);
    }
    // A connection that dies while checked out also emits "error" on the client, which the
    // pool only listens for while the client is idle: unheard, it would crash the process.
    // The failure reaches `work` through its query anyway.
    const ignore = () => undefined;
    client.on("error", ignore);
    try {
      const result = await work(client);
      client.removeListener("error", ignore);
      client.release();
      return result;
    } catch (error) {
      client.removeListener("error", ignore);
      // Its state is unknown (a transaction half-rolled back, a timed-out query): never reuse it.
      client.release(true);
      throw databaseFailure(what, error, scrub);
    }
  }

  return {
    find,
    async get(name) {
      const connection = await find(name);
      if (!connection) throw invalidRequest(`no connection named "${name}"`);
      return connection;
    },
    save,
    run: (connection, what, work, secrets = []) =>
      // One span per use of a connection, named for the service only: statements carry passwords.
      context.tracing.call("PostgreSQL", () => runWithClient(connection, what, work, secrets)),
    close: (name) => closePool(poolKey(name)),
    closeAll: () => closePools(`${mount.uuid}/`),
  };
}
