/**
 * auth/token/create: a token made by another token, for operators and automation that
 * cannot log in through an auth method. As in Vault, a caller may only hand out policies
 * it holds itself, unless it has sudo on auth/token/create (root does); only a root token
 * makes a root token, and only a root token that never expires makes one that never
 * expires. The new token inherits its maker's proven identity, unless it is an orphan
 * (`no_parent`, which needs sudo): `meta` is free-form data and never becomes one.
 */
import type { Broker } from "../../broker.ts";
import type { EngineResponse, JsonObject } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import type { Mount } from "../../engines/mount.ts";
import { invalidRequest } from "../../errors.ts";
import type { CallerToken } from "../../mounts/caller-token.ts";
import { policyName, ROOT_POLICY_NAME } from "../../policy/policy-store.ts";
import { authBlock } from "./auth-block.ts";
import { childPolicies } from "./token-policies.ts";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S, policyIdentityOf } from "./token-store.ts";

/** The fields of auth/token/create, as Vault declares them. */
export const CREATE_FIELDS = {
  policies: { type: "stringList", description: "The new token's policies; the maker's own when none." },
  meta: { type: "object", description: "Free-form string data shown by lookup; grants nothing." },
  no_default_policy: { type: "boolean", default: false, description: "Leave the default policy out." },
  ttl: { type: "duration", description: "The token's TTL; 32 days when none." },
  lease: { type: "duration", description: 'Deprecated: "ttl", which wins when both are given.' },
  explicit_max_ttl: { type: "duration", description: "A hard cap no renewal passes." },
  display_name: { type: "string", description: 'Shown as "token-<display_name>".' },
  renewable: { type: "boolean", description: "Whether the token may be renewed; true when none." },
  no_parent: {
    type: "boolean",
    default: false,
    description: "An orphan, without the maker's identity (sudo).",
  },
  num_uses: { type: "integer", min: 0, description: "Refused unless 0: tokens are not use-limited." },
  period: { type: "duration", description: 'Refused when set: use "ttl" and renew.' },
  type: { type: "string", description: '"service" (or "default"): only service tokens exist.' },
  id: { type: "string", description: "Refused when set: Coffer chooses every token." },
  role_name: { type: "string", description: "Refused when set: Coffer has no token roles." },
  entity_alias: { type: "string", description: "Refused when set: Coffer has no token roles." },
} as const satisfies FieldSchema;

const MAX_META_ENTRIES = 64;
const MAX_META_VALUE_BYTES = 512;

function metaOf(given: JsonObject | undefined): Record<string, string> {
  const meta: Record<string, string> = {};
  const entries = Object.entries(given ?? {});
  if (entries.length > MAX_META_ENTRIES)
    throw invalidRequest(`"meta" holds more than ${MAX_META_ENTRIES} entries`);
  for (const [key, value] of entries) {
    if (typeof value !== "string") throw invalidRequest(`invalid value for "meta.${key}": expected a string`);
    if (new TextEncoder().encode(value).length > MAX_META_VALUE_BYTES) {
      throw invalidRequest(`"meta.${key}" exceeds ${MAX_META_VALUE_BYTES} bytes`);
    }
    meta[key] = value;
  }
  return meta;
}

function displayNameOf(given: string | undefined): string {
  const requested = given?.trim() ?? "";
  // Vault's sanitizing: lower case, and anything outside [a-z0-9-] becomes "-".
  const cleaned = requested
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 128);
  return cleaned === "" ? "token" : `token-${cleaned}`;
}

export async function createToken(
  broker: Broker,
  mount: Mount,
  { record: caller }: CallerToken,
  fields: FieldValues<typeof CREATE_FIELDS>,
): Promise<EngineResponse> {
  if (fields.id) throw invalidRequest('"id" is not supported: Coffer chooses every token itself');
  if (fields.role_name || fields.entity_alias) {
    throw invalidRequest(
      `"${fields.role_name ? "role_name" : "entity_alias"}" is not supported: Coffer has no token roles`,
    );
  }
  if (fields.num_uses) throw invalidRequest('"num_uses" is not supported; omit it or use 0');
  if (fields.period) throw invalidRequest('"period" is not supported; use "ttl" and renew the token');
  const type = fields.type;
  if (type !== undefined && type !== "service" && type !== "default") {
    throw invalidRequest('"type" must be "service": only service tokens are supported');
  }

  const sudo =
    caller.policies.includes(ROOT_POLICY_NAME) ||
    (await broker.policies.acl(caller.policies, policyIdentityOf(caller)))
      .capabilities(`${mount.path}create`)
      .has("sudo");
  const orphan = fields.no_parent;
  if (orphan && !sudo) throw invalidRequest("root or sudo privileges required to create orphan token");
  const policies = childPolicies({
    parent: caller.policies,
    requested: fields.policies?.map(policyName),
    sudo,
    noDefaultPolicy: fields.no_default_policy,
  });
  if (policies.length === 0) throw invalidRequest("a token needs at least one policy");

  // As in Vault: a root token without ttl or explicit_max_ttl never expires, and only a
  // parent that never expires may make one; every other token is bound by the system max.
  const explicitMax = fields.explicit_max_ttl ?? 0;
  const requestedTtl = fields.ttl ?? fields.lease ?? 0;
  const neverExpires = policies.includes(ROOT_POLICY_NAME) && requestedTtl === 0 && explicitMax === 0;
  if (neverExpires && caller.expiresAt !== null) {
    throw invalidRequest("expiring root tokens cannot create non-expiring root tokens");
  }
  const maxTtl = neverExpires ? 0 : Math.min(explicitMax || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  const ttl = neverExpires ? 0 : Math.min(requestedTtl || DEFAULT_TOKEN_TTL_S, maxTtl);

  const { token, record } = await broker.tokens.create({
    policies,
    displayName: displayNameOf(fields.display_name),
    path: `${mount.path}create`,
    meta: metaOf(fields.meta),
    ttl,
    maxTtl,
    renewable: !neverExpires && (fields.renewable ?? true),
    ...(orphan || !caller.identity ? {} : { identity: caller.identity }),
  });
  return { auth: authBlock(record, token, broker.now()) };
}
