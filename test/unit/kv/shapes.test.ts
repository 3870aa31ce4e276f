/**
 * The pure pieces: JSON merge patch (RFC 7396's examples), Go-style durations, and the
 * limits fitting DynamoDB's item size with the envelope.
 */
import { describe, expect, it } from "vitest";
import { ENVELOPE_OVERHEAD_BYTES } from "../../../shared/crypto/envelope.ts";
import { goDuration } from "../../../shared/engines/kv/describe.ts";
import { checkShape, MAX_SECRET_BYTES, MAX_SECRET_PATH_BYTES } from "../../../shared/engines/kv/limits.ts";
import { mergePatch } from "../../../shared/engines/kv/merge-patch.ts";
import { secretPk, versionSk } from "../../../shared/engines/kv/storage.ts";
import { itemSize, MAX_ITEM_BYTES } from "../../../shared/store/item-size.ts";

describe("mergePatch", () => {
  const examples: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of examples) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      expect(mergePatch(target, patch)).toEqual(result);
    });
  }

  it("keeps a __proto__ key an ordinary key", () => {
    const patched = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}')) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(Object.keys(patched)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("does not change its inputs", () => {
    const target = { a: { b: 1 } };
    mergePatch(target, { a: { b: null } });
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe("goDuration", () => {
  it("prints seconds as Go's time.Duration does", () => {
    expect([0, 45, 60, 90, 3600, 12_319, 90_061, -1].map(goDuration)).toEqual([
      "0s",
      "45s",
      "1m0s",
      "1m30s",
      "1h0m0s",
      "3h25m19s",
      "25h1m1s",
      "-1s",
    ]);
  });
});

describe("limits", () => {
  it("fit the largest version item within DynamoDB's item limit", () => {
    const item = {
      pk: secretPk(crypto.randomUUID(), "p".repeat(MAX_SECRET_PATH_BYTES)),
      sk: versionSk(4_000_000_000),
      envelope: new Uint8Array(MAX_SECRET_BYTES + ENVELOPE_OVERHEAD_BYTES),
    };
    expect(itemSize(item)).toBeLessThan(MAX_ITEM_BYTES);
  });

  it("checks nesting without recursion, however deep the document", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(() => checkShape(deep, "data")).toThrow(/deeper than the limit/);
  });
});
