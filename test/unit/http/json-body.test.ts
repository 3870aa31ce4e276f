/**
 * The one-pass check of a body's shape against a reference that walks the parsed value:
 * for any JSON (strings full of brackets, quotes and escapes included, any whitespace),
 * it finds exactly the depth and the number of values the parser would build.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonLimitBroken, MAX_JSON_DEPTH, parseJsonObject } from "../../../shared/http/json-body.ts";

/** Nesting of objects and arrays, and object members plus array elements, at any depth. */
function shapeOf(value: unknown): { depth: number; values: number } {
  if (value === null || typeof value !== "object") return { depth: 0, values: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let depth = 0;
  let values = children.length;
  for (const child of children) {
    const inner = shapeOf(child);
    depth = Math.max(depth, inner.depth);
    values += inner.values;
  }
  return { depth: depth + 1, values };
}

const tricky = fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", ":", ",", " ", "a", "é") });
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    tricky,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(tricky, tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("the shape of a body, checked before parsing", () => {
  it("matches the parsed value's depth and number of values exactly", () => {
    fc.assert(
      fc.property(json, fc.constantFrom(undefined, 2, "\t"), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const { depth, values } = shapeOf(value);
        expect(jsonLimitBroken(text, { maxDepth: depth, maxValues: values })).toBeUndefined();
        if (depth > 0) expect(jsonLimitBroken(text, { maxDepth: depth - 1 })).toBe("depth");
        if (values > 0)
          expect(jsonLimitBroken(text, { maxDepth: depth, maxValues: values - 1 })).toBe("values");
      }),
      { numRuns: 500 },
    );
  });

  it("refuses a body nested past the limit, whatever the method's handler reads, with a clear 400", () => {
    const deep = `{"ignored":${"[".repeat(6_000)}${"]".repeat(6_000)}}`;
    expect(() => parseJsonObject(deep)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_REQUEST",
        message: `the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
      }),
    );
    const atLimit = `{"a":${"[".repeat(MAX_JSON_DEPTH - 1)}${"]".repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(Object.keys(parseJsonObject(atLimit))).toEqual(["a"]);
  });
});
