/**
 * Which policies a new token gets, as Vault decides them. Every path that creates a token
 * goes through here, so none can hand out more than its caller had:
 *
 * - A token made by another (auth/token/create) holds a subset of its parent's policies,
 *   unless the parent has sudo on the create path; `default` counts like any policy in that
 *   subset, and is added only when the parent holds it (or has sudo).
 * - A token made against a token role that allows or disallows policies gets what the
 *   role's rules say instead (globs included), whatever its parent holds: roles are how an
 *   operator lets a caller hand out policies it does not hold.
 * - Only a root token may make a root token; sudo and roles do not lift that.
 * - No auth method may issue a root token, whatever its role says.
 *
 * Names are compared as Vault compares them (policy-names.ts).
 */
import { invalidRequest } from "../../errors.ts";
import { DEFAULT_POLICY_NAME } from "../../policy/default-policy.ts";
import { sanitizePolicies } from "../../policy/policy-names.ts";
import { ROOT_POLICY_NAME } from "../../policy/policy-store.ts";

export interface ChildPolicyRequest {
  /** The parent's policies. */
  parent: readonly string[];
  /** The policies asked for; none (or an empty list) means the parent's own. */
  requested: readonly string[] | undefined;
  /** Whether the parent has sudo on the create path (root always has). */
  sudo: boolean;
  noDefaultPolicy: boolean;
}

/** The policies of a token made by another token, or a 400 with Vault's message. */
export function childPolicies({ parent, requested, sudo, noDefaultPolicy }: ChildPolicyRequest): string[] {
  const held = sanitizePolicies(parent);
  let policies: string[];
  let addDefault = false;
  if (!requested || requested.length === 0) {
    policies = held;
  } else {
    policies = sanitizePolicies(requested);
    if (!sudo && policies.some((name) => !held.includes(name))) {
      throw invalidRequest("child policies must be subset of parent");
    }
    addDefault = !noDefaultPolicy && (sudo || held.includes(DEFAULT_POLICY_NAME));
  }
  if (addDefault) policies = sanitizePolicies([...policies, DEFAULT_POLICY_NAME]);
  if (noDefaultPolicy) policies = policies.filter((name) => name !== DEFAULT_POLICY_NAME);
  if (policies.includes(ROOT_POLICY_NAME) && !held.includes(ROOT_POLICY_NAME)) {
    throw invalidRequest("root tokens may not be created without parent token being root");
  }
  return policies;
}

/** The policies of a token an auth method issues at login: the role's, plus default unless it says not to. */
export function loginPolicies(rolePolicies: readonly string[], noDefaultPolicy: boolean): string[] {
  const policies = sanitizePolicies(rolePolicies).filter((name) => name !== DEFAULT_POLICY_NAME);
  if (policies.includes(ROOT_POLICY_NAME)) throw invalidRequest("auth methods cannot create root tokens");
  return noDefaultPolicy ? policies : [...policies, DEFAULT_POLICY_NAME];
}

/** Vault's policy globs (go-glob): `*` matches any run of characters, anywhere; nothing else is special. */
export function globMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) {
    return false;
  }
  let at = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

const anyGlob = (patterns: readonly string[], value: string) =>
  patterns.some((pattern) => globMatches(pattern, value));

/** What a token role says about the policies of the tokens made against it. */
export interface RolePolicyRules {
  allowedPolicies: readonly string[];
  disallowedPolicies: readonly string[];
  allowedPoliciesGlob: readonly string[];
  disallowedPoliciesGlob: readonly string[];
  noDefaultPolicy: boolean;
}

export const hasPolicyRules = (role: RolePolicyRules) =>
  role.allowedPolicies.length > 0 ||
  role.disallowedPolicies.length > 0 ||
  role.allowedPoliciesGlob.length > 0 ||
  role.disallowedPoliciesGlob.length > 0;

/**
 * The policies of a token made against a role that allows or disallows policies, as
 * Vault decides them: the role's rules replace the parent's subset rule (a role may grant
 * what its user does not hold), `default` is added unless the request, the role or its
 * disallowed lists say not to, and only a root token may make a root token.
 */
export function rolePolicies(
  role: RolePolicyRules,
  request: { parent: readonly string[]; requested: readonly string[] | undefined; noDefaultPolicy: boolean },
): string[] {
  const addDefault =
    !request.noDefaultPolicy &&
    !role.noDefaultPolicy &&
    !role.disallowedPolicies.includes(DEFAULT_POLICY_NAME) &&
    !anyGlob(role.disallowedPoliciesGlob, DEFAULT_POLICY_NAME);
  const withDefault = (names: readonly string[]) =>
    sanitizePolicies(
      addDefault && !names.includes(ROOT_POLICY_NAME) ? [...names, DEFAULT_POLICY_NAME] : names,
    );
  let policies = request.requested && request.requested.length > 0 ? withDefault(request.requested) : [];
  if (role.allowedPolicies.length > 0 || role.allowedPoliciesGlob.length > 0) {
    const allowed = withDefault(role.allowedPolicies);
    if (policies.length === 0) policies = allowed;
    else if (policies.some((name) => !allowed.includes(name) && !anyGlob(role.allowedPoliciesGlob, name))) {
      throw invalidRequest(
        `token policies (${JSON.stringify(policies)}) must be subset of the role's allowed policies ` +
          `(${JSON.stringify(allowed)}) or glob policies (${JSON.stringify(role.allowedPoliciesGlob)})`,
      );
    }
  } else if (policies.length === 0) {
    policies = withDefault(request.parent);
  }
  const disallowed = policies.find(
    (name) => role.disallowedPolicies.includes(name) || anyGlob(role.disallowedPoliciesGlob, name),
  );
  if (disallowed !== undefined)
    throw invalidRequest(`token policy "${disallowed}" is disallowed by this role`);
  if (request.noDefaultPolicy) policies = policies.filter((name) => name !== DEFAULT_POLICY_NAME);
  if (policies.includes(ROOT_POLICY_NAME) && !sanitizePolicies(request.parent).includes(ROOT_POLICY_NAME)) {
    throw invalidRequest("root tokens may not be created without parent token being root");
  }
  return policies;
}
