import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { numberSize, utf8Length } from "../../../shared/store/item-size.ts";

// The definitions the fast paths must agree with: the encoder's byte count, and DynamoDB's
// number size from the decimal mantissa (one byte per two significant digits, plus one).
const encodedLength = (text: string) => new TextEncoder().encode(text).byteLength;
function formattedNumberSize(value: number): number {
  const mantissa = Math.abs(value).toExponential().split("e")[0]?.replace(".", "") ?? "";
  return Math.ceil((mantissa.replace(/0+$/, "").length || 1) / 2) + 1;
}

describe("utf8Length", () => {
  it("counts what the encoder writes, lone surrogates included", () => {
    for (const text of [
      "",
      "abc",
      "é",
      "€",
      "😀",
      "a😀b",
      "\ud800",
      "\udc00",
      "x\ud800y",
      "\ud800\ud800\udc00",
    ]) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(encodedLength(text));
    }
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => utf8Length(text) === encodedLength(text)),
      { numRuns: 2000 },
    );
  });
});

describe("numberSize", () => {
  it("agrees with the size of the decimal mantissa for integers and fractions", () => {
    for (const value of [
      0,
      -0,
      1,
      -1,
      9,
      10,
      100,
      12_345,
      1_000_000,
      1_765_432_100_000,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      0.5,
      1.25,
      -3.75e-7,
    ]) {
      expect(numberSize(value), String(value)).toBe(formattedNumberSize(value));
    }
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => numberSize(value) === formattedNumberSize(value)),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(
        fc
          .double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })
          .filter((v) => v === 0 || Math.abs(v) > 1e-130),
        (value) => numberSize(value) === formattedNumberSize(value),
      ),
      { numRuns: 5000 },
    );
  });
});
