/**
 * A role of the database engine (Vault's database/roles/<name>): which connection it
 * creates users on, the statements that create, renew and revoke them, and how long
 * credentials live. Writes merge into the existing role, as Vault's do; statement
 * templates are checked when written, so a typo is a 400 then rather than at issue time.
 */
import { invalidRequest } from "../../errors.ts";
import type { Item } from "../../store/item-store.ts";
import type { JsonObject } from "../engine.ts";
import type { FieldSchema, FieldValues } from "../fields.ts";
import { checkName } from "./names.ts";
import { CREATION_PLACEHOLDERS, RENEW_PLACEHOLDERS, REVOCATION_PLACEHOLDERS } from "./postgres-users.ts";
import { checkStatements } from "./statement-template.ts";

export interface DatabaseRole {
  dbName: string;
  creationStatements: string[];
  /** Empty: the default revocation (postgres-users.ts). */
  revocationStatements: string[];
  /** Empty: the default renewal, which moves VALID UNTIL. */
  renewStatements: string[];
  /** Kept and shown for Vault's tools; creation runs in a transaction, so nothing needs rolling back. */
  rollbackStatements: string[];
  /** Seconds; 0 = the mount's default lease TTL. */
  defaultTtl: number;
  /** Seconds; 0 = the mount's max lease TTL. */
  maxTtl: number;
}

/** The fields of database/roles/<name> besides the name, as Vault declares them. */
export const ROLE_FIELDS = {
  db_name: { type: "string", description: "The connection the role creates users on." },
  creation_statements: { type: "stringSlice", description: "What creates a user, templated." },
  revocation_statements: { type: "stringSlice", description: "What drops one; the default when none." },
  renew_statements: { type: "stringSlice", description: "What renews one; the default moves VALID UNTIL." },
  rollback_statements: { type: "stringSlice", description: "Kept for Vault's tools; creation is atomic." },
  default_ttl: { type: "duration", description: "The credentials' lifetime; 0 is the mount's default." },
  max_ttl: { type: "duration", description: "The longest lifetime with renewals; 0 is the mount's maximum." },
  credential_type: { type: "string", description: '"password" only.' },
  credential_config: { type: "object", description: "Refused when set: for other credential types." },
} as const satisfies FieldSchema;

function statements(
  given: string[] | undefined,
  field: string,
  existing: string[] | undefined,
  placeholders: readonly string[],
): string[] {
  const list = (given ?? existing ?? []).filter((item) => item.trim() !== "");
  checkStatements(field, list, placeholders);
  return list;
}

export function mergeRole(
  existing: DatabaseRole | undefined,
  fields: FieldValues<typeof ROLE_FIELDS>,
): DatabaseRole {
  const credentialType = fields.credential_type;
  if (credentialType !== undefined && credentialType !== "" && credentialType !== "password") {
    throw invalidRequest(`unsupported credential_type "${credentialType}": Coffer issues "password" only`);
  }
  const credentialConfig = fields.credential_config;
  if (credentialConfig !== undefined && Object.keys(credentialConfig).length > 0) {
    throw invalidRequest('"credential_config" is not supported by Coffer\'s database engine');
  }
  const dbName = fields.db_name ?? existing?.dbName ?? "";
  if (dbName === "") throw invalidRequest('missing required field "db_name"');
  checkName("connection", dbName);
  const role: DatabaseRole = {
    dbName,
    creationStatements: statements(
      fields.creation_statements,
      "creation_statements",
      existing?.creationStatements,
      CREATION_PLACEHOLDERS,
    ),
    revocationStatements: statements(
      fields.revocation_statements,
      "revocation_statements",
      existing?.revocationStatements,
      REVOCATION_PLACEHOLDERS,
    ),
    renewStatements: statements(
      fields.renew_statements,
      "renew_statements",
      existing?.renewStatements,
      RENEW_PLACEHOLDERS,
    ),
    rollbackStatements: statements(
      fields.rollback_statements,
      "rollback_statements",
      existing?.rollbackStatements,
      REVOCATION_PLACEHOLDERS,
    ),
    defaultTtl: fields.default_ttl ?? existing?.defaultTtl ?? 0,
    maxTtl: fields.max_ttl ?? existing?.maxTtl ?? 0,
  };
  if (role.creationStatements.length === 0) throw invalidRequest("empty creation statements");
  if (role.maxTtl > 0 && role.defaultTtl > role.maxTtl) {
    throw invalidRequest('"default_ttl" cannot exceed "max_ttl"');
  }
  return role;
}

export function roleToItem(key: { pk: string; sk: string }, role: DatabaseRole, updatedAt: string): Item {
  return {
    ...key,
    db_name: role.dbName,
    creation_statements: role.creationStatements,
    revocation_statements: role.revocationStatements,
    renew_statements: role.renewStatements,
    rollback_statements: role.rollbackStatements,
    default_ttl: role.defaultTtl,
    max_ttl: role.maxTtl,
    updated_at: updatedAt,
  };
}

export function roleFromItem(item: Item): DatabaseRole {
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return {
    dbName: String(item.db_name ?? ""),
    creationStatements: list(item.creation_statements),
    revocationStatements: list(item.revocation_statements),
    renewStatements: list(item.renew_statements),
    rollbackStatements: list(item.rollback_statements),
    defaultTtl: Number(item.default_ttl ?? 0),
    maxTtl: Number(item.max_ttl ?? 0),
  };
}

/** Vault's read shape. */
export function describeRole(role: DatabaseRole): JsonObject {
  return {
    db_name: role.dbName,
    creation_statements: role.creationStatements,
    revocation_statements: role.revocationStatements,
    renew_statements: role.renewStatements,
    rollback_statements: role.rollbackStatements,
    default_ttl: role.defaultTtl,
    max_ttl: role.maxTtl,
    credential_type: "password",
    credential_config: {},
  };
}
