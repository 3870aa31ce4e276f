/**
 * PostgreSQL connections, pooled per process: one small pool per database connection of a
 * mount, bounded by its max_open_connections. A Lambda instance serves one request at a
 * time, so a few connections are plenty, and many instances times a large pool would
 * exhaust the server's max_connections.
 *
 * Connections close after IDLE_TIMEOUT_MS unused. A Lambda instance is frozen between
 * invocations and may never be thawed: its connections then die with it rather than stay
 * open on the server, and a thawed instance finds few stale ones (the server may have
 * dropped them meanwhile; a connection that fails is discarded, never returned to the pool).
 *
 * Each pool is stamped with the version of the configuration it was built from; a
 * request that reads a newer version replaces it, so a configuration written through one
 * instance reaches every other on its next use.
 */
import pg from "pg";
import type { ConnectionTarget } from "./connection-url.ts";

export const IDLE_TIMEOUT_MS = 10_000;
/** Any one statement, server side: a Lambda invocation has seconds, not minutes. */
export const STATEMENT_TIMEOUT_MS = 20_000;
/**
 * A session left inside a transaction (its process frozen or killed mid-way) is ended by
 * the server after this, so its locks do not block every other instance.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export interface PoolSettings {
  target: ConnectionTarget;
  max: number;
  /** 0: reused until idle. */
  maxLifetimeSeconds: number;
}

const pools = new Map<string, { stamp: string; pool: pg.Pool }>();

async function retire(pool: pg.Pool): Promise<void> {
  // Waits for connections in use to come back, then closes them; never fails the caller.
  await pool.end().catch(() => undefined);
}

function clientOptions(target: ConnectionTarget): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: target.ssl,
    application_name: target.applicationName,
    connectionTimeoutMillis: target.connectTimeoutMs,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  };
}

function build({ target, max, maxLifetimeSeconds }: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    ...clientOptions(target),
    max,
    maxLifetimeSeconds,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    // Idle connections alone never keep a process (`coffer dev`, a CLI command) alive.
    allowExitOnIdle: true,
  });
  // An idle connection the server closed: the pool has already discarded it. Without a
  // listener, the event would crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/** Connects once, outside any pool, and runs a trivial query: verify_connection. */
export async function probe(target: ConnectionTarget): Promise<void> {
  const client = new pg.Client(clientOptions(target));
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The pool for `key` built from settings of version `stamp`, replacing one of another version. */
export function poolFor(key: string, stamp: string, settings: () => PoolSettings): pg.Pool {
  const current = pools.get(key);
  if (current?.stamp === stamp) return current.pool;
  if (current) void retire(current.pool);
  const pool = build(settings());
  pools.set(key, { stamp, pool });
  return pool;
}

/** Closes the pool of `key`, waiting for connections in use. */
export async function closePool(key: string): Promise<void> {
  const current = pools.get(key);
  if (!current) return;
  pools.delete(key);
  await retire(current.pool);
}

/** Closes every pool whose key starts with `prefix` (a mount's). */
export async function closePools(prefix: string): Promise<void> {
  await Promise.all([...pools.keys()].filter((key) => key.startsWith(prefix)).map(closePool));
}

/** Connections this process holds to the pool of `key`: open, and idle among them. */
export function poolUsage(key: string): { open: number; idle: number } {
  const pool = pools.get(key)?.pool;
  return { open: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0 };
}
