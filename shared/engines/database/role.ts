/**
 * A role of the database engine (Vault's database/roles/<name>): which connection it
 * creates users on, the statements that create, renew and revoke them, and how long
 * credentials live. Writes merge into the existing role, as Vault's do; statement
 * templates are checked when written, so a typo is a 400 then rather than at issue time.
 */
import { invalidRequest } from "../../errors.ts";
import {
  optionalDuration,
  optionalObject,
  optionalString,
  optionalStringSlice,
  rejectUnknownFields,
} from "../../http/fields.ts";
import type { Item } from "../../store/item-store.ts";
import type { JsonObject } from "../engine.ts";
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

const KNOWN_FIELDS = [
  "db_name",
  "creation_statements",
  "revocation_statements",
  "renew_statements",
  "rollback_statements",
  "default_ttl",
  "max_ttl",
  "credential_type",
  "credential_config",
];

function statements(
  data: JsonObject,
  field: string,
  existing: string[] | undefined,
  placeholders: readonly string[],
): string[] {
  const list = (optionalStringSlice(data, field) ?? existing ?? []).filter((item) => item.trim() !== "");
  checkStatements(field, list, placeholders);
  return list;
}

export function mergeRole(existing: DatabaseRole | undefined, data: JsonObject): DatabaseRole {
  rejectUnknownFields(data, KNOWN_FIELDS);
  const credentialType = optionalString(data, "credential_type");
  if (credentialType !== undefined && credentialType !== "" && credentialType !== "password") {
    throw invalidRequest(`unsupported credential_type "${credentialType}": Coffer issues "password" only`);
  }
  const credentialConfig = optionalObject(data, "credential_config");
  if (credentialConfig !== undefined && Object.keys(credentialConfig).length > 0) {
    throw invalidRequest('"credential_config" is not supported by Coffer\'s database engine');
  }
  const dbName = optionalString(data, "db_name") ?? existing?.dbName ?? "";
  if (dbName === "") throw invalidRequest('missing required field "db_name"');
  checkName("connection", dbName);
  const role: DatabaseRole = {
    dbName,
    creationStatements: statements(
      data,
      "creation_statements",
      existing?.creationStatements,
      CREATION_PLACEHOLDERS,
    ),
    revocationStatements: statements(
      data,
      "revocation_statements",
      existing?.revocationStatements,
      REVOCATION_PLACEHOLDERS,
    ),
    renewStatements: statements(data, "renew_statements", existing?.renewStatements, RENEW_PLACEHOLDERS),
    rollbackStatements: statements(
      data,
      "rollback_statements",
      existing?.rollbackStatements,
      REVOCATION_PLACEHOLDERS,
    ),
    defaultTtl: optionalDuration(data, "default_ttl") ?? existing?.defaultTtl ?? 0,
    maxTtl: optionalDuration(data, "max_ttl") ?? existing?.maxTtl ?? 0,
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
