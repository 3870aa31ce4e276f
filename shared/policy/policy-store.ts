/**
 * Named ACL policies: stored as written (HCL or JSON) under pk "policy/acl", parsed each
 * time they are read from the store and cached parsed.
 *
 * Each process trusts a policy it read for at most ACL_POLICY_CACHE_MS: a change made
 * through another process (another Lambda instance) applies here within that bound, and
 * at once in the process that made it.
 *
 * The ACL built from a set of policies is kept too, with the parsed rules it was built
 * from: it is used again only while every one of those is still the one cached (a write,
 * a delete or a reload replaces them), so it never outlives a policy it came from.
 */
import { CofferError, invalidRequest, isCofferError } from "../errors.ts";
import type { Item, ItemStore } from "../store/item-store.ts";
import { type Acl, type AclRule, buildAcl, type PolicyIdentity, type PolicyStore, ROOT_ACL } from "./acl.ts";
import { DEFAULT_POLICY, DEFAULT_POLICY_NAME } from "./default-policy.ts";
import { fillTemplates, hasTemplates } from "./path-template.ts";
import { type PathRule, parsePolicy } from "./policy-document.ts";

export const ACL_POLICY_CACHE_MS = 5_000;
const CACHE_MAX_ENTRIES = 1_000;
const PARTITION = "policy/acl";
export const ROOT_POLICY_NAME = "root";
const NAME = /^[a-z0-9][a-z0-9_.@-]{0,127}$/;

/** Policy names are case-insensitive, as in Vault: stored and compared in lower case. */
export function policyName(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (!NAME.test(name)) {
    throw invalidRequest(`invalid policy name "${raw}": use up to 128 letters, digits, "-", "_", ".", "@"`);
  }
  return name;
}

interface Cached {
  /** null: no such policy. */
  rules: PathRule[] | null;
  loadedAt: number;
}

const BUILTIN_DEFAULT_RULES = parsePolicy(DEFAULT_POLICY);

interface BuiltAcl {
  /** The rules of each policy it was built from, in order (null: no such policy). */
  from: (PathRule[] | null)[];
  acl: Acl;
}

export function createPolicyStore(store: ItemStore, now: () => number = Date.now): PolicyStore {
  const cache = new Map<string, Cached>();
  const built = new Map<string, BuiltAcl>();
  const key = (name: string) => ({ pk: PARTITION, sk: name });

  function remember(name: string, rules: PathRule[] | null) {
    if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
    cache.set(name, { rules, loadedAt: now() });
  }

  function rulesOf(name: string, item: Item | undefined): PathRule[] | null {
    if (item) {
      try {
        return parsePolicy(String(item.text));
      } catch (error) {
        // Written through write(), so it parsed then: fail closed rather than drop its rules.
        throw new CofferError("ERR_INTERNAL", `stored policy "${name}" no longer parses`, [], {
          cause: error,
        });
      }
    }
    // A store initialized before `default` was written still gives every token Vault's default.
    return name === DEFAULT_POLICY_NAME ? BUILTIN_DEFAULT_RULES : null;
  }

  /** Each policy's rules (null: no such policy), from the store when not cached or too old. */
  async function load(names: readonly string[]): Promise<(PathRule[] | null)[]> {
    const fresh = (name: string) => {
      const cached = cache.get(name);
      return cached && now() - cached.loadedAt < ACL_POLICY_CACHE_MS ? cached : undefined;
    };
    const missing = names.filter((name) => !fresh(name));
    if (missing.length > 0) {
      const items = await store.batchGet(missing.map(key));
      for (const [index, name] of missing.entries()) remember(name, rulesOf(name, items[index]));
    }
    return names.map((name) => cache.get(name)?.rules ?? null);
  }

  function aclOf(policies: readonly (PathRule[] | null)[], identity: PolicyIdentity | undefined): Acl {
    const rules: AclRule[] = [];
    for (const policy of policies) {
      for (const rule of policy ?? []) {
        if (!hasTemplates(rule.path)) {
          rules.push(rule);
          continue;
        }
        const path = fillTemplates(rule.path, identity);
        if (path !== undefined) rules.push({ path, capabilities: rule.capabilities });
      }
    }
    return buildAcl(rules);
  }

  return {
    async acl(policyNames, identity?: PolicyIdentity): Promise<Acl> {
      if (policyNames.includes(ROOT_POLICY_NAME)) return ROOT_ACL;
      const names = [...new Set(policyNames.map((name) => name.toLowerCase()))].filter((name) =>
        NAME.test(name),
      );
      const policies = await load(names);
      // A templated policy grants by identity: its ACL is kept per identity.
      const templated = policies.some((policy) => policy?.some((rule) => hasTemplates(rule.path)));
      const id = templated ? `${names.join(",")}\n${JSON.stringify(identity ?? null)}` : names.join(",");
      const kept = built.get(id);
      if (kept?.from.every((rules, i) => rules === policies[i])) return kept.acl;
      const acl = aclOf(policies, identity);
      if (built.size >= CACHE_MAX_ENTRIES) built.clear();
      built.set(id, { from: policies, acl });
      return acl;
    },

    async read(raw) {
      const name = policyName(raw);
      if (name === ROOT_POLICY_NAME) return undefined;
      const item = await store.get(key(name));
      if (item) return String(item.text);
      return name === DEFAULT_POLICY_NAME ? DEFAULT_POLICY : undefined;
    },

    async write(raw, text) {
      const name = policyName(raw);
      if (name === ROOT_POLICY_NAME) throw invalidRequest('cannot update the "root" policy');
      const rules = parsePolicy(text);
      await store.write([
        { op: "put", item: { ...key(name), text, updated_at: new Date(now()).toISOString() } },
      ]);
      remember(name, rules);
    },

    async delete(raw) {
      const name = policyName(raw);
      if (name === ROOT_POLICY_NAME) throw invalidRequest('cannot delete the "root" policy');
      if (name === DEFAULT_POLICY_NAME) throw invalidRequest('cannot delete the "default" policy');
      await store.write([{ op: "delete", key: key(name) }]);
      remember(name, null);
    },

    async list() {
      const names = new Set([ROOT_POLICY_NAME, DEFAULT_POLICY_NAME]);
      let cursor: string | undefined;
      do {
        const page = await store.query({ pk: PARTITION, cursor });
        for (const item of page.items) names.add(item.sk);
        cursor = page.cursor;
      } while (cursor);
      return [...names].sort();
    },

    async ensureDefault() {
      try {
        await store.write([
          {
            op: "put",
            item: {
              ...key(DEFAULT_POLICY_NAME),
              text: DEFAULT_POLICY,
              updated_at: new Date(now()).toISOString(),
            },
            condition: { exists: false },
          },
        ]);
      } catch (error) {
        if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
      }
    },
  };
}
