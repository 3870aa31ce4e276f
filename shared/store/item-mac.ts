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
  mac.set(hmacBytes(key, encode(item)), 1);
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

/** The canonical bytes of an item, its MAC attribute left out. */
export function canonicalItem(item: Item): Uint8Array {
  return encode(item).slice();
}

const utf8 = new TextEncoder();
const ASCII = /^\p{ASCII}*$/u;

// One buffer for every encoding: encoding is synchronous and its result hashed before the
// next one starts, and allocating a buffer per item was a third of the encoding's cost (a
// warm read verifies three items). What encode() returns is valid until its next call.
let buffer = new Uint8Array(1024);
let view = new DataView(buffer.buffer);
let length = 0;

function encode(item: Item): Uint8Array {
  length = 0;
  writeMap(item, MAC_ATTRIBUTE);
  return buffer.subarray(0, length);
}

function reserve(extra: number): void {
  if (length + extra <= buffer.length) return;
  let size = buffer.length * 2;
  while (size < length + extra) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(buffer.subarray(0, length));
  buffer = grown;
  view = new DataView(grown.buffer);
}

function writeTag(tag: string): void {
  reserve(1);
  buffer[length++] = tag.charCodeAt(0);
}

function writeCount(count: number): void {
  reserve(4);
  view.setUint32(length, count);
  length += 4;
}

function writeText(text: string): void {
  // A UTF-16 code unit never takes more than three UTF-8 bytes.
  reserve(4 + text.length * 3);
  const start = length + 4;
  let at = start;
  // Most text is ASCII, and copying it is several times faster than calling the encoder for
  // strings this short; the encoder takes over at the first other code unit.
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) {
      at += utf8.encodeInto(text.slice(i), buffer.subarray(at)).written;
      break;
    }
    buffer[at++] = unit;
  }
  view.setUint32(length, at - start);
  length = at;
}

function writeBytes(bytes: Uint8Array): void {
  reserve(4 + bytes.length);
  view.setUint32(length, bytes.length);
  buffer.set(bytes, length + 4);
  length += 4 + bytes.length;
}

function writeMap(map: Record<string, unknown>, skip?: string): void {
  const names: string[] = [];
  let ascii = true;
  for (const name of Object.keys(map)) {
    if (map[name] === undefined || name === skip) continue;
    names.push(name);
    ascii &&= ASCII.test(name);
  }
  // JavaScript orders ASCII strings as their UTF-8 bytes; anything else is compared as bytes.
  if (ascii) names.sort();
  else names.sort((a, b) => compareBytes(utf8.encode(a), utf8.encode(b)));
  writeTag("M");
  writeCount(names.length);
  for (const name of names) {
    writeText(name);
    writeValue(map[name]);
  }
}

function writeValue(value: unknown): void {
  if (typeof value === "string") {
    writeTag("S");
    writeText(value);
  } else if (typeof value === "number") {
    writeTag("N");
    writeText(String(value));
  } else if (typeof value === "boolean") {
    writeTag(value ? "T" : "F");
  } else if (value === null) {
    writeTag("Z");
  } else if (value instanceof Uint8Array) {
    writeTag("B");
    writeBytes(value);
  } else if (Array.isArray(value)) {
    const elements = value.filter((element) => element !== undefined);
    writeTag("L");
    writeCount(elements.length);
    for (const element of elements) writeValue(element);
  } else if (isPlainObject(value)) {
    writeMap(value);
  } else {
    // Writes are checked before they are signed, and stores return only these types.
    throw new CofferError("ERR_INTERNAL", `an attribute of type ${typeof value} has no canonical encoding`);
  }
}
