/**
 * Tuning a mount, secrets engine (sys/mounts/<path>/tune) or auth method
 * (sys/auth/<path>/tune), with Vault's fields and rules: each field given replaces the
 * mount's setting and a field not given keeps it; "system" returns a TTL to the system's
 * default; options merge into the mount's (an empty value removes one) and a KV mount's
 * version never goes down. The change is one conditional write of the mount's entry.
 */
import type { Broker } from "../broker.ts";
import type { EngineResponse } from "../engines/engine.ts";
import {
  type FieldSchema,
  type FieldValues,
  isEmptyValue,
  parseDuration,
  rejectNonEmptyFields,
} from "../engines/fields.ts";
import type { Mount, MountConfig } from "../engines/mount.ts";
import { invalidRequest } from "../errors.ts";
import type { MountTuning } from "../mounts/mount-table.ts";
import { checkListingVisibility, mountOptions } from "./mount-shape.ts";

const TTL_DESCRIPTION = 'a duration or seconds; "system" for the system\'s, not given or "" to keep it';

export const TUNE_FIELDS = {
  path: { type: "string", path: true, description: "The mount's path." },
  default_lease_ttl: {
    type: "any",
    description: `The mount's default lease or token TTL: ${TTL_DESCRIPTION}.`,
  },
  max_lease_ttl: { type: "any", description: `The mount's longest lease or token TTL: ${TTL_DESCRIPTION}.` },
  description: { type: "string", description: "A description for people; an empty one clears it." },
  options: { type: "object", description: 'Engine options, merged; "version" upgrades a KV mount.' },
  listing_visibility: { type: "string", description: '"unauth" lists the mount to every token in the UI.' },
  audit_non_hmac_request_keys: {
    type: "stringList",
    description: "Kept and shown for Vault clients: Coffer's audit records hash every string.",
  },
  audit_non_hmac_response_keys: {
    type: "stringList",
    description: "Kept and shown for Vault clients: Coffer's audit records hash every string.",
  },
  token_type: { type: "string", description: 'Auth methods: "service" or "default-service" only.' },
  passthrough_request_headers: { type: "stringList", description: "Not supported: accepted when empty." },
  allowed_response_headers: { type: "stringList", description: "Not supported: accepted when empty." },
  plugin_version: { type: "string", description: "Not supported: accepted when empty." },
  allowed_managed_keys: { type: "stringList", description: "Not supported: accepted when empty." },
  user_lockout_config: { type: "object", description: "Not supported: accepted when empty." },
  identity_token_key: { type: "string", description: "Not supported: accepted when empty." },
  delegated_auth_accessors: { type: "stringList", description: "Not supported: accepted when empty." },
} as const satisfies FieldSchema;

type TuneValues = FieldValues<typeof TUNE_FIELDS>;

/** Vault's tune fields for features Coffer does not have: accepted when empty. */
const UNSUPPORTED = [
  "passthrough_request_headers",
  "allowed_response_headers",
  "plugin_version",
  "allowed_managed_keys",
  "user_lockout_config",
  "identity_token_key",
  "delegated_auth_accessors",
] as const;

const SERVICE_TOKEN_TYPES = new Set(["", "service", "default-service"]);

/** A TTL as tune takes it: unchanged when not given, 0 for "system". */
function tunedTtl(value: unknown, name: string, current: number): number {
  if (value === undefined || value === null || value === "") return current;
  if (value === "system") return 0;
  return parseDuration(value, name);
}

function tunedConfig(mount: Mount, fields: TuneValues): MountConfig {
  const config: MountConfig = {
    ...mount.config,
    default_lease_ttl: tunedTtl(
      fields.default_lease_ttl,
      "default_lease_ttl",
      mount.config.default_lease_ttl,
    ),
    max_lease_ttl: tunedTtl(fields.max_lease_ttl, "max_lease_ttl", mount.config.max_lease_ttl),
  };
  const { default_lease_ttl: defaultTtl, max_lease_ttl: maxTtl } = config;
  if (maxTtl > 0 && defaultTtl > maxTtl) {
    throw invalidRequest(
      `backend max lease TTL of ${maxTtl} would be less than backend default lease TTL of ${defaultTtl}`,
    );
  }
  if (fields.listing_visibility !== undefined) {
    config.listing_visibility = checkListingVisibility(fields.listing_visibility);
  }
  if (fields.audit_non_hmac_request_keys)
    config.audit_non_hmac_request_keys = fields.audit_non_hmac_request_keys;
  if (fields.audit_non_hmac_response_keys)
    config.audit_non_hmac_response_keys = fields.audit_non_hmac_response_keys;
  return config;
}

/** The mount's options with the given ones merged in, as Vault merges them. */
function tunedOptions(mount: Mount, given: Record<string, string>): Record<string, string> {
  const options = { ...mount.options };
  for (const [name, value] of Object.entries(given)) {
    if (value === "" && name !== "version") delete options[name];
    else options[name] = value;
  }
  if (mount.type !== "kv" || given.version === undefined) return options;
  const current = Number(mount.options.version ?? "1");
  const requested = Number(given.version === "" ? current : given.version);
  if (requested !== 1 && requested !== 2) {
    throw invalidRequest('invalid KV version: options.version must be "1" or "2"');
  }
  if (requested < current) throw invalidRequest(`cannot downgrade mount from version ${current}`);
  if (requested > current) {
    throw invalidRequest(
      "upgrading a KV mount from version 1 to 2 in place is not supported: enable a KV version 2 mount and copy the secrets into it",
    );
  }
  options.version = String(current);
  return options;
}

/** Applies a tune request to the mount; 204 as Vault answers. */
export async function tuneMount(broker: Broker, mount: Mount, fields: TuneValues): Promise<EngineResponse> {
  rejectNonEmptyFields(Object.fromEntries(UNSUPPORTED.map((name) => [name, fields[name]])), "mount tuning");
  if (mount.builtin)
    throw invalidRequest(`cannot tune ${mount.path}: the settings of built-in mounts are fixed`);
  const isAuth = mount.path.startsWith("auth/");
  if (!isEmptyValue(fields.token_type)) {
    if (!isAuth) throw invalidRequest("token_type can only be tuned on auth methods");
    if (!SERVICE_TOKEN_TYPES.has(fields.token_type ?? "")) {
      throw invalidRequest(
        `"token_type" ${fields.token_type} is not supported: Coffer issues service tokens only`,
      );
    }
  }
  const options = fields.options === undefined ? undefined : mountOptions(fields.options);
  await broker.mounts.tune(mount.path, mount.uuid, (current) => {
    const tuning: MountTuning = { config: tunedConfig(current, fields) };
    if (fields.description !== undefined) tuning.description = fields.description;
    if (options) tuning.options = tunedOptions(current, options);
    return tuning;
  });
  return {};
}
