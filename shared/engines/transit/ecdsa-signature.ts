/**
 * ECDSA signatures in their two marshalings. Web Crypto speaks IEEE P1363 (r and s, each
 * left-padded to the curve's size), which is JWS's form; Vault's default is ASN.1 DER,
 * `SEQUENCE { INTEGER r, INTEGER s }`, as OpenSSL and X.509 use. Reading DER follows Go's
 * encoding/asn1, which Vault uses: minimal lengths and integers, extra elements inside the
 * sequence allowed, nothing after it.
 */
import { invalidRequest } from "../../errors.ts";

/** What a signature that no key could have made verifies as: false, not an error. */
export const UNVERIFIABLE = "unverifiable";

function minimalInteger(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  // A set high bit would read as negative: DER adds a zero byte.
  return (trimmed[0] ?? 0) & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed;
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  if (length < 0x100) return [0x81, length];
  return [0x82, length >> 8, length & 0xff];
}

/** P1363 (r | s) to DER. */
export function p1363ToDer(signature: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = signature.length / 2;
  const integers = [signature.subarray(0, half), signature.subarray(half)].flatMap((value) => {
    const integer = minimalInteger(value);
    return [0x02, ...derLength(integer.length), ...integer];
  });
  return new Uint8Array([0x30, ...derLength(integers.length), ...integers]);
}

/** Reads one DER element at `offset`; undefined when it is malformed. */
function element(
  der: Uint8Array,
  offset: number,
): { tag: number; body: Uint8Array; end: number } | undefined {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined) return undefined;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 2 || start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | (der[start + i] as number);
    start += count;
    // Go refuses a long form where the short one would do, and leading zero length bytes.
    if (length < 0x80 || (count === 2 && length < 0x100)) return undefined;
  }
  const end = start + length;
  if (end > der.length) return undefined;
  return { tag, body: der.subarray(start, end), end };
}

/**
 * A magnitude left-padded to `size`, or undefined when the integer is negative, zero or
 * larger than the curve allows: a signature no key makes, which verifies as false.
 */
function fixedSize(integer: Uint8Array, size: number): Uint8Array | undefined {
  let start = 0;
  while (start < integer.length && integer[start] === 0) start++;
  const magnitude = integer.subarray(start);
  if (magnitude.length === 0 || magnitude.length > size) return undefined;
  const out = new Uint8Array(size);
  out.set(magnitude, size - magnitude.length);
  return out;
}

/**
 * DER to P1363 for a curve of `size` bytes. Malformed DER is Vault's 400; well-formed
 * integers no key could produce are UNVERIFIABLE.
 */
export function derToP1363(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | typeof UNVERIFIABLE {
  const sequence = element(der, 0);
  if (sequence?.tag !== 0x30) throw invalidRequest("supplied signature is invalid");
  const r = element(sequence.body, 0);
  const s = r && element(sequence.body, r.end);
  if (!r || !s || r.tag !== 0x02 || s.tag !== 0x02) throw invalidRequest("supplied signature is invalid");
  for (const { body } of [r, s]) {
    const notMinimal =
      body.length === 0 ||
      (body.length > 1 && ((body[0] === 0 && !(body[1]! & 0x80)) || (body[0] === 0xff && body[1]! & 0x80)));
    if (notMinimal) throw invalidRequest("supplied signature is invalid");
  }
  if (sequence.end !== der.length) throw invalidRequest("supplied signature contains extra data");
  if (r.body[0]! & 0x80 || s.body[0]! & 0x80) return UNVERIFIABLE;
  const fixedR = fixedSize(r.body, size);
  const fixedS = fixedSize(s.body, size);
  if (!fixedR || !fixedS) return UNVERIFIABLE;
  return new Uint8Array([...fixedR, ...fixedS]);
}

/**
 * A JWS signature to P1363 as Vault reads it: the first half is r, the rest s, whatever
 * the length, each taken as a number.
 */
export function jwsToP1363(
  signature: Uint8Array,
  size: number,
): Uint8Array<ArrayBuffer> | typeof UNVERIFIABLE {
  const half = Math.floor(signature.length / 2);
  const r = fixedSize(signature.subarray(0, half), size);
  const s = fixedSize(signature.subarray(half), size);
  if (!r || !s) return UNVERIFIABLE;
  return new Uint8Array([...r, ...s]);
}
