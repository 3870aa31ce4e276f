/**
 * Access control: the capabilities a set of policies grants on a path.
 *
 * The "root" policy grants everything. Named ACL policies (Vault's path rules, globs,
 * templating and the policy endpoints) are resolved by the PolicyStore.
 */
export type Capability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

export const ALL_CAPABILITIES: readonly Capability[] = [
  "create",
  "read",
  "update",
  "patch",
  "delete",
  "list",
  "sudo",
];

export interface Acl {
  /** The granted capabilities on `path`; a "deny" anywhere yields only ["deny"]. */
  capabilities(path: string): ReadonlySet<Capability>;
}

/** Identity facts that templated policy paths may refer to. */
export interface PolicyIdentity {
  /** Alias metadata per auth mount accessor, e.g. service_account_namespace. */
  aliases: Record<string, Record<string, string>>;
}

export interface PolicyStore {
  acl(policyNames: readonly string[], identity?: PolicyIdentity): Promise<Acl>;
}

const ROOT_ACL: Acl = { capabilities: () => new Set(ALL_CAPABILITIES) };
const EMPTY_ACL: Acl = { capabilities: () => new Set() };

/** The policy store of a broker that knows only the root policy. */
export const rootOnlyPolicies: PolicyStore = {
  async acl(policyNames) {
    return policyNames.includes("root") ? ROOT_ACL : EMPTY_ACL;
  },
};
