/**
 * A database connection (Vault's database/config/<name>) for the PostgreSQL plugin: where
 * the database is, the root credentials Coffer manages users with, and which roles may use
 * it. Writes merge into the existing connection, as Vault's do. Everything but a version
 * stamp is sealed with a binding to the mount and the connection's name: the URL, the
 * root user, its password, and a rotated password not yet confirmed (rotate-root.ts).
 */
import { open, seal } from "../../crypto/envelope.ts";
import { invalidRequest } from "../../errors.ts";
import {
  optionalBoolean,
  optionalDuration,
  optionalInteger,
  optionalString,
  optionalStringList,
  optionalStringSlice,
  rejectNonEmptyFields,
  rejectUnknownFields,
} from "../../http/fields.ts";
import type { Item } from "../../store/item-store.ts";
import type { EngineContext, JsonObject } from "../engine.ts";
import type { Mount } from "../mount.ts";
import { connectionTarget, describeConnectionUrl, hasLiteralPassword } from "./connection-url.ts";
import { checkStatements } from "./statement-template.ts";
import { configKey } from "./storage.ts";

export const PLUGIN_NAME = "postgresql-database-plugin";
export const DEFAULT_MAX_OPEN_CONNECTIONS = 4;
const MAX_OPEN_CONNECTIONS = 50;
const PASSWORD_AUTHENTICATIONS = ["password", "scram-sha-256"] as const;
export type PasswordAuthentication = (typeof PASSWORD_AUTHENTICATIONS)[number];
export const ROOT_ROTATION_PLACEHOLDERS = ["name", "username", "password"];
/** Vault's answer to a password written into the URL. */
export const LITERAL_PASSWORD_WARNING =
  "Password found in connection_url, use a templated url to enable root rotation and prevent read access to password information.";

export interface ConnectionConfig {
  pluginName: string;
  connectionUrl: string;
  username: string;
  password: string;
  /** A root password set in the database by a rotation that has not been confirmed yet; "" when none. */
  pendingPassword: string;
  allowedRoles: string[];
  verifyConnection: boolean;
  maxOpenConnections: number;
  maxIdleConnections: number;
  /** Seconds; 0 = connections are reused until idle. */
  maxConnectionLifetime: number;
  rootRotationStatements: string[];
  passwordAuthentication: PasswordAuthentication;
  /** PEM certificates to trust for TLS, besides the platform's. */
  tlsCa: string;
}

/** A stored connection: its configuration and the stamp every write changes. */
export interface StoredConnection {
  name: string;
  version: string;
  config: ConnectionConfig;
}

const SUPPORTED_FIELDS = [
  "plugin_name",
  "verify_connection",
  "allowed_roles",
  "root_rotation_statements",
  "connection_url",
  "username",
  "password",
  "max_open_connections",
  "max_idle_connections",
  "max_connection_lifetime",
  "password_authentication",
  "tls_ca",
];
// Vault fields of features Coffer does not implement: accepted when empty.
const UNSUPPORTED_FIELDS = [
  "plugin_version",
  "password_policy",
  "username_template",
  "disable_escaping",
  "tls_certificate",
  "private_key",
  "auth_type",
  "service_account_json",
  "skip_static_role_import_rotation",
  "rotation_period",
  "rotation_schedule",
  "rotation_window",
  "disable_automated_rotation",
];

const binding = (mount: Mount, name: string) => ({ purpose: "database-connection", mount: mount.uuid, name });
const encoder = new TextEncoder();

/** allowed_roles entries are names or globs with "*" ("*" alone: every role), as in Vault. */
export function allowsRole(config: ConnectionConfig, role: string): boolean {
  return config.allowedRoles.some((pattern) => {
    const expression = pattern
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    return new RegExp(`^${expression}$`).test(role);
  });
}

function passwordAuthentication(data: JsonObject, fallback: PasswordAuthentication): PasswordAuthentication {
  const value = optionalString(data, "password_authentication");
  if (value === undefined || value === "") return fallback;
  if (!(PASSWORD_AUTHENTICATIONS as readonly string[]).includes(value)) {
    throw invalidRequest(`invalid value for "password_authentication": use "password" or "scram-sha-256"`);
  }
  return value as PasswordAuthentication;
}

/**
 * Validates a write against the existing connection (undefined on create) and returns the
 * merged configuration, whether to verify it, and Vault's warnings.
 */
export function mergeConfig(
  existing: ConnectionConfig | undefined,
  data: JsonObject,
): { config: ConnectionConfig; verify: boolean; warnings: string[] } {
  rejectUnknownFields(data, [...SUPPORTED_FIELDS, ...UNSUPPORTED_FIELDS]);
  rejectNonEmptyFields(data, UNSUPPORTED_FIELDS, "database");
  const pluginName = optionalString(data, "plugin_name") ?? existing?.pluginName ?? "";
  if (pluginName === "") throw invalidRequest("plugin_name must be provided");
  if (pluginName !== PLUGIN_NAME) {
    throw invalidRequest(`unsupported plugin_name "${pluginName}": Coffer offers "${PLUGIN_NAME}"`);
  }
  const connectionUrl = optionalString(data, "connection_url")?.trim() ?? existing?.connectionUrl ?? "";
  if (connectionUrl === "") throw invalidRequest("connection_url cannot be empty");
  const newPassword = optionalString(data, "password");
  const maxOpen = optionalInteger(data, "max_open_connections", { min: 0, max: MAX_OPEN_CONNECTIONS });
  const tlsCa = optionalString(data, "tls_ca")?.trim() ?? existing?.tlsCa ?? "";
  if (tlsCa !== "" && !tlsCa.startsWith("-----BEGIN CERTIFICATE-----")) {
    throw invalidRequest('invalid value for "tls_ca": expected PEM certificates');
  }
  const config: ConnectionConfig = {
    pluginName,
    connectionUrl,
    username: optionalString(data, "username") ?? existing?.username ?? "",
    password: newPassword ?? existing?.password ?? "",
    // A new password set by hand supersedes a rotation that was never confirmed.
    pendingPassword: newPassword === undefined ? (existing?.pendingPassword ?? "") : "",
    allowedRoles: optionalStringList(data, "allowed_roles") ?? existing?.allowedRoles ?? [],
    verifyConnection: optionalBoolean(data, "verify_connection") ?? true,
    maxOpenConnections:
      maxOpen === undefined
        ? (existing?.maxOpenConnections ?? DEFAULT_MAX_OPEN_CONNECTIONS)
        : maxOpen || DEFAULT_MAX_OPEN_CONNECTIONS,
    maxIdleConnections:
      optionalInteger(data, "max_idle_connections", { min: 0 }) ?? existing?.maxIdleConnections ?? 0,
    maxConnectionLifetime:
      optionalDuration(data, "max_connection_lifetime") ?? existing?.maxConnectionLifetime ?? 0,
    rootRotationStatements:
      optionalStringSlice(data, "root_rotation_statements") ?? existing?.rootRotationStatements ?? [],
    passwordAuthentication: passwordAuthentication(data, existing?.passwordAuthentication ?? "password"),
    tlsCa,
  };
  // Parsed now, with stand-in credentials, so a bad URL is refused before anything is stored.
  connectionTarget(config.connectionUrl, { username: config.username || "root", password: "password" });
  checkStatements("root_rotation_statements", config.rootRotationStatements, ROOT_ROTATION_PLACEHOLDERS);
  const warnings = hasLiteralPassword(config.connectionUrl) ? [LITERAL_PASSWORD_WARNING] : [];
  return { config, verify: config.verifyConnection, warnings };
}

/** What sealing and opening a connection takes. */
export type ConnectionSealing = Pick<EngineContext, "mount" | "keyring" | "now">;

export async function configToItem(
  { mount, keyring, now }: ConnectionSealing,
  name: string,
  config: ConnectionConfig,
): Promise<Item> {
  const sealed = await seal(keyring, encoder.encode(JSON.stringify(config)), binding(mount, name));
  return {
    ...configKey(mount.uuid, name),
    version: crypto.randomUUID(),
    config: sealed,
    updated_at: new Date(now()).toISOString(),
  };
}

export async function configFromItem(
  { mount, keyring }: ConnectionSealing,
  item: Item,
): Promise<StoredConnection> {
  const name = item.sk.slice(item.sk.indexOf("/") + 1);
  const plaintext = await open(keyring, item.config as Uint8Array, binding(mount, name));
  return {
    name,
    version: String(item.version),
    config: JSON.parse(new TextDecoder().decode(plaintext)) as ConnectionConfig,
  };
}

/** Vault's read shape: no password, and a password written into the URL masked. */
export function describeConfig(config: ConnectionConfig): JsonObject {
  return {
    plugin_name: config.pluginName,
    plugin_version: "",
    connection_details: {
      connection_url: describeConnectionUrl(config.connectionUrl),
      username: config.username,
      max_open_connections: config.maxOpenConnections,
      max_idle_connections: config.maxIdleConnections,
      max_connection_lifetime: `${config.maxConnectionLifetime}s`,
      password_authentication: config.passwordAuthentication,
      ...(config.tlsCa !== "" && { tls_ca: config.tlsCa }),
    },
    allowed_roles: config.allowedRoles,
    root_credentials_rotate_statements: config.rootRotationStatements,
    password_policy: "",
    verify_connection: config.verifyConnection,
  };
}
