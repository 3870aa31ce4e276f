/**
 * Policy names compared as Vault compares them: trimmed and in lower case, so "ROOT" and
 * " root " are root, and duplicates count once. Auth methods use it to refuse a role that
 * names root; the token store uses it for every token it makes.
 */
import { ROOT_POLICY_NAME } from "./policy-store.ts";

/** Trimmed, lower case, without duplicates; root alone when root is among them (Vault's SanitizePolicies). */
export function sanitizePolicies(policies: readonly string[]): string[] {
  const names = [...new Set(policies.map((name) => name.trim().toLowerCase()))].filter((name) => name !== "");
  return names.includes(ROOT_POLICY_NAME) ? [ROOT_POLICY_NAME] : names;
}

export const namesRoot = (policies: readonly string[]): boolean =>
  sanitizePolicies(policies).includes(ROOT_POLICY_NAME);
