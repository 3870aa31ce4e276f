/**
 * The symmetric cryptography the broker does with the keys its keyring holds: object keys
 * derived with HKDF-SHA256 feeding AES-256-GCM (envelope.ts), and HMAC-SHA256 keys (hmac.ts).
 * A key provider names the implementation that goes with it (key-provider.ts); this one,
 * on Web Crypto and @noble/hashes, runs on every runtime. Node's edges pick
 * symmetric.node.ts, which does the same synchronously with node:crypto: Web Crypto's
 * AES-GCM and HKDF go through a worker thread, an async hop that cost a warm read more
 * than the decryption itself. Both pass test/contract/symmetric-crypto.test.ts and
 * open each other's envelopes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ownBytes, toHex } from "./encoding.ts";

/** An HMAC-SHA256 key ready to use. */
export interface HmacKey {
  /** HMAC-SHA256 over `data`. */
  bytes(data: Uint8Array): Uint8Array;
  /** Lowercase hex of HMAC-SHA256 over the UTF-8 bytes of `text`. */
  hex(text: string): string;
}

/** Where an object key comes from: HKDF-SHA256(base key, salt, info). */
export interface ObjectKeyInput {
  /** A keyring key: an HKDF base key, non-extractable. */
  baseKey: CryptoKey;
  salt: Uint8Array<ArrayBuffer>;
  info: Uint8Array<ArrayBuffer>;
}

/** AES-256-GCM's inputs besides the key and the data. */
export interface GcmInput {
  nonce: Uint8Array<ArrayBuffer>;
  additionalData: Uint8Array<ArrayBuffer>;
}

export interface SymmetricCrypto {
  /** "web-crypto" or "node", for tests and benchmarks. */
  readonly kind: string;
  /** AES-256-GCM under the object key; returns ciphertext followed by the 16-byte tag. */
  seal(key: ObjectKeyInput, gcm: GcmInput, plaintext: Uint8Array): Promise<Uint8Array>;
  /** The plaintext; rejects when the ciphertext or tag does not authenticate. */
  open(key: ObjectKeyInput, gcm: GcmInput, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
  /** An HMAC key from 32 raw bytes, which the caller may wipe afterwards. */
  hmacKey(raw: Uint8Array): HmacKey;
}

/**
 * Derived decryption keys of recently read objects, per keyring key: a warm read of the
 * same secret needs the same key again, and deriving it costs more than the decryption.
 * The cache holds nothing the keyring key in memory does not already give. Bounded,
 * oldest entry out first. Shared by both implementations, each with its own key type.
 */
export const DECRYPTION_KEY_CACHE_ENTRIES = 1024;

export function decryptionKeyCache<K>(derive: (key: ObjectKeyInput) => K) {
  const caches = new WeakMap<CryptoKey, Map<string, K>>();
  return (key: ObjectKeyInput): K => {
    let cache = caches.get(key.baseKey);
    if (!cache) {
      cache = new Map();
      caches.set(key.baseKey, cache);
    }
    const id = `${toHex(key.salt)}/${toHex(key.info)}`;
    let derived = cache.get(id);
    if (derived === undefined) {
      if (cache.size >= DECRYPTION_KEY_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      const fresh = derive(key);
      cache.set(id, fresh);
      if (fresh instanceof Promise) {
        // A failed derivation is not kept: the next read tries again.
        const entries = cache;
        fresh.catch(() => {
          if (entries.get(id) === fresh) entries.delete(id);
        });
      }
      derived = fresh;
    }
    return derived;
  };
}

function deriveAesKey(key: ObjectKeyInput, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: key.salt, info: key.info },
    key.baseKey,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

const webDecryptionKey = decryptionKeyCache((key) => deriveAesKey(key, "decrypt"));

const utf8 = new TextEncoder();

export const webSymmetricCrypto: SymmetricCrypto = {
  kind: "web-crypto",

  async seal(key, gcm, plaintext) {
    const aesKey = await deriveAesKey(key, "encrypt");
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: gcm.nonce, additionalData: gcm.additionalData },
      aesKey,
      ownBytes(plaintext),
    );
    return new Uint8Array(sealed);
  },

  async open(key, gcm, sealed) {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: gcm.nonce, additionalData: gcm.additionalData },
      await webDecryptionKey(key),
      sealed,
    );
    return new Uint8Array(plaintext);
  },

  hmacKey(raw) {
    // Synchronous JavaScript (audited @noble/hashes): audit records hash every string value
    // of every request, and Web Crypto's per-call async hop would dominate the request.
    const template = hmac.create(sha256, raw);
    const bytes = (data: Uint8Array) => template.clone().update(data).digest();
    return { bytes, hex: (text) => toHex(bytes(utf8.encode(text))) };
  },
};
