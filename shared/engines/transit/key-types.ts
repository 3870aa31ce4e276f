/**
 * The transit key types Coffer implements, with Vault's names, and what each can do.
 * Every version of every type has a 32-byte secret from which its HMAC key derives (and,
 * for AES keys, its encryption keys); a signing type's version also has a key pair.
 */
import { invalidRequest } from "../../errors.ts";

export type KeyTypeName =
  | "aes256-gcm96"
  | "ed25519"
  | "ecdsa-p256"
  | "ecdsa-p384"
  | "ecdsa-p521"
  | "rsa-2048"
  | "rsa-3072"
  | "rsa-4096";

export type KeyType =
  | { name: "aes256-gcm96"; kind: "aes" }
  | { name: "ed25519"; kind: "ed25519" }
  | {
      name: "ecdsa-p256" | "ecdsa-p384" | "ecdsa-p521";
      kind: "ecdsa";
      curve: "P-256" | "P-384" | "P-521";
      /** Bytes of each of r and s in a JWS (IEEE P1363) signature. */
      size: number;
    }
  | { name: "rsa-2048" | "rsa-3072" | "rsa-4096"; kind: "rsa"; bits: number };

export const KEY_TYPES: Readonly<Record<KeyTypeName, KeyType>> = {
  "aes256-gcm96": { name: "aes256-gcm96", kind: "aes" },
  ed25519: { name: "ed25519", kind: "ed25519" },
  "ecdsa-p256": { name: "ecdsa-p256", kind: "ecdsa", curve: "P-256", size: 32 },
  "ecdsa-p384": { name: "ecdsa-p384", kind: "ecdsa", curve: "P-384", size: 48 },
  "ecdsa-p521": { name: "ecdsa-p521", kind: "ecdsa", curve: "P-521", size: 66 },
  "rsa-2048": { name: "rsa-2048", kind: "rsa", bits: 2048 },
  "rsa-3072": { name: "rsa-3072", kind: "rsa", bits: 3072 },
  "rsa-4096": { name: "rsa-4096", kind: "rsa", bits: 4096 },
};

/** Vault's default type. */
export const DEFAULT_KEY_TYPE: KeyTypeName = "aes256-gcm96";

/** Types Vault knows that Coffer does not implement, for a clearer refusal than "unknown". */
const VAULT_ONLY_TYPES = new Set([
  "aes128-gcm96",
  "chacha20-poly1305",
  "hmac",
  "managed_key",
  "aes128-cmac",
  "aes256-cmac",
  "ml-dsa",
  "hybrid",
]);

export function isKeyTypeName(name: unknown): name is KeyTypeName {
  return typeof name === "string" && Object.hasOwn(KEY_TYPES, name);
}

/** The type `name` names, or Vault's refusal ("unknown key type ..."), 400. */
export function keyTypeNamed(name: string): KeyType {
  if (isKeyTypeName(name)) return KEY_TYPES[name];
  if (VAULT_ONLY_TYPES.has(name)) {
    throw invalidRequest(
      `key type ${name} is not supported: Coffer implements ${Object.keys(KEY_TYPES).join(", ")}`,
    );
  }
  throw invalidRequest(`unknown key type ${name}`);
}

export const supportsEncryption = (type: KeyType) => type.kind === "aes";
export const supportsSigning = (type: KeyType) => type.kind !== "aes";
/** Derived keys: a key per context, for encryption (AES) or signing (Ed25519). */
export const supportsDerivation = (type: KeyType) => type.kind === "aes" || type.kind === "ed25519";
