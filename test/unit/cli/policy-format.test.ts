/**
 * `coffer policy fmt`: whatever the layout of a valid HCL policy, the formatted text means
 * the same rules to the server's parser, keeps every comment, and formatting it again
 * changes nothing. And the vault CLI's durations, which the tables print.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LocalError } from "../../../cli/commands/exit-codes.ts";
import { humanDuration } from "../../../cli/commands/output.ts";
import { formatPolicy } from "../../../cli/commands/policy-format.ts";
import { parsePolicy } from "../../../shared/policy/policy-document.ts";

const space = fc.constantFrom("", " ", "  ", "\n", "\n\n", " \n\t");
const comment = fc.constantFrom("# a note", "// another", "/* a block */", "/* two\n   lines */", "#");

/** Text pieces joined by random layout; a line comment always ends its line. */
function layout(pieces: (string | { comment: string })[], gaps: string[]): string {
  return pieces
    .map((piece, index) => {
      const gap = gaps[index % gaps.length] ?? " ";
      if (typeof piece === "string") return piece + gap;
      return ` ${piece.comment}\n${gap}`;
    })
    .join("");
}

const attribute = fc.oneof(
  fc
    .record({
      capabilities: fc.uniqueArray(fc.constantFrom("create", "read", "update", "delete", "list", "sudo"), {
        minLength: 1,
        maxLength: 4,
      }),
      trailingComma: fc.boolean(),
      note: fc.option(comment, { nil: undefined }),
    })
    .map(({ capabilities, trailingComma, note }) => [
      "capabilities",
      "=",
      "[",
      ...capabilities.flatMap((capability, index) => [
        `"${capability}"`,
        ...(index < capabilities.length - 1 || trailingComma ? [","] : []),
        ...(note && index === 0 ? [{ comment: note }] : []),
      ]),
      "]",
    ]),
  fc.constantFrom("deny", "read", "write").map((shorthand) => ["policy", "=", `"${shorthand}"`]),
);

const block = fc
  .record({
    path: fc.constantFrom("secret/data/app/*", "secret/+/x", "auth/token/lookup-self", "kv/a b/c"),
    attributes: fc.array(attribute, { minLength: 1, maxLength: 2 }),
    lead: fc.option(comment, { nil: undefined }),
    trailing: fc.option(comment, { nil: undefined }),
  })
  .filter(({ attributes }) => new Set(attributes.map((pieces) => pieces[0])).size === attributes.length)
  .map(({ path, attributes, lead, trailing }) => [
    ...(lead ? [{ comment: lead }] : []),
    "path",
    `"${path}"`,
    "{",
    ...attributes.flatMap((pieces, index) => [
      ...pieces,
      ...(index === 0 && trailing ? [{ comment: trailing }] : []),
    ]),
    "}",
  ]);

const policy = fc
  .record({
    blocks: fc.array(block, { minLength: 1, maxLength: 3 }),
    gaps: fc.array(space, { minLength: 1 }),
  })
  .map(({ blocks, gaps }) => layout(blocks.flat(), gaps));

/** The comments of a policy, read past its strings (a path may hold "/*"). */
const commentsOf = (text: string) =>
  (text.match(/"(?:[^"\\]|\\.)*"|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\//g) ?? []).filter(
    (match) => !match.startsWith('"'),
  );

describe("coffer policy fmt", () => {
  it("keeps the rules and the comments, and is stable", () => {
    fc.assert(
      fc.property(policy, (text) => {
        const formatted = formatPolicy(text, "p.hcl");
        expect(parsePolicy(formatted)).toEqual(parsePolicy(text));
        expect(commentsOf(formatted).map((c) => c.trimEnd())).toEqual(
          commentsOf(text).map((c) => c.trimEnd()),
        );
        expect(formatPolicy(formatted, "p.hcl")).toBe(formatted);
      }),
      { numRuns: 300 },
    );
  });

  it("lays a policy out as HCL's printer does", () => {
    expect(
      formatPolicy(
        'path "a/*" {capabilities=["read","list"]\npolicy="read"}path "b" {\n policy = "deny" }',
        "p.hcl",
      ),
    ).toBe(
      'path "a/*" {\n  capabilities = ["read", "list"]\n  policy       = "read"\n}\n\npath "b" {\n  policy = "deny"\n}\n',
    );
  });

  it("adds no blank line after a comment that ends on a later line", () => {
    expect(formatPolicy('path "a" { policy = "read" /* two\n lines */\n}', "p.hcl")).toBe(
      'path "a" {\n  policy = "read" /* two\n lines */\n}\n',
    );
  });

  it("refuses what the server would refuse, JSON, and comments it cannot place", () => {
    expect(() => formatPolicy('path "a" { capabilities = ["fly"] }', "p.hcl")).toThrow(LocalError);
    expect(() => formatPolicy('{"path": {"a": {"capabilities": ["read"]}}}', "p.json")).toThrow(
      "p.json is a JSON policy: policy fmt formats HCL",
    );
    expect(() => formatPolicy('path /* here */ "a" { policy = "read" }', "p.hcl")).toThrow(
      "p.hcl: line 1: cannot format a comment inside a path line or an attribute",
    );
  });
});

describe("durations in tables", () => {
  it("prints seconds as the vault CLI does", () => {
    expect([0, 45, 60, 90, 3600, 3601, 5400, 86_400, 2_764_800].map(humanDuration)).toEqual([
      "0s",
      "45s",
      "1m",
      "1m30s",
      "1h",
      "1h1s",
      "1h30m",
      "24h",
      "768h",
    ]);
  });
});
