/**
 * Every change Coffer makes in a database runs as one transaction: the statements of a
 * template (each may hold several SQL statements; the server's own parser splits them,
 * dollar-quoted bodies included) all apply or none does.
 *
 * Each transaction first takes one transaction-scoped advisory lock, the same for every
 * Coffer process on the database. PostgreSQL fails concurrent GRANTs and REVOKEs on one
 * object with "tuple concurrently updated", which a burst of credentials granting on the
 * same tables would hit; serialized, each transaction takes milliseconds. Sessions of other
 * applications never take this lock and are not affected.
 */
import type { PoolClient } from "pg";

/** The advisory lock key: "coffer" in ASCII, unlikely to be any other application's. */
export const ADVISORY_LOCK_KEY = "109330110506354";

export async function runInTransaction(client: PoolClient, statements: readonly string[]): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [ADVISORY_LOCK_KEY]);
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    // The caller discards a connection that failed, so a rollback that fails changes nothing.
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
