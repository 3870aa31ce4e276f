/**
 * The JSON reader behind JSON policies: the same values as JSON.parse for any JSON, with
 * repeated keys kept in order, and nothing accepted that JSON.parse refuses.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isJsonEntries, type JsonTree, parseJsonEntries } from "../../../shared/policy/json-entries.ts";

/** What JSON.parse makes of the same text (the last of repeated keys wins). */
function plain(tree: JsonTree): unknown {
  if (Array.isArray(tree)) return tree.map(plain);
  if (isJsonEntries(tree)) {
    const object: Record<string, unknown> = {};
    for (const [key, value] of tree.entries)
      Object.defineProperty(object, key, {
        value: plain(value),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    return object;
  }
  return tree;
}

describe("parseJsonEntries", () => {
  it("reads any JSON as JSON.parse does, however it is spaced", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 2, "\t"), (value, space) => {
        const text = ` ${JSON.stringify(value, null, space)}\n`;
        expect(plain(parseJsonEntries(text, 10))).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps repeated keys in order, at every level", () => {
    const tree = parseJsonEntries('{"a": 1, "b": {"x": [true, null], "x": "\\u00e9\\"}"}, "a": -2.5e3}', 10);
    expect(tree).toEqual({
      entries: [
        ["a", 1],
        [
          "b",
          {
            entries: [
              ["x", [true, null]],
              ["x", 'é"}'],
            ],
          },
        ],
        ["a", -2500],
      ],
    });
  });

  it("refuses what is not JSON, and nesting beyond its bound", () => {
    for (const text of ["", "{", '{"a" 1}', "[1,]", "{'a': 1}", '"\\x"', "01", "{} {}"]) {
      expect(() => parseJsonEntries(text, 10), text).toThrow(SyntaxError);
    }
    expect(() => parseJsonEntries("[[[]]]", 2)).toThrow(RangeError);
    expect(parseJsonEntries("[[]]", 2)).toEqual([[]]);
    expect(() => parseJsonEntries(`${"[".repeat(100_000)}${"]".repeat(100_000)}`, 8)).toThrow(RangeError);
  });
});
