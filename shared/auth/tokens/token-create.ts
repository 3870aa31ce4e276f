/**
 * auth/token/create, create-orphan and create/:role: a token made by another token, for
 * operators and automation that cannot log in through an auth method, as Vault makes it
 * (its token store's handleCreateCommon):
 *
 * - the new token is a child of its maker: it records the maker's accessor, inherits its
 *   proven identity, never outlives the maker's maximum and is revoked with it;
 * - it is an orphan only through `no_parent` (root or sudo on the path), create-orphan
 *   (whatever its policy grants, as in Vault) or a role with `orphan`; an orphan has no
 *   identity, and `meta` is free-form data that never becomes one;
 * - a caller may only hand out policies it holds, unless it has sudo on the path or a
 *   role's allowed policies say otherwise; only a root token makes a root token, and only
 *   a root token that never expires makes one that never expires;
 * - periodic tokens need sudo or a role with a period; a use-limited token makes none.
 */
import type { Broker } from "../../broker.ts";
import type { EngineResponse, JsonObject } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import type { Mount } from "../../engines/mount.ts";
import { invalidRequest } from "../../errors.ts";
import type { CallerToken } from "../../mounts/caller-token.ts";
import { policyName, ROOT_POLICY_NAME } from "../../policy/policy-store.ts";
import { authBlock } from "./auth-block.ts";
import { creationLifetime } from "./token-lifetime.ts";
import { childPolicies, hasPolicyRules, rolePolicies } from "./token-policies.ts";
import { policyIdentityOf } from "./token-record.ts";
import type { TokenRole } from "./token-roles.ts";

/** The fields of auth/token/create, create-orphan and create/:role_name, as Vault declares them. */
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
    description: "An orphan: no parent, no inherited identity (root or sudo).",
  },
  num_uses: {
    type: "integer",
    min: 0,
    description: "How many requests the token may make; 0 for unlimited.",
  },
  period: {
    type: "duration",
    description: "A periodic token, renewable for ever one period at a time (sudo).",
  },
  type: { type: "string", description: '"service" (or "default"): only service tokens exist.' },
  id: { type: "string", description: "Refused when set: Coffer chooses every token." },
  entity_alias: { type: "string", description: "Refused when set: Coffer has no entity aliases." },
} as const satisfies FieldSchema;

export type CreateFields = FieldValues<typeof CREATE_FIELDS>;

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

/** The lesser of what the request and the role say, 0 meaning "not set", with Vault's warning when both do. */
function lesser(requested: number, fromRole: number, what: string, warnings: string[]): number {
  if (fromRole === 0) return requested;
  if (requested === 0) return fromRole;
  const chosen = Math.min(requested, fromRole);
  warnings.push(
    `${what} specified both during creation call and in role; using the lesser value of ${chosen} seconds`,
  );
  return chosen;
}

export interface CreateRequest {
  /** The path asked for below the mount: "create", "create-orphan" or "create/<role>". */
  path: string;
  fields: CreateFields;
  role?: TokenRole;
}

export async function createToken(
  broker: Broker,
  mount: Mount,
  { record: parent }: CallerToken,
  { path, fields, role }: CreateRequest,
): Promise<EngineResponse> {
  if (parent.numUses !== 0) throw invalidRequest("restricted use token cannot generate child tokens");
  if (fields.id) throw invalidRequest('"id" is not supported: Coffer chooses every token itself');
  if (fields.entity_alias) {
    throw invalidRequest(
      role
        ? '"entity_alias" is not supported: Coffer has no entity aliases'
        : "'entity_alias' is only allowed in combination with token role",
    );
  }
  const type = fields.type ?? "";
  if (type !== "" && type !== "service" && type !== "default") {
    throw invalidRequest(
      type === "batch"
        ? '"type" must be "service": only service tokens are supported'
        : "invalid 'token_type' value",
    );
  }

  const sudo =
    parent.policies.includes(ROOT_POLICY_NAME) ||
    (await broker.policies.acl(parent.policies, policyIdentityOf(parent)))
      .capabilities(`${mount.path}${path}`)
      .has("sudo");
  const requested = fields.policies?.map(policyName);
  const policies =
    role && hasPolicyRules(role)
      ? rolePolicies(role, { parent: parent.policies, requested, noDefaultPolicy: fields.no_default_policy })
      : childPolicies({
          parent: parent.policies,
          requested,
          sudo,
          noDefaultPolicy: fields.no_default_policy,
        });
  if (policies.length === 0) throw invalidRequest("a token needs at least one policy");

  let orphan = path === "create-orphan" || role?.orphan === true;
  if (!role && fields.no_parent) {
    if (!sudo) throw invalidRequest("root or sudo privileges required to create orphan token");
    orphan = true;
  }
  if (fields.period && !sudo) {
    throw invalidRequest("root or sudo privileges required to create periodic token");
  }

  const warnings: string[] = [];
  const explicitMaxTtl = lesser(
    fields.explicit_max_ttl ?? 0,
    role?.explicitMaxTtl ?? 0,
    "Explicit max TTL",
    warnings,
  );
  const period = lesser(fields.period ?? 0, role?.period ?? 0, "Period", warnings);
  let numUses = fields.num_uses ?? 0;
  if (role && role.numUses > 0 && (numUses === 0 || role.numUses < numUses)) numUses = role.numUses;
  const lifetime = creationLifetime({
    ttl: fields.ttl ?? fields.lease ?? 0,
    explicitMaxTtl,
    period,
    root: policies.includes(ROOT_POLICY_NAME),
  });
  warnings.push(...lifetime.warnings);
  // As in Vault: only a parent that never expires may make a token that never expires.
  if (lifetime.ttl === 0 && parent.expiresAt !== null) {
    throw invalidRequest("expiring root tokens cannot create non-expiring root tokens");
  }

  const { token, record } = await broker.tokens.create({
    policies,
    displayName: displayNameOf(fields.display_name),
    path: `${mount.path}${path}${role?.pathSuffix ? `/${role.pathSuffix}` : ""}`,
    meta: metaOf(fields.meta),
    ttl: lifetime.ttl,
    maxTtl: lifetime.maxTtl,
    explicitMaxTtl,
    period,
    numUses,
    renewable: (fields.renewable ?? true) && (role?.renewable ?? true),
    role: role?.name ?? "",
    ...(orphan ? {} : { parent, ...(parent.identity ? { identity: parent.identity } : {}) }),
  });
  return { auth: authBlock(record, token), ...(warnings.length > 0 ? { warnings } : {}) };
}
