/**
 * Vault's path matching: exact rules, `*` prefix globs, `+` segment wildcards, merging
 * across policies, deny, and the priority order among wildcard rules. Examples from
 * Vault's documentation, then property tests against a deliberately naive reference
 * model (regular expressions and a sort by Vault's ranking).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AclRule, buildAcl, type Capability } from "../../../shared/policy/acl.ts";

const caps = (acl: ReturnType<typeof buildAcl>, path: string, list = false) =>
  [...acl.capabilities(path, { list })].sort();

describe("buildAcl: Vault's examples", () => {
  it("grants nothing by default", () => {
    expect(caps(buildAcl([]), "secret/foo")).toEqual([]);
  });

  it("lets an exact path win over a glob that also matches", () => {
    const acl = buildAcl([
      { path: "secret/*", capabilities: ["read", "list"] },
      { path: "secret/super-secret", capabilities: ["deny"] },
      { path: "secret/foo", capabilities: ["create"] },
    ]);
    expect(caps(acl, "secret/foo")).toEqual(["create"]);
    expect(caps(acl, "secret/super-secret")).toEqual(["deny"]);
    expect(caps(acl, "secret/other")).toEqual(["list", "read"]);
    expect(caps(acl, "secret")).toEqual([]);
  });

  it("matches `*` as any suffix, within a segment or across segments", () => {
    const acl = buildAcl([{ path: "secret/fo*", capabilities: ["read"] }]);
    expect(caps(acl, "secret/foo")).toEqual(["read"]);
    expect(caps(acl, "secret/fo")).toEqual(["read"]);
    expect(caps(acl, "secret/foo/bar/baz")).toEqual(["read"]);
    expect(caps(acl, "secret/f")).toEqual([]);
  });

  it("matches `+` as exactly one segment", () => {
    const acl = buildAcl([{ path: "secret/+/teamb", capabilities: ["read"] }]);
    expect(caps(acl, "secret/foo/teamb")).toEqual(["read"]);
    expect(caps(acl, "secret/bar/teamb")).toEqual(["read"]);
    expect(caps(acl, "secret/foo/bar/teamb")).toEqual([]);
    expect(caps(acl, "secret/foo/teamb/x")).toEqual([]);
  });

  it("combines `+` and `*`", () => {
    const acl = buildAcl([{ path: "secret/+/+/teamb*", capabilities: ["update"] }]);
    expect(caps(acl, "secret/a/b/teamb")).toEqual(["update"]);
    expect(caps(acl, "secret/a/b/teamb-x/y")).toEqual(["update"]);
    expect(caps(acl, "secret/a/teamb")).toEqual([]);
  });

  it("ranks wildcard rules as Vault does", () => {
    // The first wildcard comes later: more specific.
    expect(
      caps(
        buildAcl([
          { path: "secret/+/bar", capabilities: ["read"] },
          { path: "secret/foo/*", capabilities: ["update"] },
        ]),
        "secret/foo/bar",
      ),
    ).toEqual(["update"]);
    // Same position: a rule not ending in * beats one that does.
    expect(
      caps(
        buildAcl([
          { path: "secret/+/bar*", capabilities: ["read"] },
          { path: "secret/+/bar", capabilities: ["update"] },
        ]),
        "secret/foo/bar",
      ),
    ).toEqual(["update"]);
    // Same position and kind: fewer + segments win (secret/* over secret/+/*).
    expect(
      caps(
        buildAcl([
          { path: "secret/+/*", capabilities: ["read"] },
          { path: "secret/*", capabilities: ["update"] },
        ]),
        "secret/foo/bar",
      ),
    ).toEqual(["update"]);
    // Then the longer pattern wins.
    expect(
      caps(
        buildAcl([
          { path: "secret/+/b*", capabilities: ["read"] },
          { path: "secret/+/ba*", capabilities: ["update"] },
        ]),
        "secret/foo/bar",
      ),
    ).toEqual(["update"]);
  });

  it("merges rules on the same path across policies, and a deny there wins", () => {
    const acl = buildAcl([
      { path: "secret/*", capabilities: ["read"] },
      { path: "secret/*", capabilities: ["list", "update"] },
      { path: "kv/*", capabilities: ["read"] },
      { path: "kv/*", capabilities: ["deny"] },
      { path: "kv/*", capabilities: ["update"] },
    ]);
    expect(caps(acl, "secret/a")).toEqual(["list", "read", "update"]);
    expect(caps(acl, "kv/a")).toEqual(["deny"]);
  });

  it("takes only the winning rule: a less specific deny does not apply", () => {
    const acl = buildAcl([
      { path: "secret/*", capabilities: ["deny"] },
      { path: "secret/app/*", capabilities: ["read"] },
    ]);
    expect(caps(acl, "secret/app/db")).toEqual(["read"]);
    expect(caps(acl, "secret/other")).toEqual(["deny"]);
  });

  it("checks a list request with a trailing slash, and lets an exact rule without it apply", () => {
    const acl = buildAcl([
      { path: "secret/metadata/app", capabilities: ["list"] },
      { path: "kv/metadata/*", capabilities: ["list"] },
    ]);
    expect(caps(acl, "secret/metadata/app", true)).toEqual(["list"]);
    expect(caps(acl, "secret/metadata/app/", true)).toEqual(["list"]);
    expect(caps(acl, "secret/metadata/app/")).toEqual([]);
    expect(caps(acl, "kv/metadata", true)).toEqual(["list"]);
  });
});

// ---- reference model -------------------------------------------------------------------

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

interface Candidate {
  first: number;
  prefix: boolean;
  plus: number;
  body: string;
  granted: Set<Capability>;
}

/** A naive reading of Vault's rules: regular expressions, and every match ranked by sorting. */
function reference(rules: AclRule[], requested: string, list: boolean): string[] {
  const merged = new Map<string, Set<Capability>>();
  for (const rule of rules) {
    const set = merged.get(rule.path) ?? new Set<Capability>();
    for (const capability of rule.capabilities) set.add(capability);
    merged.set(rule.path, set);
  }
  const finish = (set: Set<Capability>) => (set.has("deny") ? ["deny"] : [...set].sort());
  const path = list && !requested.endsWith("/") ? `${requested}/` : requested;
  const isExact = (pattern: string) => !pattern.includes("+") && !pattern.endsWith("*");
  for (const candidate of list ? [path, path.slice(0, -1)] : [path]) {
    const exact = merged.get(candidate);
    if (exact && isExact(candidate)) return finish(exact);
  }
  const matches: Candidate[] = [];
  for (const [pattern, granted] of merged) {
    if (isExact(pattern)) continue;
    const prefix = pattern.endsWith("*");
    const body = prefix ? pattern.slice(0, -1) : pattern;
    const regex = new RegExp(
      `^${body
        .split("/")
        .map((segment) => (segment === "+" ? "[^/]*" : escapeRegex(segment)))
        .join("/")}${prefix ? "[\\s\\S]*" : ""}$`,
    );
    if (!regex.test(path)) continue;
    const plus = body.split("/").filter((segment) => segment === "+").length;
    matches.push({
      first: pattern.includes("+") ? pattern.indexOf("+") : body.length,
      prefix,
      plus,
      body,
      granted,
    });
  }
  if (matches.length === 0) return [];
  matches.sort(
    (a, b) =>
      a.first - b.first ||
      Number(b.prefix) - Number(a.prefix) ||
      b.plus - a.plus ||
      a.body.length - b.body.length ||
      (a.body < b.body ? -1 : a.body > b.body ? 1 : 0),
  );
  return finish((matches.at(-1) as Candidate).granted);
}

const segment = fc.constantFrom("a", "b", "ab", "ba", "");
const patternSegment = fc.constantFrom("a", "b", "ab", "+", "+", "");
const capability = fc.constantFrom<Capability>(
  "create",
  "read",
  "update",
  "patch",
  "delete",
  "list",
  "sudo",
  "deny",
);

const pattern = fc
  .tuple(fc.array(patternSegment, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segments, glob]) => `${segments.join("/")}${glob ? "*" : ""}`)
  .filter((text) => text !== "" && !text.includes("+*"));
const rule = fc.record({
  path: pattern,
  capabilities: fc.uniqueArray(capability, { minLength: 0, maxLength: 3 }),
});
const requestPath = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([segments, slash]) => `${segments.join("/")}${slash ? "/" : ""}`);

describe("buildAcl: properties", () => {
  it("agrees with the reference model", () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 12 }), requestPath, fc.boolean(), (rules, path, list) => {
        expect(caps(buildAcl(rules), path, list)).toEqual(reference(rules, path, list));
      }),
      { numRuns: 3000 },
    );
  });

  it("does not depend on the order of rules or policies", () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 10 }), requestPath, fc.nat(), (rules, path, seed) => {
        const shuffled = [...rules].sort(
          (a, b) => ((a.path.length * 31 + seed) % 7) - ((b.path.length * 31 + seed) % 7),
        );
        expect(caps(buildAcl(shuffled), path)).toEqual(caps(buildAcl(rules), path));
      }),
    );
  });

  it("yields exactly [deny] whenever the winning rule denies", () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 10 }), requestPath, (rules, path) => {
        const granted = caps(buildAcl(rules), path);
        if (granted.includes("deny")) expect(granted).toEqual(["deny"]);
      }),
    );
  });

  it("lets an exact rule on the path decide, whatever the wildcards say", () => {
    fc.assert(
      fc.property(
        fc.array(rule, { maxLength: 10 }),
        requestPath.filter((path) => !path.endsWith("/") && !path.includes("+")),
        fc.uniqueArray(capability, { minLength: 1, maxLength: 3 }),
        (rules, path, exact) => {
          const withExact = [
            ...rules.filter((candidate) => candidate.path !== path),
            { path, capabilities: exact },
          ];
          const expected = exact.includes("deny") ? ["deny"] : [...exact].sort();
          expect(caps(buildAcl(withExact), path)).toEqual(expected);
        },
      ),
    );
  });
});
