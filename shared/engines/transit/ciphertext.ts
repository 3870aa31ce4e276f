/**
 * Transit ciphertext: `vault:v<N>:<base64(nonce (12) | ciphertext | tag (16))>`, AES-256-GCM,
 * the key version in clear so clients that parse it (to decide what to rewrap) keep
 * working. The associated data is the caller's `associated_data`, nothing else.
 *
 * Every way a ciphertext can be wrong is a 400 with Vault's wording; whether it was
 * tampered with, made under another key or another context is not told apart, as that
 * would help an attacker and not a caller.
 */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { decodeGoBase64 } from "./go-base64.ts";

const PREFIX = "vault:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_VERSION = 0xffff_ffff;

export interface ParsedCiphertext {
  version: number;
  bytes: Uint8Array<ArrayBuffer>;
}

export function formatCiphertext(version: number, bytes: Uint8Array): string {
  return `${PREFIX}v${version}:${toBase64(bytes)}`;
}

export function parseCiphertext(text: string): ParsedCiphertext {
  if (!text.startsWith(PREFIX)) throw invalidRequest("invalid ciphertext: no prefix");
  const rest = text.slice(PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon === -1) throw invalidRequest("invalid ciphertext: wrong number of fields");
  const tag = rest.slice(0, colon);
  const version = /^v\d{1,10}$/.test(tag) ? Number(tag.slice(1)) : 0;
  if (version < 1 || version > MAX_VERSION) {
    throw invalidRequest("invalid ciphertext: version number could not be decoded");
  }
  const bytes = decodeBase64(rest.slice(colon + 1));
  if (!bytes) throw invalidRequest("invalid ciphertext: could not decode base64");
  return { version, bytes };
}

/**
 * Standard base64 as Vault reads it (go-base64.ts): padded, line breaks ignored (`base64`
 * wraps long output at 76 columns). Undefined when it is not base64.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  const decoded = decodeGoBase64(text);
  return "bytes" in decoded ? decoded.bytes : undefined;
}

/** nonce | ciphertext | tag. The nonce is random unless convergent encryption supplies one. */
export async function encryptBytes(
  key: CryptoKey,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
  nonce: Uint8Array = crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
): Promise<Uint8Array<ArrayBuffer>> {
  const iv = new Uint8Array(nonce);
  // Callers wipe their plaintext after use; the copy Web Crypto needs is wiped here.
  const input = new Uint8Array(plaintext);
  let sealed: ArrayBuffer;
  try {
    sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new Uint8Array(associatedData) },
      key,
      input,
    );
  } finally {
    input.fill(0);
  }
  const out = new Uint8Array(NONCE_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), NONCE_BYTES);
  return out;
}

export async function decryptBytes(
  key: CryptoKey,
  bytes: Uint8Array<ArrayBuffer>,
  associatedData: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (bytes.length < NONCE_BYTES + TAG_BYTES) throw invalidRequest("invalid ciphertext: unable to decrypt");
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, NONCE_BYTES), additionalData: new Uint8Array(associatedData) },
      key,
      bytes.subarray(NONCE_BYTES),
    );
    return new Uint8Array(plaintext);
  } catch {
    throw invalidRequest("invalid ciphertext: unable to decrypt");
  }
}
