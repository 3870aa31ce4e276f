/**
 * auth/token/create: a token made by another token, for operators and automation that
 * cannot log in through an auth method. As in Vault, a caller may only hand out policies
 * it holds itself, unless it has sudo on auth/token/create (root does).
 */
import type { Broker } from "../../broker.ts";
import type { EngineRequest, EngineResponse } from "../../engines/engine.ts";
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
import { DEFAULT_POLICY_NAME } from "../../policy/default-policy.ts";
import { policyName, ROOT_POLICY_NAME } from "../../policy/policy-store.ts";
import { authBlock } from "./token-engine.ts";
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

export async function createToken(broker: Broker, request: EngineRequest): Promise<EngineResponse> {
  const caller = request.token;
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

  const requested = optionalStringList(data, "policies")?.map(policyName);
  let policies = requested ?? caller.policies;
  const callerIsRoot = caller.policies.includes(ROOT_POLICY_NAME);
  if (!callerIsRoot) {
    const acl = await broker.policies.acl(caller.policies, policyIdentityOf(caller));
    const held = new Set(caller.policies.filter((name) => name !== DEFAULT_POLICY_NAME));
    const sudo = acl.capabilities(`${request.mount.path}create`).has("sudo");
    if (!sudo && policies.some((name) => name !== DEFAULT_POLICY_NAME && !held.has(name))) {
      throw invalidRequest("child policies must be subset of parent");
    }
  }
  const isRoot = policies.includes(ROOT_POLICY_NAME);
  if (isRoot) policies = [ROOT_POLICY_NAME];
  else if (optionalBoolean(data, "no_default_policy") !== true) policies = [...policies, DEFAULT_POLICY_NAME];
  else policies = policies.filter((name) => name !== DEFAULT_POLICY_NAME);
  if (policies.length === 0) throw invalidRequest("a token needs at least one policy");

  const explicitMax = optionalDuration(data, "explicit_max_ttl") ?? 0;
  const maxTtl = isRoot ? explicitMax : Math.min(explicitMax || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  let ttl = optionalDuration(data, "ttl") ?? (isRoot ? 0 : DEFAULT_TOKEN_TTL_S);
  if (maxTtl > 0) ttl = Math.min(ttl || maxTtl, maxTtl);

  const { token, record } = await broker.tokens.create({
    policies,
    displayName: displayNameOf(request),
    path: `${request.mount.path}create`,
    meta: metaOf(request),
    ttl,
    maxTtl,
    renewable: optionalBoolean(data, "renewable") ?? ttl > 0,
  });
  return { auth: authBlock(record, token, broker.now()) };
}
