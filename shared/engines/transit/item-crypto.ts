/**
 * Encrypting and decrypting one item with a key's policy: version rules, derivation,
 * convergent nonces and the ciphertext format, shared by encrypt, decrypt, rewrap and
 * datakey.
 */
import { invalidRequest } from "../../errors.ts";
import { optionalInteger } from "../../http/fields.ts";
import type { JsonObject } from "../engine.ts";
import { itemString } from "./batch.ts";
import { decodeBase64, decryptBytes, encryptBytes, formatCiphertext, parseCiphertext } from "./ciphertext.ts";
import { convergentNonce, encryptionKey, StaleKeyVersion } from "./key-material.ts";
import { checkDecryptionVersion, encryptionVersion, type KeyPolicy } from "./key-policy.ts";
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

/** A base64 field of an item as bytes; empty when absent. */
export function itemBytes(item: JsonObject, name: string): Uint8Array<ArrayBuffer> {
  const text = itemString(item, name);
  const bytes = decodeBase64(text);
  if (!bytes) throw invalidRequest(`invalid ${name}: not valid base64`);
  return bytes;
}

export function itemKeyVersion(item: JsonObject): number | undefined {
  return optionalInteger(item, "key_version", { min: 0 });
}

/** RSA padding does not apply to AES keys, the only kind Coffer has. */
export function refusePadding(item: JsonObject, ...names: string[]): void {
  for (const name of names) {
    if (itemString(item, name) !== "") {
      throw invalidRequest(`${name} applies only to RSA keys, which Coffer does not support`);
    }
  }
}

export const NONCE_IGNORED =
  "nonce was ignored: Coffer draws a random nonce, or derives it from the plaintext for convergent keys";

/** Whether the item carries a nonce, which Coffer never uses (Vault uses it only for keys of Vault 0.6.1). */
export function carriesNonce(item: JsonObject): boolean {
  return itemString(item, "nonce") !== "";
}
