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
 *   - every version of every type has an HMAC key (transit's hmac and verify), 32 bytes under
 *     info "coffer/transit/hmac/v1", as every Vault key version has its own HMAC key
 *   - a derived Ed25519 key signs, per context, with the seed under
 *     info "coffer/transit/ed25519/v1" 0x00 context
 *
 * A version of a signing key (Ed25519 not derived, ECDSA, RSA) also has a key pair: the
 * private key (PKCS #8) is sealed like the secret, with purpose "transit-signing-key", and
 * unsealed into a non-extractable Web Crypto key on first use; the public key is stored
 * in clear beside it.
 *
 * Warm encryption and signing therefore cost no KMS call and no store read for key material.
 */
import { concatBytes } from "../../crypto/encoding.ts";
import { open, seal } from "../../crypto/envelope.ts";
import type { Keyring } from "../../crypto/keyring.ts";
import { CofferError, invalidRequest } from "../../errors.ts";
import type { Mount } from "../mount.ts";
import {
  algorithmId,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  type SigningAlgorithm,
} from "./key-pair.ts";
import type { KeyPolicy } from "./key-policy.ts";
import type { KeyStorage, StoredVersion } from "./key-storage.ts";
import { KEY_TYPES } from "./key-types.ts";
import { MAX_CACHED_VERSIONS, type MountCache } from "./mount-cache.ts";

const VERSION_BYTES = 32;
const NONCE_BYTES = 12;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const ENCRYPT_INFO = utf8.encode("coffer/transit/encrypt/v1");
const DERIVED_INFO = utf8.encode("coffer/transit/derived/v1\u0000");
const CONVERGENT_INFO = utf8.encode("coffer/transit/convergent/v1\u0000");
const HMAC_INFO = utf8.encode("coffer/transit/hmac/v1");
const ED25519_INFO = utf8.encode("coffer/transit/ed25519/v1\u0000");
const HMAC_KEY_BITS = 256;
const ED25519_SEED_BITS = 256;

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
  /**
   * Makes and seals a new version (with its key pair for a signing type); this process
   * keeps its secret unsealed, ready for use.
   */
  newVersion(
    key: Pick<KeyPolicy, "name" | "keyId" | "type" | "derived">,
    version: number,
    createdAt: number,
  ): Promise<StoredVersion>;
  /** The HKDF key of a version. Throws StaleKeyVersion when storage holds no such version. */
  versionKey(policy: KeyPolicy, version: number): Promise<CryptoKey>;
  /** A signing key version's private key, for `algorithm`. Throws StaleKeyVersion as versionKey does. */
  privateKey(policy: KeyPolicy, version: number, algorithm: SigningAlgorithm): Promise<CryptoKey>;
  /** A signing key version's public key, for `algorithm`. Throws StaleKeyVersion as versionKey does. */
  publicKey(policy: KeyPolicy, version: number, algorithm: SigningAlgorithm): Promise<CryptoKey>;
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
  const binding = (key: KeyIdentity, version: number, purpose = "transit-key") => ({
    mount: mount.uuid,
    key: key.name,
    key_id: key.keyId,
    version: String(version),
    purpose,
  });
  const SIGNING_KEY = "transit-signing-key";
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

  async function stored(policy: KeyPolicy, version: number): Promise<StoredVersion> {
    const found = await storage.version(policy.name, version);
    if (!found || found.keyId !== policy.keyId || found.version !== version) {
      throw new StaleKeyVersion(`version ${version} of transit key ${policy.name} is not in storage`);
    }
    return found;
  }

  async function unseal(policy: KeyPolicy, version: number): Promise<CryptoKey> {
    const { envelope } = await stored(policy, version);
    return importVersion(await open(keyring, envelope, binding(policy, version)));
  }

  async function unsealPrivate(policy: KeyPolicy, version: number, algorithm: SigningAlgorithm) {
    const { privateKey } = await stored(policy, version);
    if (!privateKey)
      throw new CofferError("ERR_INTERNAL", `version ${version} of ${policy.name} has no key pair`);
    return importPrivateKey(
      await open(keyring, privateKey, binding(policy, version, SIGNING_KEY)),
      algorithm,
    );
  }

  async function loadPublic(policy: KeyPolicy, version: number, algorithm: SigningAlgorithm) {
    const { publicKey } = await stored(policy, version);
    if (!publicKey)
      throw new CofferError("ERR_INTERNAL", `version ${version} of ${policy.name} has no key pair`);
    return importPublicKey(publicKey, algorithm);
  }

  return {
    async newVersion(key, version, createdAt) {
      const raw = crypto.getRandomValues(new Uint8Array(VERSION_BYTES));
      const envelope = await seal(keyring, raw, binding(key, version));
      keep(cacheKey(key.keyId, version), importVersion(raw));
      const made: StoredVersion = { version, keyId: key.keyId, createdAt, envelope };
      const type = KEY_TYPES[key.type];
      // A derived Ed25519 key signs with a key per context, derived from the secret alone.
      if (type.kind !== "aes" && !(type.kind === "ed25519" && key.derived)) {
        const pair = await generateKeyPair(type);
        try {
          made.privateKey = await seal(keyring, pair.pkcs8, binding(key, version, SIGNING_KEY));
        } finally {
          pair.pkcs8.fill(0);
        }
        made.publicKey = pair.spki;
      }
      return made;
    },

    versionKey(policy, version) {
      const id = cacheKey(policy.keyId, version);
      return cache.get(id) ?? keep(id, unseal(policy, version));
    },

    privateKey(policy, version, algorithm) {
      const id = `${cacheKey(policy.keyId, version)}/private/${algorithmId(algorithm)}`;
      return cache.get(id) ?? keep(id, unsealPrivate(policy, version, algorithm));
    },

    publicKey(policy, version, algorithm) {
      const id = `${cacheKey(policy.keyId, version)}/public/${algorithmId(algorithm)}`;
      return cache.get(id) ?? keep(id, loadPublic(policy, version, algorithm));
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
    return await crypto.subtle.importKey("raw", copy, "HKDF", false, ["deriveKey", "deriveBits"]);
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

/** A version's HMAC key. The caller wipes it after use. */
export async function hmacKey(versionKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.deriveBits(hkdf(HMAC_INFO), versionKey, HMAC_KEY_BITS));
}

/** The Ed25519 seed a derived key signs with for `context`. The caller wipes it after use. */
export async function ed25519Seed(
  versionKey: CryptoKey,
  context: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(
    await crypto.subtle.deriveBits(hkdf(concatBytes(ED25519_INFO, context)), versionKey, ED25519_SEED_BITS),
  );
}

const hkdf = (info: Uint8Array): HkdfParams => ({
  name: "HKDF",
  hash: "SHA-256",
  salt: EMPTY,
  info: new Uint8Array(info),
});

function derive(
  versionKey: CryptoKey,
  info: Uint8Array,
  algorithm: AesKeyGenParams | HmacImportParams,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(hkdf(info), versionKey, algorithm, false, usages);
}
