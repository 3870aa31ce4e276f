/**
 * The MAC every stored item carries (see authenticated-store.ts): HMAC-SHA256 under a
 * keyring-derived key over a canonical encoding of the whole item, its pk and sk included.
 * An item edited, stripped of its MAC, or moved to another key no longer verifies.
 *
 * The encoding is the item as a map, without the MAC attribute. Each value is a one-byte
 * type tag and its payload:
 *
 *   "S" string   length (uint32 BE) + UTF-8
 *   "N" number   as a string: the decimal JavaScript prints (String(n)), so -0 is "0"
 *   "B" binary   length + bytes
 *   "T" true, "F" false, "Z" null: no payload
 *   "L" list     element count + each element
 *   "M" map      entry count + for each entry, in ascending order of the name's UTF-8
 *                bytes: name length + name + value
 *
 * Tags and length prefixes make it injective (a string never passes for the number it
 * spells, {"a":"bc"} never for {"ab":"c"}), and sorting names by bytes makes it
 * independent of the order a store returns map entries in. Undefined attributes and list
 * elements are skipped, as the adapters skip them when they write.
 */
import { compareBytes, constantTimeEqual } from "../crypto/encoding.ts";
import { type HmacKey, hmacBytes } from "../crypto/hmac.ts";
import { CofferError } from "../errors.ts";
import { isPlainObject } from "./item-size.ts";
import type { Item } from "./item-store.ts";

/** The attribute holding an item's MAC; no other attribute may use the name. */
export const MAC_ATTRIBUTE = "mac";

/** The first byte of a stored MAC, so the scheme can change without a flag day. */
const MAC_FORMAT_V1 = 0x01;
const TAG_BYTES = 32;

export type MacFailure = "no MAC" | "malformed MAC" | "MAC mismatch";

/** The MAC attribute's value for `item`. */
export function itemMac(key: HmacKey, item: Item): Uint8Array {
  const mac = new Uint8Array(1 + TAG_BYTES);
  mac[0] = MAC_FORMAT_V1;
  mac.set(hmacBytes(key, canonicalItem(item)), 1);
  return mac;
}

/** Why `item` does not verify, or undefined when it does. */
export function checkItemMac(key: HmacKey, item: Item): MacFailure | undefined {
  const stored = item[MAC_ATTRIBUTE];
  if (stored === undefined) return "no MAC";
  if (!(stored instanceof Uint8Array) || stored.length !== 1 + TAG_BYTES || stored[0] !== MAC_FORMAT_V1) {
    return "malformed MAC";
  }
  return constantTimeEqual(stored, itemMac(key, item)) ? undefined : "MAC mismatch";
}

const utf8 = new TextEncoder();

/** The canonical bytes of an item, its MAC attribute left out. */
export function canonicalItem(item: Item): Uint8Array {
  const out = byteWriter();
  writeMap(out, item, MAC_ATTRIBUTE);
  return out.result();
}

type ByteWriter = ReturnType<typeof byteWriter>;

/** Appends to one growing buffer: hashing one array is cheaper than hashing many pieces. */
function byteWriter() {
  let buffer = new Uint8Array(512);
  let view = new DataView(buffer.buffer);
  let length = 0;
  const reserve = (extra: number) => {
    if (length + extra <= buffer.length) return;
    let size = buffer.length * 2;
    while (size < length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(buffer.subarray(0, length));
    buffer = grown;
    view = new DataView(grown.buffer);
  };
  return {
    tag(tag: string) {
      reserve(1);
      buffer[length++] = tag.charCodeAt(0);
    },
    count(value: number) {
      reserve(4);
      view.setUint32(length, value);
      length += 4;
    },
    text(value: string) {
      // A UTF-16 code unit never takes more than three UTF-8 bytes.
      reserve(4 + value.length * 3);
      const { written } = utf8.encodeInto(value, buffer.subarray(length + 4));
      view.setUint32(length, written);
      length += 4 + written;
    },
    bytes(value: Uint8Array) {
      reserve(4 + value.length);
      view.setUint32(length, value.length);
      buffer.set(value, length + 4);
      length += 4 + value.length;
    },
    result: () => buffer.subarray(0, length),
  };
}

function writeMap(out: ByteWriter, map: Record<string, unknown>, skip?: string): void {
  const entries: [Uint8Array, unknown][] = [];
  for (const name of Object.keys(map)) {
    const value = map[name];
    if (value !== undefined && name !== skip) entries.push([utf8.encode(name), value]);
  }
  entries.sort(([a], [b]) => compareBytes(a, b));
  out.tag("M");
  out.count(entries.length);
  for (const [name, value] of entries) {
    out.bytes(name);
    writeValue(out, value);
  }
}

function writeValue(out: ByteWriter, value: unknown): void {
  if (typeof value === "string") {
    out.tag("S");
    out.text(value);
  } else if (typeof value === "number") {
    out.tag("N");
    out.text(String(value));
  } else if (typeof value === "boolean") {
    out.tag(value ? "T" : "F");
  } else if (value === null) {
    out.tag("Z");
  } else if (value instanceof Uint8Array) {
    out.tag("B");
    out.bytes(value);
  } else if (Array.isArray(value)) {
    const elements = value.filter((element) => element !== undefined);
    out.tag("L");
    out.count(elements.length);
    for (const element of elements) writeValue(out, element);
  } else if (isPlainObject(value)) {
    writeMap(out, value);
  } else {
    // Writes are checked before they are signed, and stores return only these types.
    throw new CofferError("ERR_INTERNAL", `an attribute of type ${typeof value} has no canonical encoding`);
  }
}
