/**
 * The crypto of transit keys.
 *
 * A key version is 32 random bytes. They are stored only sealed by the keyring
 * (shared/crypto/envelope.ts), bound to the mount, the key's name and id, the version and
 * the purpose, so a sealed version copied onto another key fails to open. A process
 * unseals a version once, on first use, and keeps it as a non-extractable HKDF key from
 * which every working key derives (HKDF-SHA256, empty salt, labelled info):
 *
 *   - a key that is not derived encrypts under    info "coffer/transit/encrypt/v1"
 *   - a derived key encrypts, per context, under  info "coffer/transit/derived/v1" 0x00 context
 *   - convergent encryption takes its nonce from HMAC-SHA256 under the key with
 *     info "coffer/transit/convergent/v1" 0x00 context, over the associated data's length
 *     (uint64 BE), the associated data and the plaintext: the same input under the same
 *     context always yields the same ciphertext, and different inputs never share a nonce.
 *
 * Warm encryption therefore costs no KMS call and no store read for key material.
 */
import { concatBytes } from "../../crypto/encoding.ts";
import { open, seal } from "../../crypto/envelope.ts";
import type { Keyring } from "../../crypto/keyring.ts";
import { invalidRequest } from "../../errors.ts";
import type { Mount } from "../mount.ts";
import type { KeyPolicy } from "./key-policy.ts";
import type { KeyStorage, StoredVersion } from "./key-storage.ts";
import { MAX_CACHED_VERSIONS, type MountCache } from "./mount-cache.ts";

const VERSION_BYTES = 32;
const NONCE_BYTES = 12;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const ENCRYPT_INFO = utf8.encode("coffer/transit/encrypt/v1");
const DERIVED_INFO = utf8.encode("coffer/transit/derived/v1\u0000");
const CONVERGENT_INFO = utf8.encode("coffer/transit/convergent/v1\u0000");

export const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

/**
 * Storage holds no such version for this key although the policy this process used says
 * it should: the policy was stale (the key was trimmed, or deleted and created again,
 * through another process). Callers read the policy afresh and try once more.
 */
export class StaleKeyVersion extends Error {
  override readonly name = "StaleKeyVersion";
}

type KeyIdentity = Pick<KeyPolicy, "name" | "keyId">;

export interface KeyMaterial {
  /** Makes and seals a new version; this process keeps it unsealed, ready for use. */
  newVersion(key: KeyIdentity, version: number, createdAt: number): Promise<StoredVersion>;
  /** The HKDF key of a version. Throws StaleKeyVersion when storage holds no such version. */
  versionKey(policy: KeyPolicy, version: number): Promise<CryptoKey>;
  /** Forgets unsealed versions of a key, all of them or those `which` selects. */
  forget(keyId: string, which?: (version: number) => boolean): void;
}

export function createKeyMaterial(
  keyring: Keyring,
  mount: Mount,
  storage: KeyStorage,
  mountCache: MountCache,
): KeyMaterial {
  const cache = mountCache.versions;
  const binding = (key: KeyIdentity, version: number) => ({
    mount: mount.uuid,
    key: key.name,
    key_id: key.keyId,
    version: String(version),
    purpose: "transit-key",
  });
  const cacheKey = (keyId: string, version: number) => `${keyId}/${version}`;

  function keep(id: string, pending: Promise<CryptoKey>): Promise<CryptoKey> {
    cache.set(id, pending);
    pending.catch(() => {
      if (cache.get(id) === pending) cache.delete(id);
    });
    while (cache.size > MAX_CACHED_VERSIONS) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return pending;
  }

  async function unseal(policy: KeyPolicy, version: number): Promise<CryptoKey> {
    const stored = await storage.version(policy.name, version);
    if (!stored || stored.keyId !== policy.keyId || stored.version !== version) {
      throw new StaleKeyVersion(`version ${version} of transit key ${policy.name} is not in storage`);
    }
    return importVersion(await open(keyring, stored.envelope, binding(policy, version)));
  }

  return {
    async newVersion(key, version, createdAt) {
      const raw = crypto.getRandomValues(new Uint8Array(VERSION_BYTES));
      const envelope = await seal(keyring, raw, binding(key, version));
      keep(cacheKey(key.keyId, version), importVersion(raw));
      return { version, keyId: key.keyId, createdAt, envelope };
    },

    versionKey(policy, version) {
      const id = cacheKey(policy.keyId, version);
      return cache.get(id) ?? keep(id, unseal(policy, version));
    },

    forget(keyId, which = () => true) {
      for (const id of [...cache.keys()]) {
        const [owner, version] = id.split("/");
        if (owner === keyId && which(Number(version))) cache.delete(id);
      }
    },
  };
}

/** Non-extractable; the raw bytes, and the copy handed over, are wiped once Web Crypto holds its own. */
async function importVersion(raw: Uint8Array): Promise<CryptoKey> {
  const copy = new Uint8Array(raw);
  try {
    return await crypto.subtle.importKey("raw", copy, "HKDF", false, ["deriveKey"]);
  } finally {
    raw.fill(0);
    copy.fill(0);
  }
}

// A version's own AES key, derived once and dropped with the version key it came from.
const ownKeys = new WeakMap<CryptoKey, Promise<CryptoKey>>();

/** The AES-256-GCM key for one operation: the version's own, or the one derived for `context`. */
export function encryptionKey(
  versionKey: CryptoKey,
  policy: KeyPolicy,
  context: Uint8Array,
): Promise<CryptoKey> {
  if (!policy.derived) {
    let own = ownKeys.get(versionKey);
    if (!own) {
      own = derive(versionKey, ENCRYPT_INFO, { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]);
      ownKeys.set(versionKey, own);
    }
    return own;
  }
  if (context.length === 0) return Promise.reject(invalidRequest(MISSING_CONTEXT));
  return derive(versionKey, concatBytes(DERIVED_INFO, context), { name: "AES-GCM", length: 256 }, [
    "encrypt",
    "decrypt",
  ]);
}

/** The nonce of convergent encryption: a function of the context, the associated data and the plaintext. */
export async function convergentNonce(
  versionKey: CryptoKey,
  context: Uint8Array,
  associatedData: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const key = await derive(
    versionKey,
    concatBytes(CONVERGENT_INFO, context),
    { name: "HMAC", hash: "SHA-256", length: 256 },
    ["sign"],
  );
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(associatedData.length));
  const mac = await crypto.subtle.sign("HMAC", key, concatBytes(length, associatedData, plaintext));
  return new Uint8Array(mac, 0, NONCE_BYTES).slice();
}

function derive(
  versionKey: CryptoKey,
  info: Uint8Array,
  algorithm: AesKeyGenParams | HmacImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: EMPTY, info: new Uint8Array(info) },
    versionKey,
    algorithm,
    false,
    usages,
  );
}
