/**
 * Policy texts as `vault policy write` sends them (HCL) and as JSON; everything outside
 * the subset ACL policies use is refused with a 400 that says what and where.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildAcl } from "../../../shared/policy/acl.ts";
import { DEFAULT_POLICY } from "../../../shared/policy/default-policy.ts";
import { MAX_POLICY_BYTES, type PathRule, parsePolicy } from "../../../shared/policy/policy-document.ts";

const refused = (text: string, fragment: string) =>
  expect(() => parsePolicy(text)).toThrowError(
    expect.objectContaining({ code: "ERR_INVALID_REQUEST", message: expect.stringContaining(fragment) }),
  );

describe("parsePolicy", () => {
  it("reads HCL with every comment style, one-line blocks and trailing commas", () => {
    const rules = parsePolicy(`
      # Read the app's secrets
      path "secret/data/app/*" {
        capabilities = ["read", "list",]   // trailing comma
      }
      /* a block
         comment */
      path "/sys/capabilities-self" { capabilities = ["update"] }
      path "secret/data/app/admin" {
        capabilities = ["deny"]
      }
    `);
    expect(rules).toEqual([
      { path: "secret/data/app/*", capabilities: ["read", "list"] },
      { path: "sys/capabilities-self", capabilities: ["update"] },
      { path: "secret/data/app/admin", capabilities: ["deny"] },
    ]);
  });

  it("reads the JSON form, with path as an object or as a list of objects", () => {
    expect(parsePolicy('{"path": {"secret/*": {"capabilities": ["read"]}}}')).toEqual([
      { path: "secret/*", capabilities: ["read"] },
    ]);
    expect(
      parsePolicy(
        '{"path": [{"a/*": {"capabilities": ["read"]}}, {"b": {"capabilities": ["update", "deny"]}}]}',
      ),
    ).toEqual([
      { path: "a/*", capabilities: ["read"] },
      { path: "b", capabilities: ["deny"] },
    ]);
  });

  it("accepts Vault's older policy shorthand, alone or with capabilities", () => {
    expect(parsePolicy('path "a" { policy = "read" }')).toEqual([
      { path: "a", capabilities: ["read", "list"] },
    ]);
    expect(
      parsePolicy('path "a" { policy = "write" capabilities = ["sudo"] }')[0]?.capabilities.sort(),
    ).toEqual(["create", "delete", "list", "read", "sudo", "update"]);
    expect(parsePolicy('path "a" { policy = "deny" }')).toEqual([{ path: "a", capabilities: ["deny"] }]);
  });

  it("parses the default policy and an empty policy", () => {
    expect(parsePolicy(DEFAULT_POLICY).map((rule) => rule.path)).toContain("auth/token/lookup-self");
    expect(parsePolicy("  # nothing here\n")).toEqual([]);
  });

  it("keeps escapes and identity templates in paths", () => {
    expect(
      parsePolicy(
        'path "secret/data/{{identity.entity.aliases.auth_kubernetes_1234.metadata.service_account_namespace}}/*" { capabilities = ["read"] }',
      )[0]?.path,
    ).toBe(
      "secret/data/{{identity.entity.aliases.auth_kubernetes_1234.metadata.service_account_namespace}}/*",
    );
    expect(parsePolicy('path "a\\"b" { capabilities = [] }')).toEqual([{ path: 'a"b', capabilities: [] }]);
  });

  it("refuses what ACL policies do not use, naming it", () => {
    refused(
      'path "a" { capabilities = ["read"] allowed_parameters = { "x" = [] } }',
      '"allowed_parameters" is not supported',
    );
    refused(
      'path "a" { capabilities = ["read"] min_wrapping_ttl = "1h" }',
      '"min_wrapping_ttl" is not supported',
    );
    refused('path "a" { capabilities = ["read"] colour = "blue" }', 'unknown field "colour"');
    refused(
      '{"path": {"a": {"capabilities": ["read"], "required_parameters": ["x"]}}}',
      '"required_parameters" is not supported',
    );
    refused('name = "x"\npath "a" { capabilities = ["read"] }', 'line 1: unexpected "name"');
  });

  it("refuses malformed HCL with the line of the problem", () => {
    refused('path "a" {\n  capabilities = ["read"\n', "line 2");
    refused('path "a" {\n  capabilities = ["read"]\n', "expected an attribute or }");
    refused('path a { capabilities = ["read"] }', "expected a quoted path");
    refused('path "a" { capabilities = ["read"] }\n/* open', "line 2: unterminated /* comment");
    refused('path "a" { capabilities = ["re\nad"] }', "unterminated string");
    refused('path "a" { capabilities = ["read"] ; }', 'unexpected character ";"');
    refused('path "a" { capabilities = "read" }', '"capabilities" must be a list');
    refused('path "a" { capabilities = ["read"] capabilities = ["list"] }', "set twice");
  });

  it("refuses unknown capabilities, an empty or wildcard-abusing path, and a missing capabilities list", () => {
    refused('path "a" { capabilities = ["reed"] }', 'unknown capability "reed"');
    refused('path "" { capabilities = ["read"] }', "the path must not be empty");
    refused('path "a/+*" { capabilities = ["read"] }', '"+*" is not allowed');
    refused('path "a" { }', 'set "capabilities"');
    refused('path "a" { policy = "admin" }', '"policy" must be one of deny, read, write, sudo');
    refused('path "a\\u0001" { capabilities = ["read"] }', "unsupported escape");
  });

  it("refuses bad JSON documents", () => {
    refused("{not json", "not valid JSON");
    refused('{"paths": {}}', 'unknown key "paths"');
    refused('{"path": "a"}', '"path" must map paths to rules');
    refused('{"path": {"a": []}}', "expected an object");
  });

  it("refuses unsupported templates and unbalanced braces", () => {
    refused('path "secret/{{identity.groups.names}}/*" { capabilities = ["read"] }', "unsupported template");
    refused('path "secret/{{identity.entity.id" { capabilities = ["read"] }', "unbalanced template braces");
  });

  it("refuses oversized policies", () => {
    refused(`# ${"x".repeat(MAX_POLICY_BYTES)}`, `exceeds the limit of ${MAX_POLICY_BYTES} bytes`);
  });

  it("merges rules repeated for one path in JSON as in HCL: a deny among them wins", () => {
    const hcl = 'path "a" { capabilities = ["deny"] }\npath "a" { capabilities = ["read"] }';
    const json = '{"path": {"a": {"capabilities": ["deny"]}, "a": {"capabilities": ["read"]}}}';
    for (const text of [hcl, json]) {
      expect(parsePolicy(text), text).toEqual([
        { path: "a", capabilities: ["deny"] },
        { path: "a", capabilities: ["read"] },
      ]);
      expect([...buildAcl(parsePolicy(text)).capabilities("a")], text).toEqual(["deny"]);
    }
    const twoPathKeys =
      '{"path": {"a": {"capabilities": ["read"]}}, "path": {"a": {"capabilities": ["list"]}}}';
    expect([...buildAcl(parsePolicy(twoPathKeys)).capabilities("a")].sort()).toEqual(["list", "read"]);
    refused(
      '{"path": {"a": {"capabilities": ["read"], "capabilities": ["deny"]}}}',
      '"capabilities" is set twice',
    );
    refused(`{"path": {"a": {"capabilities": ${"[".repeat(10)}${"]".repeat(10)}}}}`, "nested too deeply");
  });
});

/** A rule as written: its fields in order, possibly one set twice. */
interface WrittenRule {
  path: string;
  fields: (["capabilities", string[]] | ["policy", string])[];
}

const writtenRule = fc.record({
  path: fc
    .array(fc.constantFrom("a", "b", "secret", "+", "x y", 'q"t'), { minLength: 1, maxLength: 3 })
    .chain((segments) =>
      fc.constantFrom(segments.join("/"), `${segments.join("/")}*`, `/${segments.join("/")}`),
    ),
  fields: fc.array(
    fc.oneof(
      fc.tuple(
        fc.constant("capabilities"),
        fc.array(fc.constantFrom("create", "read", "update", "delete", "list", "sudo", "deny"), {
          maxLength: 3,
        }),
      ),
      fc.tuple(fc.constant("policy"), fc.constantFrom("deny", "read", "write", "sudo")),
    ),
    { minLength: 1, maxLength: 3 },
  ),
}) as fc.Arbitrary<WrittenRule>;

const quoted = (text: string) => JSON.stringify(text);
const value = (field: string | string[]) =>
  Array.isArray(field) ? `[${field.map(quoted).join(", ")}]` : quoted(field);

function asHcl(rules: WrittenRule[]): string {
  return rules
    .map(
      (rule) =>
        `path ${quoted(rule.path)} {\n${rule.fields.map(([name, v]) => `  ${name} = ${value(v)}\n`).join("")}}\n`,
    )
    .join("");
}

/** JSON with `rules` cut into groups at `cuts`: one map, a list of maps, or "path" repeated. */
function asJson(rules: WrittenRule[], cuts: number[], form: "map" | "list" | "repeated"): string {
  const body = (rule: WrittenRule) =>
    `{${rule.fields.map(([name, v]) => `${quoted(name)}: ${value(v)}`).join(", ")}}`;
  const map = (group: WrittenRule[]) =>
    `{${group.map((rule) => `${quoted(rule.path)}: ${body(rule)}`).join(", ")}}`;
  const at = [...new Set(cuts.map((cut) => cut % (rules.length + 1)))].sort((a, b) => a - b);
  const groups = [0, ...at].map((start, i) => rules.slice(start, at[i] ?? rules.length));
  if (form === "map") return `{"path": ${map(rules)}}`;
  if (form === "list") return `{"path": [${groups.map(map).join(", ")}]}`;
  return `{${groups.map((group) => `"path": ${map(group)}`).join(", ")}}`;
}

/** The rules of `text`, or the reason it was refused. */
function outcome(text: string): PathRule[] | string {
  try {
    return parsePolicy(text);
  } catch (error) {
    return (error as Error).message.replace(/^failed to parse policy at line \d+: /, "");
  }
}

describe("HCL and JSON policies", () => {
  it("never disagree: the same rules, the same capabilities, or the same refusal", () => {
    fc.assert(
      fc.property(
        fc.array(writtenRule, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.constantFrom<"map" | "list" | "repeated">("map", "list", "repeated"),
        (rules, cuts, form) => {
          const fromHcl = outcome(asHcl(rules));
          const fromJson = outcome(asJson(rules, cuts, form));
          expect(fromJson).toEqual(fromHcl);
          if (typeof fromHcl === "string") return;
          const hclAcl = buildAcl(fromHcl);
          const jsonAcl = buildAcl(fromJson as PathRule[]);
          for (const rule of fromHcl) {
            const path = rule.path.replace(/\*$/, "z").replaceAll("+", "p");
            expect([...jsonAcl.capabilities(path)].sort()).toEqual([...hclAcl.capabilities(path)].sort());
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
