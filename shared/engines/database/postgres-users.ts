/**
 * The life of a generated PostgreSQL user: created by a role's creation statements, its
 * VALID UNTIL moved by renewals, and ended by revocation. Statements come from templates
 * (statement-template.ts) and run as one transaction each (transaction.ts).
 *
 * Revocation, whatever the statements: the user is first made NOLOGIN (committed, so no
 * new session can start), then every session it has is terminated, then the revocation
 * statements run, then any session that slipped in is terminated too. A user that no
 * longer exists counts as revoked, so revocation is idempotent.
 */
import type { PoolClient } from "pg";
import { renderStatement } from "./statement-template.ts";
import { runInTransaction } from "./transaction.ts";

export const CREATION_PLACEHOLDERS = ["name", "username", "password", "expiration"];
export const RENEW_PLACEHOLDERS = ["name", "username", "expiration"];
export const REVOCATION_PLACEHOLDERS = ["name", "username"];

/** Vault's default renewal for PostgreSQL. */
export const DEFAULT_RENEW_STATEMENTS = [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`];
/**
 * When a role names no revocation statements: hand whatever the user owns to the root
 * user, drop its privileges in this database, drop it. REASSIGN and DROP OWNED need
 * membership in the user, which the root user grants itself first (a superuser, or a
 * CREATEROLE user such as RDS's master user, may). Privileges in other databases of the
 * server make DROP ROLE fail, visibly: such roles need their own revocation statements.
 */
export const DEFAULT_REVOCATION_STATEMENTS = [
  `GRANT "{{name}}" TO CURRENT_USER;
REASSIGN OWNED BY "{{name}}" TO CURRENT_USER;
DROP OWNED BY "{{name}}";
DROP ROLE IF EXISTS "{{name}}";`,
];

/** Vault's {{expiration}}: UTC to the second, rounded up so the password is valid as long as its lease. */
export function formatExpiration(epochMs: number): string {
  const iso = new Date(Math.ceil(epochMs / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}

async function roleOid(client: PoolClient, username: string): Promise<number | undefined> {
  const result = await client.query<{ oid: number }>("SELECT oid FROM pg_roles WHERE rolname = $1", [
    username,
  ]);
  return result.rows[0]?.oid;
}

export async function userExists(client: PoolClient, username: string): Promise<boolean> {
  return (await roleOid(client, username)) !== undefined;
}

/**
 * Signals every session of the user to end; returns the backends signalled. The signal is
 * sent from an aggregate's FILTER, which sees only the rows WHERE kept: in a WHERE clause,
 * PostgreSQL may evaluate the conditions in any order and end other users' sessions.
 */
async function terminateSessions(client: PoolClient, oid: number): Promise<number[]> {
  const result = await client.query<{ pids: number[] | null }>(
    "SELECT array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)) AS pids FROM pg_stat_activity WHERE usesysid = $1 AND pid <> pg_backend_pid()",
    [oid],
  );
  return result.rows[0]?.pids ?? [];
}

export async function createUser(
  client: PoolClient,
  statements: readonly string[],
  values: { name: string; password: string; expiration: string },
): Promise<void> {
  const rendered = statements.map((statement) =>
    renderStatement(statement, { ...values, username: values.name }),
  );
  await runInTransaction(client, rendered);
}

/** Moves the user's expiry; false when the user no longer exists. */
export async function renewUser(
  client: PoolClient,
  name: string,
  statements: readonly string[],
  expiration: string,
): Promise<boolean> {
  if (!(await userExists(client, name))) return false;
  const values = { name, username: name, expiration };
  await runInTransaction(
    client,
    statements.map((statement) => renderStatement(statement, values)),
  );
  return true;
}

export interface Revocation {
  /** The user existed when revocation began. */
  existed: boolean;
  /** Sessions of the user that were terminated. */
  sessions: number;
}

export async function revokeUser(
  client: PoolClient,
  name: string,
  statements: readonly string[],
): Promise<Revocation> {
  const oid = await roleOid(client, name);
  if (oid === undefined) return { existed: false, sessions: 0 };
  const values = { name, username: name };
  const rendered = statements.map((statement) => renderStatement(statement, values));
  try {
    await runInTransaction(client, [renderStatement(`ALTER ROLE "{{name}}" NOLOGIN;`, values)]);
    // A backend signalled once may still be listed at the second pass: count each one once.
    const ended = new Set(await terminateSessions(client, oid));
    await runInTransaction(client, rendered);
    for (const pid of await terminateSessions(client, oid)) ended.add(pid);
    return { existed: true, sessions: ended.size };
  } catch (error) {
    // Dropped by someone else meanwhile (another revoker, an operator): revoked all the same.
    if ((await roleOid(client, name).catch(() => oid)) === undefined) return { existed: true, sessions: 0 };
    throw error;
  }
}
