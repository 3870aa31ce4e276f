/**
 * A database connection (Vault's database/config/<name>) for the PostgreSQL plugin: where
 * the database is, the root credentials Coffer manages users with, and which roles may use
 * it. Writes merge into the existing connection, as Vault's do. Everything but a version
 * stamp is sealed with a binding to the mount and the connection's name: the URL, the
 * root user, its password, and a rotated password not yet confirmed (rotate-root.ts).
 */
import { open, seal } from "../../crypto/envelope.ts";
import { invalidRequest } from "../../errors.ts";
import type { Item } from "../../store/item-store.ts";
import type { EngineContext, JsonObject } from "../engine.ts";
import { type FieldSchema, type FieldValues, rejectNonEmptyFields } from "../fields.ts";
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

const unsupported = { type: "any", description: "Refused when set: Coffer does not implement it." } as const;

/** The fields of database/config/<name> besides the name, as Vault declares them. */
export const CONNECTION_FIELDS = {
  plugin_name: { type: "string", description: `The database plugin: "${PLUGIN_NAME}" only.` },
  verify_connection: {
    type: "boolean",
    default: true,
    description: "Connect once before storing the configuration.",
  },
  allowed_roles: {
    type: "stringList",
    description: 'Roles that may use the connection; globs, "*" for all.',
  },
  root_rotation_statements: { type: "stringSlice", description: "What rotate-root runs." },
  connection_url: {
    type: "string",
    description: "postgresql://{{username}}:{{password}}@host/db, templated.",
  },
  username: { type: "string", description: "The root user Coffer manages users with." },
  password: { type: "string", description: "Its password: sealed, never shown again." },
  max_open_connections: {
    type: "integer",
    min: 0,
    max: MAX_OPEN_CONNECTIONS,
    description: "Connections a process keeps at most.",
  },
  max_idle_connections: { type: "integer", min: 0, description: "Kept for Vault's tools; idle ones close." },
  max_connection_lifetime: {
    type: "duration",
    description: "How long a connection is reused; 0 until idle.",
  },
  password_authentication: {
    type: "string",
    description: '"password" (the default) or "scram-sha-256": how statements receive passwords.',
  },
  tls_ca: { type: "string", description: "PEM certificates to trust for TLS." },
  // Vault's fields of features Coffer does not implement: accepted when empty.
  plugin_version: unsupported,
  password_policy: unsupported,
  username_template: unsupported,
  disable_escaping: unsupported,
  tls_certificate: unsupported,
  private_key: unsupported,
  auth_type: unsupported,
  service_account_json: unsupported,
  skip_static_role_import_rotation: unsupported,
  rotation_period: unsupported,
  rotation_schedule: unsupported,
  rotation_window: unsupported,
  disable_automated_rotation: unsupported,
} as const satisfies FieldSchema;

type ConnectionFields = FieldValues<typeof CONNECTION_FIELDS>;

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

function passwordAuthentication(
  value: string | undefined,
  fallback: PasswordAuthentication,
): PasswordAuthentication {
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
  fields: ConnectionFields,
): { config: ConnectionConfig; verify: boolean; warnings: string[] } {
  rejectNonEmptyFields(
    {
      plugin_version: fields.plugin_version,
      password_policy: fields.password_policy,
      username_template: fields.username_template,
      disable_escaping: fields.disable_escaping,
      tls_certificate: fields.tls_certificate,
      private_key: fields.private_key,
      auth_type: fields.auth_type,
      service_account_json: fields.service_account_json,
      skip_static_role_import_rotation: fields.skip_static_role_import_rotation,
      rotation_period: fields.rotation_period,
      rotation_schedule: fields.rotation_schedule,
      rotation_window: fields.rotation_window,
      disable_automated_rotation: fields.disable_automated_rotation,
    },
    "database",
  );
  const pluginName = fields.plugin_name ?? existing?.pluginName ?? "";
  if (pluginName === "") throw invalidRequest("plugin_name must be provided");
  if (pluginName !== PLUGIN_NAME) {
    throw invalidRequest(`unsupported plugin_name "${pluginName}": Coffer offers "${PLUGIN_NAME}"`);
  }
  const connectionUrl = fields.connection_url?.trim() ?? existing?.connectionUrl ?? "";
  if (connectionUrl === "") throw invalidRequest("connection_url cannot be empty");
  const newPassword = fields.password;
  const maxOpen = fields.max_open_connections;
  const tlsCa = fields.tls_ca?.trim() ?? existing?.tlsCa ?? "";
  if (tlsCa !== "" && !tlsCa.startsWith("-----BEGIN CERTIFICATE-----")) {
    throw invalidRequest('invalid value for "tls_ca": expected PEM certificates');
  }
  const config: ConnectionConfig = {
    pluginName,
    connectionUrl,
    username: fields.username ?? existing?.username ?? "",
    password: newPassword ?? existing?.password ?? "",
    // A new password set by hand supersedes a rotation that was never confirmed.
    pendingPassword: newPassword === undefined ? (existing?.pendingPassword ?? "") : "",
    allowedRoles: fields.allowed_roles ?? existing?.allowedRoles ?? [],
    verifyConnection: fields.verify_connection,
    maxOpenConnections:
      maxOpen === undefined
        ? (existing?.maxOpenConnections ?? DEFAULT_MAX_OPEN_CONNECTIONS)
        : maxOpen || DEFAULT_MAX_OPEN_CONNECTIONS,
    maxIdleConnections: fields.max_idle_connections ?? existing?.maxIdleConnections ?? 0,
    maxConnectionLifetime: fields.max_connection_lifetime ?? existing?.maxConnectionLifetime ?? 0,
    rootRotationStatements: fields.root_rotation_statements ?? existing?.rootRotationStatements ?? [],
    passwordAuthentication: passwordAuthentication(
      fields.password_authentication,
      existing?.passwordAuthentication ?? "password",
    ),
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
