/**
 * The lease type of generated database users ("database-user", Vault's "creds" secret):
 *
 * - revoke: the user's sessions end and the role's revocation statements run (the default
 *   ones when it names none), through the connection that created it. A user that no
 *   longer exists counts as revoked. The role's current statements are used, so fixing a
 *   role's broken revocation statements fixes the retries of its leases too; a role that
 *   was deleted leaves the statements it had when the lease was issued.
 * - renew: the renew statements move the user's VALID UNTIL to the lease's new expiry. A
 *   user that no longer exists cannot be renewed.
 *
 * A connection deleted while its leases live makes their revocation fail, visibly and
 * retried, until it is configured again or an operator removes the leases by force.
 */
import { CofferError, invalidRequest } from "../../errors.ts";
import type { EngineContext } from "../engine.ts";
import type { LeaseType, LeaseView } from "../lease-type.ts";
import type { Connections } from "./connections.ts";
import {
  DEFAULT_RENEW_STATEMENTS,
  DEFAULT_REVOCATION_STATEMENTS,
  formatExpiration,
  renewUser,
  revokeUser,
} from "./postgres-users.ts";
import { roleFromItem } from "./role.ts";
import { roleKey } from "./storage.ts";

export const USER_LEASE_TYPE = "database-user";

/** What a lease of a database user stores (sealed) to renew and revoke it. */
export interface UserLeaseData {
  db_name: string;
  role: string;
  username: string;
  /** The role's statements when the lease was issued, for when the role is gone. */
  revocation_statements: string[];
  renew_statements: string[];
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

export function userLeaseData(lease: LeaseView): UserLeaseData {
  const { db_name, role, username, revocation_statements, renew_statements } = lease.data;
  if (
    typeof db_name !== "string" ||
    typeof role !== "string" ||
    typeof username !== "string" ||
    !isStringList(revocation_statements) ||
    !isStringList(renew_statements)
  ) {
    throw new CofferError("ERR_INTERNAL", `lease ${lease.id} does not carry database user data`);
  }
  return { db_name, role, username, revocation_statements, renew_statements };
}

export function userLeaseType({ mount, store, now }: EngineContext, connections: Connections): LeaseType {
  /** The role's statements of a kind, its issue-time ones if the role is gone, else the defaults. */
  async function statementsFor(data: UserLeaseData, kind: "revocation" | "renew"): Promise<string[]> {
    const item = await store.get(roleKey(mount.uuid, data.role));
    const role = item && roleFromItem(item);
    const current = role?.dbName === data.db_name ? role : undefined;
    const [own, snapshot, fallback] =
      kind === "revocation"
        ? [current?.revocationStatements, data.revocation_statements, DEFAULT_REVOCATION_STATEMENTS]
        : [current?.renewStatements, data.renew_statements, DEFAULT_RENEW_STATEMENTS];
    const chosen = current ? own : snapshot;
    return chosen && chosen.length > 0 ? chosen : fallback;
  }

  async function connectionOf(data: UserLeaseData) {
    const connection = await connections.find(data.db_name);
    if (!connection) {
      throw invalidRequest(
        `the connection "${data.db_name}" that created user ${data.username} no longer exists; configure it again, or remove the lease with sys/leases/revoke-force`,
      );
    }
    return connection;
  }

  return {
    name: USER_LEASE_TYPE,
    async revoke(lease) {
      const data = userLeaseData(lease);
      const [connection, statements] = await Promise.all([
        connectionOf(data),
        statementsFor(data, "revocation"),
      ]);
      const result = await connections.run(connection, `revoke user ${data.username}`, (client) =>
        revokeUser(client, data.username, statements),
      );
      return { audit: { user_existed: result.existed, sessions_terminated: result.sessions } };
    },
    async renew(lease, incrementSeconds) {
      const data = userLeaseData(lease);
      const [connection, statements] = await Promise.all([connectionOf(data), statementsFor(data, "renew")]);
      const expiration = formatExpiration(now() + incrementSeconds * 1000);
      const renewed = await connections.run(connection, `renew user ${data.username}`, (client) =>
        renewUser(client, data.username, statements, expiration),
      );
      if (!renewed) throw invalidRequest(`the database user ${data.username} no longer exists`);
    },
  };
}
