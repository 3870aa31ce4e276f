/**
 * Items read again unchanged are checked against the encoding that verified instead of
 * being hashed again; nothing else passes that way.
 */
import { describe, expect, it } from "vitest";
import type { HmacKey } from "../../../shared/crypto/hmac.ts";
import { webSymmetricCrypto } from "../../../shared/crypto/symmetric.ts";
import { checkItemMac, itemMac, MAC_ATTRIBUTE, verifiedItems } from "../../../shared/store/item-mac.ts";
import type { Item } from "../../../shared/store/item-store.ts";

/** The real HMAC key, counting the MACs it computes. */
function countingKey() {
  const inner = webSymmetricCrypto.hmacKey(new Uint8Array(32).fill(7));
  const key: HmacKey & { macs: number } = {
    macs: 0,
    bytes(data) {
      key.macs++;
      return inner.bytes(data);
    },
    hex: (text) => inner.hex(text),
  };
  return key;
}

const signed = (key: HmacKey, item: Item): Item => ({ ...item, [MAC_ATTRIBUTE]: itemMac(key, item) });

describe("verified items", () => {
  it("hashes an item read again unchanged only once", () => {
    const key = countingKey();
    const item = signed(key, { pk: "kv/x", sk: "v/1", data: new Uint8Array([1, 2, 3]), n: 1 });
    const verified = verifiedItems();
    key.macs = 0;
    for (let i = 0; i < 5; i++) expect(checkItemMac(key, structuredClone(item), verified)).toBeUndefined();
    expect(key.macs).toBe(1);
  });

  it("never passes an edited item under a MAC that verified before", () => {
    const key = countingKey();
    const good = signed(key, { pk: "kv/x", sk: "v/1", n: 1, flag: true });
    const verified = verifiedItems();
    expect(checkItemMac(key, good, verified)).toBeUndefined();
    for (const edited of [
      { ...good, n: 2 },
      { ...good, flag: false },
      { ...good, sk: "v/2" },
      { ...good, extra: "x" },
    ]) {
      expect(checkItemMac(key, edited, verified)).toBe("MAC mismatch");
    }
    expect(checkItemMac(key, good, verified)).toBeUndefined();
  });

  it("does not remember an item that failed", () => {
    const key = countingKey();
    const good = signed(key, { pk: "p", sk: "s", n: 1 });
    const forged = { ...good, n: 2 };
    const verified = verifiedItems();
    expect(checkItemMac(key, forged, verified)).toBe("MAC mismatch");
    expect(checkItemMac(key, forged, verified)).toBe("MAC mismatch");
    expect(verified.encodings.size).toBe(0);
  });
});
