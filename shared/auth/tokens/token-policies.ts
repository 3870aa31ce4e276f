/**
 * Which policies a new token gets, as Vault decides them. Every path that creates a token
 * goes through here, so none can hand out more than its caller had:
 *
 * - A token made by another (auth/token/create) holds a subset of its parent's policies,
 *   unless the parent has sudo on the create path; `default` counts like any policy in that
 *   subset, and is added only when the parent holds it (or has sudo).
 * - Only a root token may make a root token; sudo does not lift that.
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
