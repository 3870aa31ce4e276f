/**
 * Token roles (auth/token/roles/:name), as Vault's: a named set of rules for the tokens
 * made through auth/token/create/:name. A role may let its users hand out policies they
 * do not hold (allowed and disallowed policies, with globs), make orphans, periodic
 * tokens, tokens with an explicit maximum TTL or a use limit. Writing a role that exists
 * changes only the fields given. Batch tokens, CIDR bindings and entity aliases are
 * refused with a 400: Coffer has none of them.
 */
import type { Route } from "../../engines/engine.ts";
import { route } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import { invalidRequest } from "../../errors.ts";
import { sanitizePolicies } from "../../policy/policy-names.ts";
import { type ItemStore, listSortKeys } from "../../store/item-store.ts";
import { MAX_TOKEN_TTL_S } from "./token-lifetime.ts";
import type { RolePolicyRules } from "./token-policies.ts";

export interface TokenRole extends RolePolicyRules {
  name: string;
  /** Tokens made against the role have no parent. */
  orphan: boolean;
  renewable: boolean;
  /** Appended to the tokens' path ("auth/token/create/<name>/<suffix>"), for revoke-prefix by role revision. */
  pathSuffix: string;
  /** Seconds; the tokens are periodic when set. */
  period: number;
  /** Seconds; 0 for none. */
  explicitMaxTtl: number;
  /** Uses each token gets; 0 for unlimited. */
  numUses: number;
  /** "default-service" or "service": the same here, only service tokens exist. */
  tokenType: string;
}

const ROLE_PK = "token-role";
/** Vault's GenericNameRegex. */
export const ROLE_NAME = /\w(?:[\w.-]*\w)?/;
const PATH_SUFFIX = /^\w[\w.-]*\w$/;

export async function readTokenRole(store: ItemStore, name: string): Promise<TokenRole | undefined> {
  const item = await store.get({ pk: ROLE_PK, sk: name });
  if (!item) return undefined;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return {
    name,
    allowedPolicies: list(item.allowed_policies),
    disallowedPolicies: list(item.disallowed_policies),
    allowedPoliciesGlob: list(item.allowed_policies_glob),
    disallowedPoliciesGlob: list(item.disallowed_policies_glob),
    noDefaultPolicy: item.token_no_default_policy === true,
    orphan: item.orphan === true,
    renewable: item.renewable !== false,
    pathSuffix: String(item.path_suffix ?? ""),
    period: Number(item.token_period ?? 0),
    explicitMaxTtl: Number(item.token_explicit_max_ttl ?? 0),
    numUses: Number(item.token_num_uses ?? 0),
    tokenType: String(item.token_type ?? "default-service"),
  };
}

const ROLE_FIELDS = {
  role_name: { type: "string", path: true, description: "The role's name." },
  allowed_policies: {
    type: "stringList",
    description: "Policies tokens of the role may have; the default set when none is asked for.",
  },
  disallowed_policies: { type: "stringList", description: "Policies tokens of the role may never have." },
  allowed_policies_glob: {
    type: "stringList",
    description: "Like allowed_policies, with * matching any run of characters.",
  },
  disallowed_policies_glob: {
    type: "stringList",
    description: "Like disallowed_policies, with * matching any run of characters.",
  },
  orphan: { type: "boolean", description: "Tokens of the role have no parent." },
  renewable: { type: "boolean", description: "Tokens of the role may be renewed (true unless set)." },
  path_suffix: { type: "string", description: "Appended to the tokens' creation path." },
  token_period: {
    type: "duration",
    description: "Tokens of the role are periodic, renewed for this period each time.",
  },
  period: { type: "duration", description: 'Deprecated: "token_period".' },
  token_explicit_max_ttl: {
    type: "duration",
    description: "A hard cap on the tokens' life, renewals included.",
  },
  explicit_max_ttl: { type: "duration", description: 'Deprecated: "token_explicit_max_ttl".' },
  token_no_default_policy: { type: "boolean", description: "Leave the default policy out." },
  token_num_uses: { type: "integer", min: 0, description: "Uses each token gets; 0 for unlimited." },
  token_type: { type: "string", description: '"service" or "default-service": only service tokens exist.' },
  token_bound_cidrs: {
    type: "stringList",
    description: "Refused when set: Coffer does not bind tokens to addresses.",
  },
  bound_cidrs: { type: "stringList", description: 'Deprecated: "token_bound_cidrs".' },
  allowed_entity_aliases: {
    type: "stringList",
    description: "Refused when set: Coffer has no entity aliases.",
  },
} as const satisfies FieldSchema;

type RoleFields = FieldValues<typeof ROLE_FIELDS>;

/** The role written: the stored one changed by the fields given, or a new one from them and the defaults. */
function updatedRole(
  name: string,
  stored: TokenRole | undefined,
  fields: RoleFields,
): { role: TokenRole; warnings: string[] } {
  if ((fields.token_bound_cidrs ?? fields.bound_cidrs ?? []).length > 0) {
    throw invalidRequest('"token_bound_cidrs" is not supported: Coffer does not bind tokens to addresses');
  }
  if ((fields.allowed_entity_aliases ?? []).length > 0) {
    throw invalidRequest('"allowed_entity_aliases" is not supported: Coffer has no entity aliases');
  }
  const tokenType = fields.token_type ?? stored?.tokenType ?? "default-service";
  if (tokenType === "default") {
    // Vault stores "default" as "default-service".
  } else if (tokenType !== "service" && tokenType !== "default-service") {
    throw invalidRequest(
      tokenType === "batch" || tokenType === "default-batch"
        ? '"token_type" must be "service": only service tokens are supported'
        : `invalid 'token_type' value "${tokenType}"`,
    );
  }
  const pathSuffix = fields.path_suffix ?? stored?.pathSuffix ?? "";
  if (pathSuffix !== "" && (!PATH_SUFFIX.test(pathSuffix) || pathSuffix.includes(".."))) {
    throw invalidRequest(
      `given role path suffix contains invalid characters; must match ${PATH_SUFFIX.source}`,
    );
  }
  const warnings: string[] = [];
  const pick = <T>(
    current: T | undefined,
    deprecated: T | undefined,
    name: string,
    old: string,
  ): T | undefined => {
    if (current !== undefined && deprecated !== undefined) {
      warnings.push(`Both '${name}' and deprecated '${old}' value supplied, ignoring the deprecated value`);
    }
    return current ?? deprecated;
  };
  const explicitMaxTtl =
    pick(
      fields.token_explicit_max_ttl,
      fields.explicit_max_ttl,
      "token_explicit_max_ttl",
      "explicit_max_ttl",
    ) ??
    stored?.explicitMaxTtl ??
    0;
  if (explicitMaxTtl > MAX_TOKEN_TTL_S) {
    warnings.push(
      `Given explicit max TTL of ${explicitMaxTtl} is greater than system/mount allowed value of ${MAX_TOKEN_TTL_S} seconds; until this is fixed attempting to create tokens against this role will result in an error`,
    );
  }
  const names = (given: readonly string[] | undefined, kept: readonly string[] | undefined) =>
    sanitizePolicies(given ?? kept ?? []);
  return {
    role: {
      name,
      allowedPolicies: names(fields.allowed_policies, stored?.allowedPolicies),
      disallowedPolicies: names(fields.disallowed_policies, stored?.disallowedPolicies),
      allowedPoliciesGlob: names(fields.allowed_policies_glob, stored?.allowedPoliciesGlob),
      disallowedPoliciesGlob: names(fields.disallowed_policies_glob, stored?.disallowedPoliciesGlob),
      noDefaultPolicy: fields.token_no_default_policy ?? stored?.noDefaultPolicy ?? false,
      orphan: fields.orphan ?? stored?.orphan ?? false,
      renewable: fields.renewable ?? stored?.renewable ?? true,
      pathSuffix,
      period: pick(fields.token_period, fields.period, "token_period", "period") ?? stored?.period ?? 0,
      explicitMaxTtl,
      numUses: fields.token_num_uses ?? stored?.numUses ?? 0,
      tokenType: tokenType === "default" ? "default-service" : tokenType,
    },
    warnings,
  };
}

function describeRole(role: TokenRole) {
  return {
    name: role.name,
    allowed_policies: role.allowedPolicies,
    disallowed_policies: role.disallowedPolicies,
    allowed_policies_glob: role.allowedPoliciesGlob,
    disallowed_policies_glob: role.disallowedPoliciesGlob,
    orphan: role.orphan,
    path_suffix: role.pathSuffix,
    renewable: role.renewable,
    period: role.period,
    token_period: role.period,
    explicit_max_ttl: role.explicitMaxTtl,
    token_explicit_max_ttl: role.explicitMaxTtl,
    token_no_default_policy: role.noDefaultPolicy,
    token_type: role.tokenType,
    allowed_entity_aliases: [],
    ...(role.numUses > 0 ? { token_num_uses: role.numUses } : {}),
  };
}

export function tokenRoleRoutes(store: ItemStore): Route[] {
  const key = (name: string) => ({ pk: ROLE_PK, sk: name });
  return [
    route({
      pattern: /^roles\/?$/,
      fields: {},
      operations: {
        list: async () => {
          const keys = await listSortKeys(store, ROLE_PK, "");
          return keys.length === 0 ? { status: 404, raw: { errors: [] } } : { data: { keys } };
        },
      },
    }),
    route({
      pattern: new RegExp(`^roles/(?<role_name>${ROLE_NAME.source})$`),
      fields: ROLE_FIELDS,
      exists: async (request) => (await store.get(key(request.fields.role_name))) !== undefined,
      operations: {
        read: async (request) => {
          const role = await readTokenRole(store, request.fields.role_name);
          return role ? { data: describeRole(role) } : { status: 404, raw: { errors: [] } };
        },
        update: async (request) => {
          const name = request.fields.role_name;
          const { role, warnings } = updatedRole(name, await readTokenRole(store, name), request.fields);
          await store.write([
            {
              op: "put",
              item: {
                ...key(name),
                allowed_policies: [...role.allowedPolicies],
                disallowed_policies: [...role.disallowedPolicies],
                allowed_policies_glob: [...role.allowedPoliciesGlob],
                disallowed_policies_glob: [...role.disallowedPoliciesGlob],
                token_no_default_policy: role.noDefaultPolicy,
                orphan: role.orphan,
                renewable: role.renewable,
                path_suffix: role.pathSuffix,
                token_period: role.period,
                token_explicit_max_ttl: role.explicitMaxTtl,
                token_num_uses: role.numUses,
                token_type: role.tokenType,
              },
            },
          ]);
          return warnings.length > 0 ? { warnings } : {};
        },
        delete: async (request) => {
          await store.write([{ op: "delete", key: key(request.fields.role_name) }]);
          return {};
        },
      },
    }),
  ];
}
