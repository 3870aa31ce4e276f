/**
 * auth/token/create: a token made by another token, for operators and automation that
 * cannot log in through an auth method. As in Vault, a caller may only hand out policies
 * it holds itself, unless it has sudo on auth/token/create (root does); only a root token
 * makes a root token, and only a root token that never expires makes one that never
 * expires. The new token inherits its maker's proven identity, unless it is an orphan
 * (`no_parent`, which needs sudo): `meta` is free-form data and never becomes one.
 */
import type { Broker } from "../../broker.ts";
import type { EngineRequest, EngineResponse } from "../../engines/engine.ts";
import type { Mount } from "../../engines/mount.ts";
import { invalidRequest, permissionDenied } from "../../errors.ts";
import {
  optionalBoolean,
  optionalDuration,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringList,
  rejectUnknownFields,
} from "../../http/fields.ts";
import { callerTokenOf } from "../../mounts/caller-token.ts";
import { policyName, ROOT_POLICY_NAME } from "../../policy/policy-store.ts";
import { authBlock } from "./auth-block.ts";
import { childPolicies } from "./token-policies.ts";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S, policyIdentityOf } from "./token-store.ts";

const FIELDS = [
  "policies",
  "meta",
  "no_default_policy",
  "ttl",
  "explicit_max_ttl",
  "display_name",
  "renewable",
  "no_parent",
  "num_uses",
  "period",
  "type",
];

const MAX_META_ENTRIES = 64;
const MAX_META_VALUE_BYTES = 512;

function metaOf(request: EngineRequest): Record<string, string> {
  const meta: Record<string, string> = {};
  const entries = Object.entries(optionalObject(request.data, "meta") ?? {});
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

function displayNameOf(request: EngineRequest): string {
  const requested = optionalString(request.data, "display_name")?.trim() ?? "";
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
  request: EngineRequest,
): Promise<EngineResponse> {
  const caller = callerTokenOf(request)?.record;
  if (!caller) throw permissionDenied();
  const data = request.data;
  rejectUnknownFields(data, FIELDS);
  if (optionalInteger(data, "num_uses", { min: 0 }))
    throw invalidRequest('"num_uses" is not supported; omit it or use 0');
  if (optionalDuration(data, "period"))
    throw invalidRequest('"period" is not supported; use "ttl" and renew the token');
  const type = optionalString(data, "type");
  if (type !== undefined && type !== "service" && type !== "default") {
    throw invalidRequest('"type" must be "service": only service tokens are supported');
  }

  const sudo =
    caller.policies.includes(ROOT_POLICY_NAME) ||
    (await broker.policies.acl(caller.policies, policyIdentityOf(caller)))
      .capabilities(`${mount.path}create`)
      .has("sudo");
  const orphan = optionalBoolean(data, "no_parent") === true;
  if (orphan && !sudo) throw invalidRequest("root or sudo privileges required to create orphan token");
  const policies = childPolicies({
    parent: caller.policies,
    requested: optionalStringList(data, "policies")?.map(policyName),
    sudo,
    noDefaultPolicy: optionalBoolean(data, "no_default_policy") === true,
  });
  if (policies.length === 0) throw invalidRequest("a token needs at least one policy");

  // As in Vault: a root token without ttl or explicit_max_ttl never expires, and only a
  // parent that never expires may make one; every other token is bound by the system max.
  const explicitMax = optionalDuration(data, "explicit_max_ttl") ?? 0;
  const requestedTtl = optionalDuration(data, "ttl") ?? 0;
  const neverExpires = policies.includes(ROOT_POLICY_NAME) && requestedTtl === 0 && explicitMax === 0;
  if (neverExpires && caller.expiresAt !== null) {
    throw invalidRequest("expiring root tokens cannot create non-expiring root tokens");
  }
  const maxTtl = neverExpires ? 0 : Math.min(explicitMax || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  const ttl = neverExpires ? 0 : Math.min(requestedTtl || DEFAULT_TOKEN_TTL_S, maxTtl);

  const { token, record } = await broker.tokens.create({
    policies,
    displayName: displayNameOf(request),
    path: `${mount.path}create`,
    meta: metaOf(request),
    ttl,
    maxTtl,
    renewable: !neverExpires && (optionalBoolean(data, "renewable") ?? true),
    ...(orphan || !caller.identity ? {} : { identity: caller.identity }),
  });
  return { auth: authBlock(record, token, broker.now()) };
}
