/**
 * auth/<mount>/role/<name>: which service accounts may log in through the role, and what
 * token they get. Vault's fields: bound_service_account_names and _namespaces (a single
 * "*" for any, or globs where "*" matches any run of characters), audience,
 * alias_name_source, and the token_* settings (policies, ttl, max_ttl, explicit_max_ttl,
 * no_default_policy), with the older unprefixed names (`policies`, `ttl`, `max_ttl`)
 * accepted as in Vault. Coffer adds `max_age`, the cap on the age of accepted tokens
 * (token-age.ts), named after the JWT auth method's field for the age of a login.
 *
 * Writing a role that exists changes only the fields given, as in Vault. A role naming the
 * `root` policy is refused when written: no auth method may issue a root token (Vault
 * refuses only at login, where Coffer refuses again).
 */
import type { JsonObject } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import { invalidRequest } from "../../errors.ts";
import { namesRoot } from "../../policy/policy-names.ts";
import { policyName } from "../../policy/policy-store.ts";
import type { Item, ItemKey } from "../../store/item-store.ts";
import { loginDenied } from "./login-errors.ts";
import type { ServiceAccount } from "./service-account.ts";

export type AliasNameSource = "serviceaccount_uid" | "serviceaccount_name";

export interface KubernetesRole {
  boundServiceAccountNames: string[];
  boundServiceAccountNamespaces: string[];
  audience: string;
  aliasNameSource: AliasNameSource;
  tokenPolicies: string[];
  /** Seconds; 0 = the mount's or the system default. */
  tokenTtl: number;
  tokenMaxTtl: number;
  tokenExplicitMaxTtl: number;
  tokenNoDefaultPolicy: boolean;
  /** Seconds: the most a token may be issued to live, and may have lived (token-age.ts). */
  maxAge: number;
}

/** The kubelet replaces a pod's token before it is this old. */
export const DEFAULT_MAX_AGE_S = 24 * 3600;

const ROLE_NAME = /^\w([\w.-]{0,126}\w)?$/;

/** Role names are case-insensitive, as in Vault. */
export function roleName(raw: string): string {
  if (!ROLE_NAME.test(raw)) {
    throw invalidRequest(`invalid role name "${raw}": use letters, digits, "_", "-" and "." (up to 128)`);
  }
  return raw.toLowerCase();
}

const deprecated = (current: string) => `Deprecated: use "${current}".`;

/** The fields of auth/<mount>/role/<name> besides the name, in Vault's names. */
export const ROLE_FIELDS = {
  bound_service_account_names: { type: "stringList", description: 'Service account names (globs, "*").' },
  bound_service_account_namespaces: { type: "stringList", description: 'Namespaces (globs, "*").' },
  bound_service_account_namespace_selector: {
    type: "string",
    description: "Refused when set: Coffer cannot read namespace labels.",
  },
  audience: { type: "string", description: "The audience tokens must carry; any when empty." },
  alias_name_source: {
    type: "string",
    description:
      '"serviceaccount_uid" (the default) or "serviceaccount_name": the alias an entity is found by.',
  },
  token_policies: { type: "stringList", description: "The policies of the tokens a login gets." },
  policies: { type: "stringList", description: deprecated("token_policies") },
  token_ttl: { type: "duration", description: "The tokens' TTL; 0 is the mount's default." },
  ttl: { type: "duration", description: deprecated("token_ttl") },
  token_max_ttl: { type: "duration", description: "The tokens' longest life with renewals." },
  max_ttl: { type: "duration", description: deprecated("token_max_ttl") },
  token_explicit_max_ttl: { type: "duration", description: "A hard cap on the tokens' life." },
  token_no_default_policy: { type: "boolean", description: "Leave the default policy out." },
  token_type: { type: "string", description: '"service" or "default": only service tokens are issued.' },
  token_num_uses: { type: "integer", min: 0, description: "Refused unless 0." },
  num_uses: { type: "integer", min: 0, description: "Refused unless 0." },
  token_period: { type: "duration", description: "Refused when set: renew instead." },
  period: { type: "duration", description: "Refused when set: renew instead." },
  token_bound_cidrs: { type: "stringList", description: "Refused when set." },
  bound_cidrs: { type: "stringList", description: "Refused when set." },
  max_age: {
    type: "duration",
    description: "The oldest a token may be, counted from its issue (default 24h).",
  },
} as const satisfies FieldSchema;

type RoleFields = FieldValues<typeof ROLE_FIELDS>;

/** Vault's glob: "*" matches any run of characters (none included); nothing else is special. */
export function globMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!value.startsWith(first) || value.length < first.length + last.length) return false;
  let position = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, position);
    if (found === -1) return false;
    position = found + middle.length;
  }
  return value.length - last.length >= position && value.endsWith(last);
}

function boundList(given: string[] | undefined, name: string, current: string[] | undefined): string[] {
  const list = given?.map((item) => item.trim()) ?? current ?? [];
  if (list.length === 0) throw invalidRequest(`"${name}" can not be empty`);
  if (list.length > 1 && list.includes("*")) throw invalidRequest(`"${name}": can not mix "*" with values`);
  for (const item of list) {
    if (item === "" || item.length > 253 || /[\p{Cc}\s]/u.test(item)) {
      throw invalidRequest(`"${name}": invalid entry ${JSON.stringify(item)}`);
    }
  }
  return list;
}

/** One of two Vault spellings of a field; both at once is an error, as in Vault. */
function either<K extends keyof RoleFields>(
  fields: RoleFields,
  current: K,
  legacy: K,
): RoleFields[K] | undefined {
  const value = fields[current];
  const old = fields[legacy];
  if (value !== undefined && old !== undefined) {
    throw invalidRequest(`cannot specify both "${current}" and "${legacy}"`);
  }
  return value ?? old;
}

function refuseIfSet(values: Record<string, unknown>, message: string): void {
  for (const [name, value] of Object.entries(values)) {
    const set = Array.isArray(value) ? value.length > 0 : Boolean(value);
    if (set) throw invalidRequest(`"${name}" ${message}`);
  }
}

export function roleFromRequest(
  fields: RoleFields,
  existing: KubernetesRole | undefined,
): { role: KubernetesRole; warnings: string[] } {
  if (fields.bound_service_account_namespace_selector) {
    throw invalidRequest(
      '"bound_service_account_namespace_selector" is not supported: Coffer verifies tokens offline and cannot read namespace labels',
    );
  }
  refuseIfSet(
    { token_num_uses: fields.token_num_uses, num_uses: fields.num_uses },
    "is not supported; omit it or use 0",
  );
  refuseIfSet(
    { token_period: fields.token_period, period: fields.period },
    "is not supported; use token_ttl and renew the token",
  );
  refuseIfSet(
    { token_bound_cidrs: fields.token_bound_cidrs, bound_cidrs: fields.bound_cidrs },
    "is not supported",
  );
  const tokenType = fields.token_type;
  if (tokenType !== undefined && tokenType !== "default" && tokenType !== "service") {
    throw invalidRequest('"token_type" must be "service" or "default": only service tokens are issued');
  }

  const aliasNameSource = fields.alias_name_source ?? existing?.aliasNameSource ?? "serviceaccount_uid";
  if (aliasNameSource !== "serviceaccount_uid" && aliasNameSource !== "serviceaccount_name") {
    throw invalidRequest('"alias_name_source" must be "serviceaccount_uid" or "serviceaccount_name"');
  }
  const policies = either(fields, "token_policies", "policies");
  if (policies && namesRoot(policies)) {
    throw invalidRequest(
      'auth methods cannot create root tokens: remove "root" from the role\'s token_policies',
    );
  }
  const role: KubernetesRole = {
    boundServiceAccountNames: boundList(
      fields.bound_service_account_names,
      "bound_service_account_names",
      existing?.boundServiceAccountNames,
    ),
    boundServiceAccountNamespaces: boundList(
      fields.bound_service_account_namespaces,
      "bound_service_account_namespaces",
      existing?.boundServiceAccountNamespaces,
    ),
    audience: fields.audience?.trim() ?? existing?.audience ?? "",
    aliasNameSource,
    tokenPolicies: policies ? [...new Set(policies.map(policyName))] : (existing?.tokenPolicies ?? []),
    tokenTtl: either(fields, "token_ttl", "ttl") ?? existing?.tokenTtl ?? 0,
    tokenMaxTtl: either(fields, "token_max_ttl", "max_ttl") ?? existing?.tokenMaxTtl ?? 0,
    tokenExplicitMaxTtl: fields.token_explicit_max_ttl ?? existing?.tokenExplicitMaxTtl ?? 0,
    tokenNoDefaultPolicy: fields.token_no_default_policy ?? existing?.tokenNoDefaultPolicy ?? false,
    maxAge: fields.max_age ?? existing?.maxAge ?? DEFAULT_MAX_AGE_S,
  };
  if (role.maxAge <= 0) {
    throw invalidRequest(
      `"max_age" must be a positive duration (default ${DEFAULT_MAX_AGE_S / 3600}h): the age of accepted tokens is always capped`,
    );
  }
  if (role.tokenMaxTtl > 0 && role.tokenTtl > role.tokenMaxTtl) {
    throw invalidRequest("token ttl should not be greater than token max ttl");
  }

  const warnings: string[] = [];
  if (role.audience === "") {
    warnings.push(
      "This role does not specify an audience: a token issued for any audience (another service included) is accepted.",
    );
  }
  if (role.boundServiceAccountNames[0] === "*" && role.boundServiceAccountNamespaces[0] === "*") {
    warnings.push("Any service account of the cluster can log in with this role.");
  }
  return { role, warnings };
}

export function roleToItem(key: ItemKey, role: KubernetesRole): Item {
  return {
    ...key,
    bound_service_account_names: role.boundServiceAccountNames,
    bound_service_account_namespaces: role.boundServiceAccountNamespaces,
    audience: role.audience,
    alias_name_source: role.aliasNameSource,
    token_policies: role.tokenPolicies,
    token_ttl: role.tokenTtl,
    token_max_ttl: role.tokenMaxTtl,
    token_explicit_max_ttl: role.tokenExplicitMaxTtl,
    token_no_default_policy: role.tokenNoDefaultPolicy,
    max_age: role.maxAge,
  };
}

export function roleFromItem(item: Item): KubernetesRole {
  return {
    boundServiceAccountNames: (item.bound_service_account_names as string[]) ?? [],
    boundServiceAccountNamespaces: (item.bound_service_account_namespaces as string[]) ?? [],
    audience: String(item.audience ?? ""),
    aliasNameSource:
      item.alias_name_source === "serviceaccount_name" ? "serviceaccount_name" : "serviceaccount_uid",
    tokenPolicies: (item.token_policies as string[]) ?? [],
    tokenTtl: Number(item.token_ttl ?? 0),
    tokenMaxTtl: Number(item.token_max_ttl ?? 0),
    tokenExplicitMaxTtl: Number(item.token_explicit_max_ttl ?? 0),
    tokenNoDefaultPolicy: item.token_no_default_policy === true,
    // Roles written before the cap existed get the default, and so does anything that is
    // not a positive number: the cap never silently lifts.
    maxAge: Number(item.max_age) > 0 ? Number(item.max_age) : DEFAULT_MAX_AGE_S,
  };
}

/** Vault's read shape: durations in seconds, the legacy `policies` mirrored. */
export function describeRole(role: KubernetesRole): JsonObject {
  return {
    bound_service_account_names: role.boundServiceAccountNames,
    bound_service_account_namespaces: role.boundServiceAccountNamespaces,
    bound_service_account_namespace_selector: "",
    audience: role.audience,
    alias_name_source: role.aliasNameSource,
    token_policies: role.tokenPolicies,
    policies: role.tokenPolicies,
    token_ttl: role.tokenTtl,
    token_max_ttl: role.tokenMaxTtl,
    token_explicit_max_ttl: role.tokenExplicitMaxTtl,
    token_no_default_policy: role.tokenNoDefaultPolicy,
    token_num_uses: 0,
    token_period: 0,
    token_bound_cidrs: [],
    token_type: "default",
    max_age: role.maxAge,
  };
}

function allowed(patterns: readonly string[], value: string): boolean {
  return patterns[0] === "*" || patterns.some((pattern) => globMatches(pattern, value));
}

/** Throws a 403 unless the role binds this service account. */
export function checkBinding(role: KubernetesRole, account: ServiceAccount): void {
  if (!allowed(role.boundServiceAccountNames, account.name)) {
    throw loginDenied("ERR_SERVICE_ACCOUNT_NOT_BOUND", "service account name not authorized");
  }
  if (!allowed(role.boundServiceAccountNamespaces, account.namespace)) {
    throw loginDenied("ERR_NAMESPACE_NOT_BOUND", "namespace not authorized");
  }
}
