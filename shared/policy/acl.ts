/**
 * Access control: the capabilities a set of policies grants on a path, with Vault's
 * matching rules.
 *
 * - A path without wildcards matches itself only, and an exact match always wins.
 * - A trailing `*` matches any suffix; `+` matches exactly one path segment.
 * - The rules of every policy on the same path are merged: capabilities add up, and a
 *   `deny` on that path overrides them all.
 * - When several wildcard rules match, the most specific one wins, in Vault's order
 *   (P1 loses to P2 when, in turn): its first `+` or `*` comes earlier; it ends in `*`
 *   and P2 does not; it has more `+` segments; it is shorter; it sorts lower.
 * - Only the winning rule counts: a `deny` there yields nothing but "deny".
 *
 * The "root" policy grants everything.
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

export interface CapabilityQuery {
  /**
   * A list request: as in Vault, the path is taken with a trailing slash, and an exact
   * rule written without the slash also applies.
   */
  list?: boolean;
}

export interface Acl {
  /** The granted capabilities on `path`; a "deny" in the winning rule yields only ["deny"]. */
  capabilities(path: string, query?: CapabilityQuery): ReadonlySet<Capability>;
  /** True for the root policy's ACL, which grants everything everywhere. */
  readonly root?: boolean;
  /**
   * Whether any rule grants something (other than deny) at or below `prefix`: the check
   * Vault makes before telling a token which mount serves a path (sys/internal/ui/mounts).
   */
  grantsAnyUnder(prefix: string): boolean;
}

/** Identity facts that templated policy paths may refer to. */
export interface PolicyIdentity {
  /** Alias metadata per auth mount accessor, e.g. service_account_namespace. */
  aliases: Record<string, Record<string, string>>;
  /** Alias name per auth mount accessor. */
  aliasNames?: Record<string, string>;
  entityId?: string;
}

export interface PolicyStore {
  acl(policyNames: readonly string[], identity?: PolicyIdentity): Promise<Acl>;
  /** The policy text as written, or undefined when there is none by that name. */
  read(name: string): Promise<string | undefined>;
  /** Parses and stores a policy; throws ERR_INVALID_REQUEST with the reason when it does not parse. */
  write(name: string, text: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Every policy name, "root" included, sorted. */
  list(): Promise<string[]>;
  /** Stores the built-in `default` policy unless one is already stored. */
  ensureDefault(): Promise<void>;
}

/** One path rule of a policy, after templating. */
export interface AclRule {
  path: string;
  capabilities: readonly Capability[];
}

const DENY_ONLY: ReadonlySet<Capability> = new Set<Capability>(["deny"]);
const NOTHING: ReadonlySet<Capability> = new Set<Capability>();

export const ROOT_ACL: Acl = {
  capabilities: () => new Set(ALL_CAPABILITIES),
  root: true,
  grantsAnyUnder: () => true,
};

/** How a wildcard rule ranks against another; compared field by field, as listed. */
interface Specificity {
  /** Position of the first `+` (or of the `*` for plain prefix rules): later is more specific. */
  firstWildcard: number;
  /** Ends in `*`: less specific than a rule that does not. */
  isPrefix: boolean;
  /** Number of `+` segments: fewer is more specific. */
  wildcards: number;
  /** The pattern without its trailing `*`: longer, then lexically greater, is more specific. */
  pattern: string;
}

interface WildcardRule extends Specificity {
  /** The segments of `pattern`. */
  segments: string[];
  granted: ReadonlySet<Capability>;
}

/** Whether `a` loses to `b`. */
export function lessSpecific(a: Specificity, b: Specificity): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix;
  if (a.wildcards !== b.wildcards) return a.wildcards > b.wildcards;
  if (a.pattern.length !== b.pattern.length) return a.pattern.length < b.pattern.length;
  return a.pattern < b.pattern;
}

function mergeCapabilities(rules: Iterable<AclRule>): Map<string, ReadonlySet<Capability>> {
  const merged = new Map<string, Set<Capability>>();
  for (const rule of rules) {
    const existing = merged.get(rule.path);
    if (existing?.has("deny")) continue;
    if (rule.capabilities.includes("deny")) {
      merged.set(rule.path, new Set(["deny"]));
      continue;
    }
    const set = existing ?? new Set<Capability>();
    for (const capability of rule.capabilities) set.add(capability);
    merged.set(rule.path, set);
  }
  return merged;
}

function segmentRule(path: string, granted: ReadonlySet<Capability>): WildcardRule {
  const isPrefix = path.endsWith("*");
  const pattern = isPrefix ? path.slice(0, -1) : path;
  const segments = pattern.split("/");
  return {
    firstWildcard: path.indexOf("+"),
    isPrefix,
    wildcards: segments.filter((segment) => segment === "+").length,
    pattern,
    segments,
    granted,
  };
}

function matchesSegments(rule: WildcardRule, parts: readonly string[]): boolean {
  const { segments, isPrefix } = rule;
  if (parts.length < segments.length) return false;
  if (!isPrefix && parts.length !== segments.length) return false;
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const segment = segments[i] as string;
    const part = parts[i] as string;
    if (segment === "+" || segment === part) continue;
    if (isPrefix && i === last && part.startsWith(segment)) continue;
    return false;
  }
  return true;
}

/** The ACL of a set of rules (already templated), from one or many policies. */
export function buildAcl(rules: Iterable<AclRule>): Acl {
  const exact = new Map<string, ReadonlySet<Capability>>();
  const prefixes: WildcardRule[] = [];
  const segmentRules: WildcardRule[] = [];
  for (const [path, granted] of mergeCapabilities(rules)) {
    if (path.includes("+")) {
      segmentRules.push(segmentRule(path, granted));
    } else if (path.endsWith("*")) {
      const pattern = path.slice(0, -1);
      prefixes.push({
        firstWildcard: pattern.length,
        isPrefix: true,
        wildcards: 0,
        pattern,
        segments: [],
        granted,
      });
    } else exact.set(path, granted);
  }
  // Longest first: the first prefix that matches is the longest, as in a radix tree.
  prefixes.sort((a, b) => b.pattern.length - a.pattern.length);

  function winner(path: string): WildcardRule | undefined {
    let best = prefixes.find((rule) => path.startsWith(rule.pattern));
    if (segmentRules.length === 0) return best;
    const parts = path.split("/");
    for (const rule of segmentRules) {
      if (!matchesSegments(rule, parts)) continue;
      if (!best || lessSpecific(best, rule)) best = rule;
    }
    return best;
  }

  return {
    capabilities(requested, query = {}) {
      let path = requested;
      if (query.list && !path.endsWith("/")) path = `${path}/`;
      const granted =
        exact.get(path) ?? (query.list ? exact.get(path.slice(0, -1)) : undefined) ?? winner(path)?.granted;
      if (!granted) return NOTHING;
      return granted.has("deny") ? DENY_ONLY : granted;
    },

    grantsAnyUnder(prefix) {
      const usable = (granted: ReadonlySet<Capability>) => granted.size > 0 && !granted.has("deny");
      for (const [path, granted] of exact) if (usable(granted) && path.startsWith(prefix)) return true;
      for (const rule of prefixes) {
        if (usable(rule.granted) && (rule.pattern.startsWith(prefix) || prefix.startsWith(rule.pattern)))
          return true;
      }
      // A `+` rule may reach below the prefix when its literal part before the first
      // wildcard and the prefix agree as far as both go.
      for (const rule of segmentRules) {
        const literal = rule.pattern.slice(0, rule.firstWildcard);
        if (usable(rule.granted) && (literal.startsWith(prefix) || prefix.startsWith(literal))) return true;
      }
      return false;
    },
  };
}
