import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../shared/crypto/encoding.ts";
import { webSymmetricCrypto } from "../../../shared/crypto/symmetric.ts";
import { canonicalItem, checkItemMac, itemMac, MAC_ATTRIBUTE } from "../../../shared/store/item-mac.ts";
import type { AttributeValue, Item } from "../../../shared/store/item-store.ts";

const key = webSymmetricCrypto.hmacKey(new Uint8Array(32).fill(7));
const encoded = (item: Item) => toHex(canonicalItem(item));

const attributeValue: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom("", "1", "a", "ab", "b", "é"),
    fc.constantFrom(0, -0, 1, 10, 1.5, -1),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(new Uint8Array(), new Uint8Array([0x31]), new Uint8Array([0x61, 0x62])),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "ab", "b", "é", "😀", "\uff5e"), tie("value"), { maxKeys: 3 }),
  ),
})).value;

const item: fc.Arbitrary<Item> = fc
  .record({
    pk: fc.constantFrom("p", "pa", "a"),
    sk: fc.constantFrom("s", "ps", "a"),
    attributes: fc.dictionary(fc.constantFrom("a", "ab", "b", "pk1", "n"), attributeValue, { maxKeys: 3 }),
  })
  .map(({ pk, sk, attributes }) => ({ ...attributes, pk, sk }));

/** What a store gives back for a value: -0 comes back as 0. */
const stored = (value: unknown): unknown => {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(stored);
  if (value instanceof Uint8Array) return value;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, stored(inner)]));
  }
  return value;
};

/**
 * Reads the encoding back, refusing anything left over: an encoding that can be decoded
 * is injective, so no two different items share one (nor, therefore, a MAC).
 */
function decode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  let at = 0;
  const count = () => {
    at += 4;
    return view.getUint32(at - 4);
  };
  const chunk = () => {
    const length = count();
    if (at + length > bytes.length) throw new Error("truncated");
    at += length;
    return bytes.slice(at - length, at);
  };
  const value = (): unknown => {
    const tag = String.fromCharCode(bytes[at++]!);
    if (tag === "S") return text.decode(chunk());
    if (tag === "N") return Number(text.decode(chunk()));
    if (tag === "B") return chunk();
    if (tag === "T" || tag === "F") return tag === "T";
    if (tag === "Z") return null;
    if (tag === "L") return Array.from({ length: count() }, value);
    if (tag !== "M") throw new Error(`unknown tag ${tag}`);
    const entries: [string, unknown][] = [];
    for (let n = count(); n > 0; n--) entries.push([text.decode(chunk()), value()]);
    return Object.fromEntries(entries);
  };
  const decoded = value();
  if (at !== bytes.length) throw new Error("trailing bytes");
  return decoded;
}

describe("the canonical encoding of an item", () => {
  it("decodes back to the item as a store holds it, so it is injective", () => {
    fc.assert(
      fc.property(item, (any) => {
        expect(decode(canonicalItem(any))).toStrictEqual(stored(any));
      }),
      { numRuns: 2000 },
    );
  });

  it("does not depend on the order of attributes or map entries", () => {
    const one: Item = { pk: "p", sk: "s", b: 1, a: { y: [1], x: "2" } };
    const other: Item = { a: { x: "2", y: [1] }, sk: "s", b: 1, pk: "p" };
    expect(encoded(one)).toBe(encoded(other));
  });

  it("leaves out undefined attributes and list elements, as stores do, and the MAC", () => {
    const plain: Item = { pk: "p", sk: "s", list: [1, 2] };
    const holey = { pk: "p", sk: "s", gone: undefined, list: [1, undefined, 2], [MAC_ATTRIBUTE]: "x" };
    expect(encoded(holey as unknown as Item)).toBe(encoded(plain));
  });

  it("has the documented layout", () => {
    // M, 3 entries by name: "n" N "1", "pk" S "p", "sk" S "s".
    expect(encoded({ pk: "p", sk: "s", n: 1 })).toBe(
      [
        "4d00000003",
        "000000016e" + "4e" + "0000000131",
        "00000002706b" + "53" + "0000000170",
        "00000002736b" + "53" + "0000000173",
      ].join(""),
    );
  });
});

describe("the MAC of an item", () => {
  const signed = (item: Item): Item => ({ ...item, [MAC_ATTRIBUTE]: itemMac(key, item) });

  it("verifies the item it was made for, whatever else it carries", () => {
    fc.assert(fc.property(item, (any) => checkItemMac(key, signed(any)) === undefined));
  });

  it("names what is wrong with one that does not verify", () => {
    const good = signed({ pk: "p", sk: "s", n: 1 });
    expect(checkItemMac(key, { ...good, n: 2 })).toBe("MAC mismatch");
    expect(checkItemMac(key, { ...good, sk: "t" })).toBe("MAC mismatch");
    expect(checkItemMac(key, { pk: "p", sk: "s", n: 1 })).toBe("no MAC");
    expect(checkItemMac(key, { ...good, [MAC_ATTRIBUTE]: "text" })).toBe("malformed MAC");
    const otherFormat = new Uint8Array(good[MAC_ATTRIBUTE] as Uint8Array);
    otherFormat[0] = 2;
    expect(checkItemMac(key, { ...good, [MAC_ATTRIBUTE]: otherFormat })).toBe("malformed MAC");
    const otherKey = webSymmetricCrypto.hmacKey(new Uint8Array(32).fill(8));
    expect(checkItemMac(otherKey, good)).toBe("MAC mismatch");
  });
});
