/**
 * Keyed hashes for values the broker must recognise but never store: broker tokens (the
 * token record is addressed by the HMAC of the token) and sensitive strings in audit
 * records.
 *
 * The key always derives from keyring version 1, never the newest: rotating the keyring
 * must not orphan every stored token or make old audit hashes incomparable with new ones.
 */
import { isCofferError } from "../errors.ts";
import { toHex } from "./encoding.ts";
import type { Keyring } from "./keyring.ts";

const HMAC_SALT = new Uint8Array(0);
const utf8 = new TextEncoder();

/** `label` separates uses ("token", "audit"): each gets an unrelated key. */
export async function deriveHmacKey(keyring: Keyring, label: string): Promise<CryptoKey> {
  const base = await firstVersion(keyring);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: HMAC_SALT, info: utf8.encode(`coffer/hmac/${label}`) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** Lowercase hex of HMAC-SHA256 over the UTF-8 bytes of `value`. */
export async function hmacHex(key: CryptoKey, value: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(value))));
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
