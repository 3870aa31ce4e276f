import { describe, expect, it } from "vitest";
import {
  canonicalEncode,
  fromBase64,
  fromBase64Url,
  toBase64,
  toBase64Url,
  toHex,
} from "../../../shared/crypto/encoding.ts";

const hex = (bytes: Uint8Array) => toHex(bytes);

describe("canonicalEncode", () => {
  it("length-prefixes keys and values", () => {
    expect(hex(canonicalEncode({ a: "bc" }))).toBe("00000001" + "00000001" + "61" + "00000002" + "6263");
    expect(hex(canonicalEncode({}))).toBe("00000000");
  });

  it("is injective where naive concatenation is not", () => {
    const distinct: Record<string, string>[] = [
      { a: "bc" },
      { ab: "c" },
      { abc: "" },
      { "": "abc" },
      { a: "b", c: "" },
      { a: "", bc: "" },
    ];
    const encodings = new Set(distinct.map((map) => hex(canonicalEncode(map))));
    expect(encodings.size).toBe(distinct.length);
  });

  it("ignores insertion order and sorts by UTF-8 bytes", () => {
    expect(hex(canonicalEncode({ b: "2", a: "1" }))).toBe(hex(canonicalEncode({ a: "1", b: "2" })));
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+FF21; UTF-8 bytes do not.
    const encoded = canonicalEncode({ "\u{1F600}": "x", "\uFF21": "y" });
    const firstKey = new TextDecoder().decode(
      encoded.subarray(8, 8 + new DataView(encoded.buffer).getUint32(4)),
    );
    expect(firstKey).toBe("\uFF21");
  });

  it("encodes values as UTF-8", () => {
    expect(hex(canonicalEncode({ k: "é" }))).toBe("00000001" + "00000001" + "6b" + "00000002" + "c3a9");
  });
});

describe("base64", () => {
  const samples = [new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(0xfb, 0xff), Uint8Array.of(1, 2, 3, 4)];

  it("matches Node's encoders", () => {
    for (const bytes of samples) {
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      expect(toBase64Url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
      expect(Array.from(fromBase64(toBase64(bytes)))).toEqual(Array.from(bytes));
      expect(Array.from(fromBase64Url(toBase64Url(bytes)))).toEqual(Array.from(bytes));
    }
    const large = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 256);
    expect(toBase64(large)).toBe(Buffer.from(large).toString("base64"));
  });

  it.each(["A", "AB", "AB=", "A===", "AB==AB==", "AB C", "AB+/-_==", "AB!=", "AR=="])(
    "rejects %j as base64",
    (text) => {
      expect(() => fromBase64(text)).toThrow(TypeError);
    },
  );

  it.each(["A", "AB==", "AB+/", "AB C", "AR"])("rejects %j as base64url", (text) => {
    expect(() => fromBase64Url(text)).toThrow(TypeError);
  });
});
