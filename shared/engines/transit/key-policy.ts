/**
 * A transit key's policy: everything about a named key except its material. The rules
 * that decide which versions may encrypt and decrypt live here, next to the fields they
 * read, and so does the shape Vault clients read back from `keys/<name>`.
 */
import { invalidRequest } from "../../errors.ts";
import type { JsonObject } from "../engine.ts";
import type { PathField } from "../fields.ts";
import {
  KEY_TYPES,
  type KeyTypeName,
  supportsDerivation,
  supportsEncryption,
  supportsSigning,
} from "./key-types.ts";

/**
 * The convergent scheme version reported to clients. As in Vault's version 3, the nonce
 * derives from the plaintext under a key of its own, so clients never send one.
 */
export const CONVERGENT_VERSION = 3;

/** Vault refuses shorter automatic rotation periods; so does Coffer. */
export const MIN_AUTO_ROTATE_SECONDS = 3600;

const MAX_NAME_BYTES = 128;
// Vault's GenericNameRegex: word characters, with "-", "." and "@" inside.
const NAME_PATTERN = /^\w(?:[\w.@-]*\w)?$/;

export interface KeyPolicy {
  name: string;
  /** Random per incarnation: a key deleted and created again under its name is another key. */
  keyId: string;
  type: KeyTypeName;
  derived: boolean;
  convergent: boolean;
  deletionAllowed: boolean;
  /** At least 1. */
  minDecryptionVersion: number;
  /** 0 = only the latest version encrypts unless a caller names another. */
  minEncryptionVersion: number;
  /** 0 until the key is first trimmed; versions below it no longer exist. */
  minAvailableVersion: number;
  latestVersion: number;
  /** Unix seconds when the latest version was made, for automatic rotation. */
  latestCreatedAt: number;
  /** Seconds; 0 = never rotate automatically. */
  autoRotatePeriod: number;
  /** Incremented by every change; every change is conditioned on it. */
  revision: number;
}

/** The key a route acts on, from its path. */
export const KEY_NAME: PathField = { type: "string", path: true, description: "The key's name." };

export function isKeyName(name: string): boolean {
  return NAME_PATTERN.test(name) && new TextEncoder().encode(name).length <= MAX_NAME_BYTES;
}

export function checkKeyName(name: string): string {
  if (!isKeyName(name)) {
    throw invalidRequest(
      `invalid key name "${name}": use letters, digits and "_", with "-", "." or "@" inside, at most ${MAX_NAME_BYTES} bytes`,
    );
  }
  return name;
}

/** The oldest version that still exists. */
export function oldestVersion(policy: KeyPolicy): number {
  return Math.max(1, policy.minAvailableVersion);
}

/** The version a caller's encryption uses: the latest, or the one asked for if policy allows it. */
export function encryptionVersion(policy: KeyPolicy, requested: number | undefined): number {
  if (!requested) return policy.latestVersion;
  if (requested > policy.latestVersion) {
    throw invalidRequest("requested version for encryption is higher than the latest key version");
  }
  if (requested < policy.minEncryptionVersion || requested < oldestVersion(policy)) {
    throw invalidRequest("requested version for encryption is less than the minimum encryption key version");
  }
  return requested;
}

/**
 * Whether a version is still held for new signatures and HMACs: Vault keeps only versions
 * from min_decryption_version on in its working set, so older ones are "no such key version".
 */
export function holdsVersion(policy: KeyPolicy, version: number): boolean {
  return (
    version >= Math.max(policy.minDecryptionVersion, oldestVersion(policy)) && version <= policy.latestVersion
  );
}

/** The version a signature is made with: the latest, or the one asked for if policy allows it. */
export function signingVersion(policy: KeyPolicy, requested: number | undefined): number {
  if (!requested) return policy.latestVersion;
  if (requested < 0) throw invalidRequest("requested version for signing is negative");
  if (requested > policy.latestVersion) {
    throw invalidRequest("requested version for signing is higher than the latest key version");
  }
  if (policy.minEncryptionVersion > 0 && requested < policy.minEncryptionVersion) {
    throw invalidRequest("requested version for signing is less than the minimum encryption key version");
  }
  if (!holdsVersion(policy, requested)) throw invalidRequest("no such key version");
  return requested;
}

/** Vault's refusal of a ciphertext or signature below min_decryption_version. */
export const TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)";

/** Refuses a ciphertext's version that does not exist or that policy no longer decrypts. */
export function checkDecryptionVersion(policy: KeyPolicy, version: number): void {
  if (version > policy.latestVersion) throw invalidRequest("invalid ciphertext: version is too new");
  if (version < policy.minDecryptionVersion || version < oldestVersion(policy)) {
    throw invalidRequest(TOO_OLD);
  }
}

/** Whether automatic rotation is due at `nowSeconds`. */
export function rotationDue(policy: KeyPolicy, nowSeconds: number): boolean {
  return policy.autoRotatePeriod > 0 && nowSeconds >= policy.latestCreatedAt + policy.autoRotatePeriod;
}

/**
 * Vault's read-key response. `keys` describes each live version: its creation time in
 * unix seconds for AES keys, its public key for signing keys; never private material.
 */
export function describeKey(policy: KeyPolicy, keys: JsonObject): JsonObject {
  const type = KEY_TYPES[policy.type];
  const described: JsonObject = {
    allow_plaintext_backup: false,
    auto_rotate_period: policy.autoRotatePeriod,
    deletion_allowed: policy.deletionAllowed,
    derived: policy.derived,
    exportable: false,
    imported_key: false,
    keys,
    latest_version: policy.latestVersion,
    min_available_version: policy.minAvailableVersion,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    name: policy.name,
    supports_decryption: supportsEncryption(type),
    supports_derivation: supportsDerivation(type),
    supports_encryption: supportsEncryption(type),
    supports_signing: supportsSigning(type),
    type: policy.type,
  };
  if (policy.derived) {
    described.kdf = "hkdf_sha256";
    described.convergent_encryption = policy.convergent;
    if (policy.convergent) described.convergent_encryption_version = CONVERGENT_VERSION;
  }
  return described;
}
