/**
 * The key pair of a signing key's version, in Web Crypto: made once when the version is
 * made (private key as PKCS #8, public key as SubjectPublicKeyInfo), imported for each
 * algorithm a request signs or verifies with, and the public key shown as Vault shows it.
 */
import { concatBytes, fromBase64Url, toBase64 } from "../../crypto/encoding.ts";
import type { KeyType } from "./key-types.ts";

/** The Web Crypto algorithm a key is imported for; RSA binds its hash and padding at import. */
export type SigningAlgorithm =
  | { name: "Ed25519" }
  | { name: "ECDSA"; namedCurve: string }
  | { name: "RSASSA-PKCS1-v1_5" | "RSA-PSS"; hash: string };

export interface KeyPairBytes {
  pkcs8: Uint8Array<ArrayBuffer>;
  spki: Uint8Array<ArrayBuffer>;
}

// PKCS #8 and SPKI of an Ed25519 key are fixed prefixes followed by the 32-byte seed or point.
const ED25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ED25519_SPKI_PREFIX_BYTES = 12;
const RSA_PUBLIC_EXPONENT = new Uint8Array([1, 0, 1]);

function generationAlgorithm(type: KeyType): AlgorithmIdentifier | EcKeyGenParams | RsaHashedKeyGenParams {
  switch (type.kind) {
    case "ed25519":
      return { name: "Ed25519" };
    case "ecdsa":
      return { name: "ECDSA", namedCurve: type.curve };
    case "rsa":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: type.bits,
        publicExponent: RSA_PUBLIC_EXPONENT,
        hash: "SHA-256",
      };
    case "aes":
      throw new TypeError("AES keys have no key pair");
  }
}

/** A fresh pair. The caller seals `pkcs8` and wipes it. */
export async function generateKeyPair(type: KeyType): Promise<KeyPairBytes> {
  const pair = (await crypto.subtle.generateKey(generationAlgorithm(type), true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const [pkcs8, spki] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", pair.privateKey),
    crypto.subtle.exportKey("spki", pair.publicKey),
  ]);
  return { pkcs8: new Uint8Array(pkcs8), spki: new Uint8Array(spki) };
}

/** Names an import, for caching one CryptoKey per version and algorithm. */
export function algorithmId(algorithm: SigningAlgorithm): string {
  if ("hash" in algorithm) return `${algorithm.name}/${algorithm.hash}`;
  if ("namedCurve" in algorithm) return `${algorithm.name}/${algorithm.namedCurve}`;
  return algorithm.name;
}

/** Non-extractable; `pkcs8` and the copy handed over are wiped once Web Crypto holds its own. */
export async function importPrivateKey(pkcs8: Uint8Array, algorithm: SigningAlgorithm): Promise<CryptoKey> {
  const copy = new Uint8Array(pkcs8);
  try {
    return await crypto.subtle.importKey("pkcs8", copy, algorithm, false, ["sign"]);
  } finally {
    pkcs8.fill(0);
    copy.fill(0);
  }
}

/** Extractable, as public keys are: RSA verification reads the modulus back. */
export function importPublicKey(spki: Uint8Array, algorithm: SigningAlgorithm): Promise<CryptoKey> {
  return crypto.subtle.importKey("spki", new Uint8Array(spki), algorithm, true, ["verify"]);
}

/**
 * The Ed25519 pair whose private key is `seed` (32 bytes), for derived keys: the seed
 * derives from the version's secret and the context, so one context always gives one key.
 */
export async function ed25519FromSeed(
  seed: Uint8Array,
): Promise<{ privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> }> {
  const pkcs8 = concatBytes(ED25519_PKCS8_PREFIX, seed);
  try {
    // Extractable, to read the public point back; the caller signs with it once and drops it.
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
    const { x } = await crypto.subtle.exportKey("jwk", privateKey);
    return { privateKey, publicKey: fromBase64Url(x ?? "") };
  } finally {
    pkcs8.fill(0);
  }
}

/** An Ed25519 public key's 32 bytes from its SPKI. */
export const ed25519Point = (spki: Uint8Array) => spki.subarray(ED25519_SPKI_PREFIX_BYTES);

/** PEM as Go's encoding/pem writes it: 64 columns, and a final line break. */
function pem(der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/**
 * The public key as Vault's `keys/<name>` shows it: base64 of the 32 bytes for Ed25519,
 * PEM of the SubjectPublicKeyInfo for ECDSA and RSA.
 */
export function publicKeyText(type: KeyType, spki: Uint8Array): string {
  return type.kind === "ed25519" ? toBase64(ed25519Point(spki)) : pem(spki);
}
