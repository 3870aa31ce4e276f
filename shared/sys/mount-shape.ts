/**
 * How a mount looks on the wire, in sys/mounts, sys/auth and sys/internal/ui/mounts alike:
 * Vault's mount shape, and the fields a caller enables a mount with.
 */
import type { JsonObject } from "../engines/engine.ts";
import { type FieldSchema, type FieldValues, parseFields } from "../engines/fields.ts";
import type { Mount, MountConfig } from "../engines/mount.ts";
import { invalidRequest } from "../errors.ts";

/** What enabling a mount takes, secrets engine or auth method alike, as Vault declares it. */
export const MOUNT_FIELDS = {
  path: { type: "string", path: true, description: "Where to mount." },
  type: { type: "string", description: "The engine or auth method type (enabling only)." },
  description: { type: "string", description: "A description for people." },
  config: { type: "object", description: "default_lease_ttl and max_lease_ttl, among Vault's settings." },
  options: { type: "object", description: 'Engine options: "version" of a KV mount.' },
  local: { type: "boolean", description: "Kept for Vault clients: Coffer has one deployment per table." },
  seal_wrap: { type: "boolean", description: "Kept for Vault clients: every item is authenticated anyway." },
  external_entropy_access: { type: "boolean", description: "Kept for Vault clients." },
  plugin_name: { type: "string", description: "Kept for Vault clients: Coffer's engines are built in." },
  plugin_version: { type: "string", description: "Kept for Vault clients." },
} as const satisfies FieldSchema;

/** The part of a mount's `config` Coffer keeps; Vault's other settings are accepted and ignored. */
const MOUNT_CONFIG_FIELDS = {
  default_lease_ttl: { type: "duration", description: "The mount's default lease or token TTL." },
  max_lease_ttl: { type: "duration", description: "The mount's longest lease or token TTL." },
  listing_visibility: { type: "string", description: '"unauth" lists the mount to every token in the UI.' },
  audit_non_hmac_request_keys: { type: "stringList", description: "Kept and shown for Vault clients." },
  audit_non_hmac_response_keys: { type: "stringList", description: "Kept and shown for Vault clients." },
} as const satisfies FieldSchema;

/** The settings of a mount's `config`, as an enable request gives them. */
export function mountConfig(config: JsonObject | undefined): Partial<MountConfig> {
  const { values } = parseFields(MOUNT_CONFIG_FIELDS, config ?? {}, {});
  const given = Object.entries(values).filter(([, value]) => value !== undefined);
  const settings = Object.fromEntries(given) as Partial<FieldValues<typeof MOUNT_CONFIG_FIELDS>>;
  if (settings.listing_visibility !== undefined) checkListingVisibility(settings.listing_visibility);
  return settings;
}

/** Vault's values: "unauth" lists the mount to every token, "" and "hidden" do not. */
export function checkListingVisibility(value: string): string {
  if (!["", "hidden", "unauth"].includes(value)) throw invalidRequest(`invalid listing_visibility ${value}`);
  return value;
}

/** The settings shown only once set, as Vault shows them. */
function setConfig(config: MountConfig): JsonObject {
  const shown: JsonObject = {};
  if (config.listing_visibility) shown.listing_visibility = config.listing_visibility;
  if (config.audit_non_hmac_request_keys?.length)
    shown.audit_non_hmac_request_keys = config.audit_non_hmac_request_keys;
  if (config.audit_non_hmac_response_keys?.length) {
    shown.audit_non_hmac_response_keys = config.audit_non_hmac_response_keys;
  }
  return shown;
}

export function describeMount(mount: Mount, version: string, extraConfig: JsonObject = {}): JsonObject {
  return {
    type: mount.type,
    description: mount.description,
    accessor: mount.accessor,
    uuid: mount.uuid,
    config: {
      default_lease_ttl: mount.config.default_lease_ttl,
      max_lease_ttl: mount.config.max_lease_ttl,
      force_no_cache: false,
      ...setConfig(mount.config),
      ...extraConfig,
    },
    options: Object.keys(mount.options).length > 0 ? mount.options : null,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: "",
    running_plugin_version: `v${version}+builtin.coffer`,
    running_sha256: "",
  };
}

/** What sys/mounts/<path>/tune and sys/auth/<path>/tune read. */
export function describeTuning(mount: Mount, extra: JsonObject = {}): JsonObject {
  return {
    description: mount.description,
    default_lease_ttl: mount.config.default_lease_ttl,
    max_lease_ttl: mount.config.max_lease_ttl,
    force_no_cache: false,
    ...setConfig(mount.config),
    ...extra,
    options: Object.keys(mount.options).length > 0 ? mount.options : null,
  };
}

/** A mount's `options`: a map of strings (numbers are accepted and kept as strings). */
export function mountOptions(value: JsonObject | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, inner] of Object.entries(value ?? {})) {
    if (typeof inner !== "string" && typeof inner !== "number") {
      throw invalidRequest(`invalid value for "options.${key}": expected a string`);
    }
    result[key] = String(inner);
  }
  return result;
}
