/**
 * Byte encodings shared by the crypto modules. Web-standard only (TextEncoder, btoa/atob),
 * so it runs on every runtime the core targets.
 */

const utf8 = new TextEncoder();

/**
 * The canonical bytes of a string map, used as additional authenticated data.
 *
 * Layout: entry count (uint32 BE), then for each entry in ascending order of the key's
 * UTF-8 bytes: key length (uint32 BE), key, value length (uint32 BE), value. Length
 * prefixes make the encoding injective ({"a":"bc"} and {"ab":"c"} differ), and sorting by
 * bytes rather than by JavaScript's UTF-16 order keeps it reproducible in any language.
 */
export function canonicalEncode(map: Readonly<Record<string, string>>): Uint8Array<ArrayBuffer> {
  const entries = Object.entries(map).map(([key, value]) => [utf8.encode(key), utf8.encode(value)] as const);
  entries.sort(([a], [b]) => compareBytes(a, b));
  let size = 4;
  for (const [key, value] of entries) size += 8 + key.length + value.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, entries.length);
  let offset = 4;
  for (const [key, value] of entries) {
    for (const part of [key, value]) {
      view.setUint32(offset, part.length);
      out.set(part, offset + 4);
      offset += 4 + part.length;
    }
  }
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = a[i]! - b[i]!;
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

/** Whether two byte strings are equal, in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * A private copy backed by a plain ArrayBuffer: Web Crypto's typings refuse views that may
 * sit on a SharedArrayBuffer, and a copy also stops the caller mutating bytes mid-operation.
 */
export function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

export function toBase64(bytes: Uint8Array): string {
  // Chunked so large inputs do not overflow the argument limit of fromCharCode.
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Strict: throws a TypeError on anything that is not canonical padded base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    throw new TypeError("invalid base64");
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Reject non-canonical trailing bits so one byte string has exactly one text form.
  if (toBase64(out) !== text) throw new TypeError("invalid base64");
  return out;
}

/** base64url without padding (RFC 4648 section 5), as used in tokens and URLs. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Strict: throws a TypeError on padding, foreign characters or non-canonical input. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new TypeError("invalid base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return fromBase64(padded);
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
