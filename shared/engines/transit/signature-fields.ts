/**
 * The fields sign and verify share, with Vault's names and defaults, and how they become
 * SignatureOptions. The hash comes from the path (`sign/<name>/<hash>`), else
 * `hash_algorithm` (default sha2-256), else the deprecated `algorithm`: since
 * `hash_algorithm` has a default, `algorithm` counts only when `hash_algorithm` is sent
 * empty, as in Vault.
 */
import { invalidRequest } from "../../errors.ts";
import type { FieldSchema } from "../fields.ts";
import { BATCH_FIELDS } from "./batch.ts";
import { goAtoi } from "./go-atoi.ts";
import { decodeGoBase64 } from "./go-base64.ts";
import { DEFAULT_HASH, hashAlgorithm, NO_HASH } from "./hash-algorithms.ts";
import { SALT_AUTO, SALT_EQUALS_HASH } from "./rsa-verify.ts";
import type { Marshaling, SignatureOptions } from "./signing.ts";

export const SIGNATURE_FIELDS = {
  urlalgorithm: { type: "string", path: true, description: "The hash algorithm, in the path." },
  context: { type: "string", description: "Base64 context, for derived Ed25519 keys." },
  hash_algorithm: {
    type: "string",
    description: `The hash algorithm for ECDSA and RSA keys: sha1, sha2-224, sha2-256 (the default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384, sha3-512 or ${NO_HASH}.`,
  },
  algorithm: { type: "string", description: 'Deprecated: "hash_algorithm".' },
  prehashed: { type: "boolean", default: false, description: "Whether the input is already the hash." },
  signature_algorithm: {
    type: "string",
    default: "",
    description: 'RSA keys: "pss" (the default) or "pkcs1v15".',
  },
  marshaling_algorithm: {
    type: "string",
    default: "asn1",
    description: 'ECDSA keys: "asn1" (DER, the default) or "jws"; "jws" also makes the base64 URL-safe.',
  },
  salt_length: {
    type: "any",
    description:
      'RSA-PSS: "auto" (the default: the largest when signing, any when verifying), "hash", or bytes.',
  },
  batch_input: BATCH_FIELDS.batch_input,
} as const satisfies FieldSchema;

interface SignatureFieldValues {
  urlalgorithm: string;
  hash_algorithm: string | undefined;
  algorithm: string | undefined;
  prehashed: boolean;
  signature_algorithm: string;
  marshaling_algorithm: string;
  salt_length: unknown;
}

/** Vault's salt_length: "auto" is 0 and "hash" -1, as Go counts them; anything below -1 is refused. */
function saltLength(value: unknown): number {
  if (value === undefined || value === null) return SALT_AUTO;
  const text = String(value).toLowerCase();
  if (text === "auto") return SALT_AUTO;
  if (text === "hash") return SALT_EQUALS_HASH;
  const parsed = goAtoi(text);
  if ("error" in parsed) throw invalidRequest(`salt length neither 'auto', 'hash', nor an int: ${text}`);
  if (parsed.value < SALT_EQUALS_HASH) throw invalidRequest(`salt length is invalid: ${parsed.value}`);
  return parsed.value;
}

export function signatureOptions(fields: SignatureFieldValues): SignatureOptions {
  const hashName =
    fields.urlalgorithm || (fields.hash_algorithm ?? DEFAULT_HASH) || fields.algorithm || DEFAULT_HASH;
  const hash = hashAlgorithm(hashName);
  if (!hash && hashName !== NO_HASH)
    throw invalidRequest(`invalid hash algorithm ${JSON.stringify(hashName)}`);
  const marshaling = fields.marshaling_algorithm;
  if (marshaling !== "asn1" && marshaling !== "jws") {
    throw invalidRequest(`invalid marshaling type ${JSON.stringify(marshaling)}`);
  }
  return {
    hashName,
    hash,
    marshaling: marshaling satisfies Marshaling,
    prehashed: fields.prehashed,
    signatureAlgorithm: fields.signature_algorithm,
    saltLength: saltLength(fields.salt_length),
  };
}

/** A `context` field's bytes (empty when absent), or Vault's refusal. */
export function contextBytes(text: string | undefined): Uint8Array<ArrayBuffer> {
  const decoded = decodeGoBase64(text ?? "");
  if (!("bytes" in decoded)) throw invalidRequest("failed to base64-decode context");
  return decoded.bytes;
}
