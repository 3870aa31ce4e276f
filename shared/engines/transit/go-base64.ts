/**
 * Base64 as Vault reads it: Go's encoding/base64 `StdEncoding` (padded) and, for JWS
 * signatures, `RawURLEncoding` (URL alphabet, no padding). Both skip line breaks anywhere,
 * ignore non-zero trailing bits (so "adba32==", Vault's documented sample input, decodes),
 * and report a failure as the byte offset Go reports, which Vault puts in its messages:
 * "illegal base64 data at input byte 4".
 */
import { invalidRequest } from "../../errors.ts";

export type Base64Alphabet = "std" | "rawurl";

export type GoDecoded = { bytes: Uint8Array<ArrayBuffer> } | { corruptAt: number };

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const PAD = 0x3d; // "="
const CR = 0x0d;
const LF = 0x0a;

function decodeMap(alphabet: string): Int16Array {
  const map = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) map[alphabet.charCodeAt(i)] = i;
  return map;
}

const MAPS: Record<Base64Alphabet, Int16Array> = { std: decodeMap(STD), rawurl: decodeMap(URL) };

/** Go's message for a corrupt input at `offset`. */
export const illegalBase64 = (offset: number) => `illegal base64 data at input byte ${offset}`;

/** Decodes `text` as Go's DecodeString would, quantum by quantum. */
export function decodeGoBase64(text: string, alphabet: Base64Alphabet = "std"): GoDecoded {
  const src = new TextEncoder().encode(text);
  const map = MAPS[alphabet];
  const padded = alphabet === "std";
  const out: number[] = [];
  let si = 0;
  while (si < src.length) {
    const quantum = [0, 0, 0, 0];
    let length = 4;
    let trailing = -1;
    let j = 0;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return { bytes: new Uint8Array(out) };
        if (j === 1 || padded) return { corruptAt: si - j };
        length = j;
        break;
      }
      const byte = src[si++] as number;
      const value = map[byte] as number;
      if (value >= 0) {
        quantum[j] = value;
        continue;
      }
      if (byte === LF || byte === CR) {
        j--;
        continue;
      }
      if (!padded || byte !== PAD || j < 2) return { corruptAt: si - 1 };
      if (j === 2) {
        // "==" is expected; the first "=" is consumed.
        while (si < src.length && (src[si] === LF || src[si] === CR)) si++;
        if (si === src.length) return { corruptAt: src.length };
        if (src[si] !== PAD) return { corruptAt: si - 1 };
        si++;
      }
      while (si < src.length && (src[si] === LF || src[si] === CR)) si++;
      if (si < src.length) trailing = si;
      length = j;
      break;
    }
    const value = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    const decoded = [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
    out.push(...decoded.slice(0, length - 1));
    if (trailing >= 0) return { corruptAt: trailing };
    if (length < 4) break;
  }
  return { bytes: new Uint8Array(out) };
}

/** An `input` field's bytes (hash, hmac, sign, verify), or Vault's refusal with Go's offset. */
export function decodeInput(text: string): Uint8Array<ArrayBuffer> {
  const decoded = decodeGoBase64(text);
  if ("bytes" in decoded) return decoded.bytes;
  throw invalidRequest(`unable to decode input as base64: ${illegalBase64(decoded.corruptAt)}`);
}
