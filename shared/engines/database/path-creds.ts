/**
 * database/creds/<role>: a new PostgreSQL user for the caller, answered in Vault's shape
 * with a renewable lease.
 *
 * The lease is written first and the user created after. A lease with no user behind it
 * is harmless (revoking it finds nothing and counts as done); a user with no lease would
 * be a credential nobody ever revokes. So every way this can fail leaves at most the
 * former, and only for as long as it takes to remove it:
 *
 * - the lease cannot be written: nothing was created;
 * - the database cannot be reached, or fails a statement: no user exists (the transaction
 *   rolled back); the lease is removed at once;
 * - the connection breaks after the statements were sent: whether COMMIT happened is
 *   unknown; the lease is revoked through its type, which drops the user if it exists;
 * - the process dies between the two: the lease expires and its revocation cleans up;
 * - the lease is revoked while the user is being created (a revoke-prefix at that very
 *   moment): the user is dropped again, or handed to the revoker under a lease due at once,
 *   and the request fails, rather than hand out a credential whose revocation already ran.
 */
import { CofferError, invalidRequest } from "../../errors.ts";
import { type EngineContext, type EngineRequest, type EngineResponse, type Route, route } from "../engine.ts";
import type { LeaseType, LeaseTypes } from "../lease-type.ts";
import type { Mount } from "../mount.ts";
import { allowsRole } from "./connection-config.ts";
import type { Connections } from "./connections.ts";
import { sqlState } from "./database-errors.ts";
import { checkName, NAME } from "./names.ts";
import { generatePassword } from "./password.ts";
import { createUser, DEFAULT_REVOCATION_STATEMENTS, formatExpiration, revokeUser } from "./postgres-users.ts";
import { type DatabaseRole, roleFromItem } from "./role.ts";
import { scramVerifier } from "./scram-verifier.ts";
import { roleKey } from "./storage.ts";
import { USER_LEASE_TYPE, type UserLeaseData } from "./user-lease.ts";
import { generateUsername } from "./username.ts";

/** For withdrawing a lease whose user certainly does not exist. */
const NOTHING_CREATED: LeaseType = { name: USER_LEASE_TYPE, revoke: async () => undefined };

/**
 * Whether a failed creation may have left a user: only when the connection broke after
 * statements were sent, so the outcome of COMMIT is unknown. A failure PostgreSQL reports
 * (a SQLSTATE) rolled the transaction back, and templates cannot end it early
 * (statement-template.ts); a database never reached created nothing.
 */
function mayHaveCreated(reached: boolean, error: unknown): boolean {
  return reached && sqlState((error as { cause?: unknown }).cause) === undefined;
}

/** Vault's system default and maximum lease TTL (32 days), for mounts and roles that set none. */
export const SYSTEM_MAX_TTL_S = 768 * 3600;

/** The credential's TTL and max TTL: the role's, else the mount's, else the system's, in seconds. */
function ttlsOf(role: DatabaseRole, mount: Mount): { ttl: number; maxTtl: number } {
  const maxTtl = Math.min(role.maxTtl || SYSTEM_MAX_TTL_S, mount.config.max_lease_ttl || SYSTEM_MAX_TTL_S);
  return {
    ttl: Math.min(role.defaultTtl || mount.config.default_lease_ttl || SYSTEM_MAX_TTL_S, maxTtl),
    maxTtl,
  };
}

export function credsRoute(
  { mount, store, leases, now }: EngineContext,
  connections: Connections,
  types: LeaseTypes,
): Route {
  async function withdraw(request: EngineRequest, leaseId: string, userMayExist: boolean): Promise<void> {
    await leases
      .revoke(leaseId, {
        requestId: request.id,
        types: userMayExist ? types : { [USER_LEASE_TYPE]: NOTHING_CREATED },
      })
      // What could not be revoked now stays marked, and the revoker retries it.
      .catch(() => undefined);
  }

  async function issue(request: EngineRequest<{ name: string }>): Promise<EngineResponse> {
    const name = checkName("role", request.fields.name);
    const roleItem = await store.get(roleKey(mount.uuid, name));
    if (!roleItem) throw invalidRequest(`unknown role: ${name}`);
    const role = roleFromItem(roleItem);
    const connection = await connections.get(role.dbName);
    if (!allowsRole(connection.config, name)) throw invalidRequest(`"${name}" is not an allowed role`);

    const issuedAt = now();
    const { ttl, maxTtl } = ttlsOf(role, mount);
    const expiresAt = issuedAt + ttl * 1000;
    const username = generateUsername(request.caller, name);
    const password = generatePassword();
    const passwordInStatements =
      connection.config.passwordAuthentication === "scram-sha-256" ? await scramVerifier(password) : password;
    const data: UserLeaseData = {
      db_name: role.dbName,
      role: name,
      username,
      revocation_statements: role.revocationStatements,
      renew_statements: role.renewStatements,
    };
    const leaseInput = {
      path: request.path,
      type: USER_LEASE_TYPE,
      caller: request.caller,
      expiresAt,
      maxExpiresAt: issuedAt + maxTtl * 1000,
      renewable: true,
      data: { ...data },
    };
    const leaseId = await leases.issue(leaseInput);

    let reached = false;
    try {
      await connections.run(
        connection,
        "create the user",
        async (client) => {
          reached = true;
          await createUser(client, role.creationStatements, {
            name: username,
            password: passwordInStatements,
            expiration: formatExpiration(expiresAt),
          });
        },
        [password, passwordInStatements],
      );
    } catch (error) {
      await withdraw(request, leaseId, mayHaveCreated(reached, error));
      throw error;
    }

    if (!(await leases.standing(leaseId))) {
      const statements =
        role.revocationStatements.length > 0 ? role.revocationStatements : DEFAULT_REVOCATION_STATEMENTS;
      await connections
        .run(connection, `revoke user ${username}`, (client) => revokeUser(client, username, statements))
        // The database failed just now: a lease due at once hands the user to the revoker. It
        // belongs to no token: the caller's may be the one being revoked, which takes no lease.
        .catch(() =>
          leases.issue({ ...leaseInput, caller: undefined, expiresAt: now() + 1000, maxExpiresAt: null }),
        )
        .catch(() => undefined);
      throw new CofferError(
        "ERR_CONFLICT",
        "the lease was revoked while its database user was being created; request new credentials",
      );
    }
    return {
      data: { username, password },
      leaseId,
      leaseDuration: ttl,
      renewable: true,
    };
  }

  return route({
    pattern: /^creds\/(?<name>[^/]+)$/,
    fields: { name: NAME },
    // A read that issues a lease: served where lease writes are exact.
    region: { read: "home" },
    operations: { read: issue },
  });
}
