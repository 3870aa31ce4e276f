/**
 * Keyed hashes: of values the broker must recognise but never store (broker tokens, whose
 * record is addressed by the HMAC of the token; sensitive strings in audit records), and
 * the MAC every stored item carries (store/item-mac.ts).
 *
 * The key always derives from keyring version 1, never the newest: rotating the keyring
 * must not orphan every stored token, make every stored item fail to verify, or make old
 * audit hashes incomparable with new ones.
 */
import { isCofferError } from "../errors.ts";
import type { Keyring } from "./keyring.ts";
import type { HmacKey } from "./symmetric.ts";

export type { HmacKey };

const HMAC_SALT = new Uint8Array(0);
const utf8 = new TextEncoder();

/**
 * `label` separates uses ("token", "audit"): each gets an unrelated key. Hashing is
 * synchronous, in the keyring's symmetric cryptography (symmetric.ts).
 */
export async function deriveHmacKey(keyring: Keyring, label: string): Promise<HmacKey> {
  const base = await firstVersion(keyring);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: HMAC_SALT, info: utf8.encode(`coffer/hmac/${label}`) },
      base,
      256,
    ),
  );
  try {
    return keyring.symmetric.hmacKey(bits);
  } finally {
    bits.fill(0);
  }
}

/** Lowercase hex of HMAC-SHA256 over the UTF-8 bytes of `value`. */
export function hmacHex(key: HmacKey, value: string): string {
  return key.hex(value);
}

/** HMAC-SHA256 over `data`. */
export function hmacBytes(key: HmacKey, data: Uint8Array): Uint8Array {
  return key.bytes(data);
}

async function firstVersion(keyring: Keyring): Promise<CryptoKey> {
  try {
    return await keyring.get(1);
  } catch (error) {
    if (!isCofferError(error, "ERR_DECRYPT_FAILED")) throw error;
    // A brand-new keyring (e.g. `operator init` hashing the first root token before any
    // secret is sealed): current() creates version 1, then it is there to read.
    await keyring.current();
    return keyring.get(1);
  }
}
