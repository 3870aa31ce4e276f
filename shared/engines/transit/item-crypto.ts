/**
 * Encrypting and decrypting one item with a key's policy: version rules, derivation,
 * convergent nonces and the ciphertext format, shared by encrypt, decrypt, rewrap and
 * datakey.
 */
import { invalidRequest } from "../../errors.ts";
import type { FieldSchema } from "../fields.ts";
import { decodeBase64, decryptBytes, encryptBytes, formatCiphertext, parseCiphertext } from "./ciphertext.ts";
import { convergentNonce, encryptionKey, StaleKeyVersion } from "./key-material.ts";
import { checkDecryptionVersion, encryptionVersion, type KeyPolicy } from "./key-policy.ts";
import { KEY_TYPES, supportsEncryption } from "./key-types.ts";
import type { TransitMount } from "./transit-mount.ts";

export interface EncryptInput {
  plaintext: Uint8Array;
  /** Empty when the caller gave none. */
  context: Uint8Array;
  associatedData: Uint8Array;
  /** 0 or undefined: the latest version. */
  keyVersion?: number;
}

export interface Encrypted {
  ciphertext: string;
  key_version: number;
}

/** `fresh` as for decryptItem: a version asked for beyond a cached policy's latest asks for a fresh read. */
export async function encryptItem(
  transit: TransitMount,
  policy: KeyPolicy,
  fresh: boolean,
  input: EncryptInput,
): Promise<Encrypted> {
  checkEncrypts(policy, "encryption");
  if (!fresh && (input.keyVersion ?? 0) > policy.latestVersion) {
    throw new StaleKeyVersion(
      `version ${input.keyVersion} is newer than the cached policy of ${policy.name}`,
    );
  }
  const version = encryptionVersion(policy, input.keyVersion);
  const versionKey = await transit.material.versionKey(policy, version);
  const key = await encryptionKey(versionKey, policy, input.context);
  const nonce = policy.convergent
    ? await convergentNonce(versionKey, input.context, input.associatedData, input.plaintext)
    : undefined;
  const bytes = await encryptBytes(key, input.plaintext, input.associatedData, nonce);
  return { ciphertext: formatCiphertext(version, bytes), key_version: version };
}

/**
 * `fresh` tells whether `policy` was just read from the store. A cached one may predate a
 * rotation in another process, so a version newer than it knows asks for a fresh read
 * (StaleKeyVersion) before it is refused.
 */
export async function decryptItem(
  transit: TransitMount,
  policy: KeyPolicy,
  fresh: boolean,
  ciphertext: string,
  context: Uint8Array,
  associatedData: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  checkEncrypts(policy, "decryption");
  const parsed = parseCiphertext(ciphertext);
  if (!fresh && parsed.version > policy.latestVersion) {
    throw new StaleKeyVersion(
      `ciphertext version ${parsed.version} is newer than the cached policy of ${policy.name}`,
    );
  }
  checkDecryptionVersion(policy, parsed.version);
  const versionKey = await transit.material.versionKey(policy, parsed.version);
  const key = await encryptionKey(versionKey, policy, context);
  return decryptBytes(key, parsed.bytes, associatedData);
}

/** Signing keys neither encrypt nor decrypt: Vault's refusal, per item. */
function checkEncrypts(policy: KeyPolicy, operation: "encryption" | "decryption"): void {
  if (!supportsEncryption(KEY_TYPES[policy.type])) {
    throw invalidRequest(`message ${operation} not supported for key type ${policy.type}`);
  }
}

/** The fields of an item that encrypt, decrypt, rewrap and datakey share, in Vault's names. */
export const ITEM_FIELDS = {
  context: { type: "string", description: "Base64 context for derived keys." },
  nonce: { type: "string", description: "Ignored: Coffer never takes a caller's nonce." },
  key_version: { type: "integer", min: 0, description: "The key version to encrypt with; 0 is the latest." },
  associated_data: { type: "string", description: "Base64 data authenticated with the ciphertext." },
  reference: { type: "string", description: "Echoed in the item's batch result." },
} as const satisfies FieldSchema;

/** A base64 field as bytes; empty when absent. */
export function bytesOf(text: string | undefined, name: string): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(text ?? "");
  if (!bytes) throw invalidRequest(`invalid ${name}: not valid base64`);
  return bytes;
}

/** RSA padding does not apply to AES keys, the only kind Coffer has. */
export function refusePadding(padding: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(padding)) {
    if (value !== undefined && value !== "") {
      throw invalidRequest(`${name} applies only to RSA keys, which Coffer does not support`);
    }
  }
}

export const NONCE_IGNORED =
  "nonce was ignored: Coffer draws a random nonce, or derives it from the plaintext for convergent keys";

/** Whether an item carries a nonce, which Coffer never uses (Vault uses it only for keys of Vault 0.6.1). */
export const carriesNonce = (item: { nonce?: string }) => item.nonce !== undefined && item.nonce !== "";
