/**
 * Signing and verifying with a signing key's version, as Vault's transit does: Ed25519
 * signs the input itself; ECDSA and RSA sign its hash (Web Crypto hashes it); ECDSA
 * signatures are ASN.1 DER by default or JWS (r | s); JWS marshaling also makes the
 * base64 URL-safe without padding, for every key type; and `vault:v<N>:` goes in front.
 *
 * Web Crypto signs only what it hashes itself, with SHA-1 or SHA-2 (224 excepted), so
 * ECDSA and RSA signing refuse other hashes and prehashed input; RSA verification is
 * arithmetic on the public key (rsa-verify.ts) and takes everything Vault takes.
 */
import { toBase64, toBase64Url } from "../../crypto/encoding.ts";
import { CofferError, invalidRequest } from "../../errors.ts";
import { derToP1363, jwsToP1363, p1363ToDer, UNVERIFIABLE } from "./ecdsa-signature.ts";
import { decodeGoBase64 } from "./go-base64.ts";
import type { HashAlgorithm } from "./hash-algorithms.ts";
import { ed25519Seed, MISSING_CONTEXT, StaleKeyVersion } from "./key-material.ts";
import { ed25519FromSeed, type SigningAlgorithm } from "./key-pair.ts";
import { type KeyPolicy, TOO_OLD } from "./key-policy.ts";
import { KEY_TYPES, type KeyType } from "./key-types.ts";
import {
  maxPssSalt,
  type RsaPublicKey,
  rsaPublicKeyFromJwk,
  SALT_AUTO,
  SALT_EQUALS_HASH,
  verifyPkcs1v15,
  verifyPss,
} from "./rsa-verify.ts";
import type { TransitMount } from "./transit-mount.ts";
import { formatVersioned, splitVersioned } from "./versioned-text.ts";

export type Marshaling = "asn1" | "jws";

export interface SignatureOptions {
  /** The name the caller gave, for messages. */
  hashName: string;
  /** Undefined for Vault's `none`. */
  hash: HashAlgorithm | undefined;
  marshaling: Marshaling;
  prehashed: boolean;
  /** RSA: "pss" (also when empty) or "pkcs1v15"; Vault's "none" rule reads it for every type. */
  signatureAlgorithm: string;
  /** RSA-PSS, as Go counts it: SALT_AUTO, SALT_EQUALS_HASH or a number of bytes. */
  saltLength: number;
}

/**
 * Refuses options that fail for every item of the request: Vault's own rules, and what
 * Coffer cannot do with Web Crypto.
 */
export function checkSignatureOptions(type: KeyType, options: SignatureOptions, signing: boolean): void {
  if (!options.hash && (!options.prehashed || options.signatureAlgorithm !== "pkcs1v15")) {
    throw invalidRequest("hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15");
  }
  if (type.kind === "ecdsa" || (type.kind === "rsa" && signing)) {
    const operation = signing ? "signing" : "verification";
    if (options.prehashed) {
      throw invalidRequest(
        `prehashed input is not supported for ${operation} with ${type.name} keys: Coffer uses Web Crypto, which hashes the input itself`,
      );
    }
    if (!options.hash?.webCrypto) {
      throw invalidRequest(
        `hash algorithm ${options.hashName} is not supported for ${operation} with ${type.name} keys: Web Crypto offers sha1, sha2-256, sha2-384 and sha2-512`,
      );
    }
  }
  if (type.kind === "rsa" && !["", "pss", "pkcs1v15"].includes(options.signatureAlgorithm)) {
    throw invalidRequest(`unsupported rsa signature algorithm ${options.signatureAlgorithm}`);
  }
  if (type.kind === "rsa" && usesPss(options) && options.hash) {
    const salt = options.saltLength;
    if (salt < SALT_EQUALS_HASH || salt > maxPssSalt(type, options.hash)) {
      throw invalidRequest(`requested salt length ${salt} is invalid`);
    }
  }
}

function checkEd25519Hash(options: SignatureOptions): void {
  // Vault's community edition refuses sha2-512 for Ed25519 (its enterprise edition's Ed25519ph).
  if (options.hash?.name === "sha2-512") {
    throw invalidRequest(
      "error generating Ed25519 options: hash algorithm of SHA2 512 is not supported feature",
    );
  }
}

/** A derived Ed25519 key's pair for `context`. */
export async function derivedEd25519(
  transit: TransitMount,
  policy: KeyPolicy,
  version: number,
  context: Uint8Array,
): Promise<{ privateKey: CryptoKey; publicKey: Uint8Array<ArrayBuffer> }> {
  if (context.length === 0) throw invalidRequest(`error deriving key: ${MISSING_CONTEXT}`);
  const seed = await ed25519Seed(await transit.material.versionKey(policy, version), context);
  try {
    return await ed25519FromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

const usesPss = (options: SignatureOptions) => options.signatureAlgorithm !== "pkcs1v15";

function rsaAlgorithm(options: SignatureOptions): SigningAlgorithm {
  const hash = options.hash?.webCrypto ?? "SHA-256";
  return { name: usesPss(options) ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash };
}

/** The signature of `input` with `version` (already checked against policy). */
export async function signInput(
  transit: TransitMount,
  policy: KeyPolicy,
  version: number,
  input: Uint8Array<ArrayBuffer>,
  context: Uint8Array,
  options: SignatureOptions,
): Promise<{ signature: string; publicKey?: Uint8Array }> {
  const type = KEY_TYPES[policy.type];
  const { material } = transit;
  let signature: Uint8Array;
  let publicKey: Uint8Array | undefined;
  switch (type.kind) {
    case "ed25519": {
      checkEd25519Hash(options);
      let key: CryptoKey;
      if (policy.derived) {
        const derived = await derivedEd25519(transit, policy, version, context);
        key = derived.privateKey;
        publicKey = derived.publicKey;
      } else {
        key = await material.privateKey(policy, version, { name: "Ed25519" });
      }
      signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, input));
      break;
    }
    case "ecdsa": {
      const key = await material.privateKey(policy, version, { name: "ECDSA", namedCurve: type.curve });
      const raw = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: options.hash?.webCrypto ?? "" }, key, input),
      );
      signature = options.marshaling === "asn1" ? p1363ToDer(raw) : raw;
      break;
    }
    case "rsa": {
      const key = await material.privateKey(policy, version, rsaAlgorithm(options));
      const hash = options.hash as HashAlgorithm;
      const saltLength =
        options.saltLength === SALT_AUTO
          ? maxPssSalt(type, hash)
          : options.saltLength === SALT_EQUALS_HASH
            ? hash.size
            : options.saltLength;
      const params = usesPss(options) ? { name: "RSA-PSS", saltLength } : { name: "RSASSA-PKCS1-v1_5" };
      signature = new Uint8Array(await crypto.subtle.sign(params, key, input));
      break;
    }
    case "aes":
      throw new CofferError("ERR_INTERNAL", `key type ${type.name} does not sign`);
  }
  const encoded = options.marshaling === "jws" ? toBase64Url(signature) : toBase64(signature);
  return { signature: formatVersioned(version, encoded), publicKey };
}

/**
 * The version a signature names, if policy lets it verify: Vault's messages for a
 * malformed prefix, a version too new or too old. `fresh` as in withKey: a version newer
 * than a cached policy knows asks for a fresh read first.
 */
export function signatureVersion(
  policy: KeyPolicy,
  fresh: boolean,
  text: string,
): { version: number; payload: string } {
  const split = splitVersioned(text);
  if ("problem" in split) {
    const problem = split.problem === "version" ? "version number could not be decoded" : split.problem;
    throw invalidRequest(`invalid signature: ${problem}`);
  }
  if (!fresh && split.version > policy.latestVersion) {
    throw new StaleKeyVersion(
      `signature version ${split.version} is newer than the cached policy of ${policy.name}`,
    );
  }
  if (split.version > policy.latestVersion) throw invalidRequest("invalid signature: version is too new");
  if (split.version < policy.minDecryptionVersion) throw invalidRequest(TOO_OLD);
  return split;
}

const rsaNumbers = new WeakMap<CryptoKey, Promise<RsaPublicKey>>();

function rsaPublicNumbers(key: CryptoKey): Promise<RsaPublicKey> {
  let numbers = rsaNumbers.get(key);
  if (!numbers) {
    numbers = crypto.subtle.exportKey("jwk", key).then(rsaPublicKeyFromJwk);
    rsaNumbers.set(key, numbers);
  }
  return numbers;
}

/** Whether `payload` (the signature after its `vault:v<N>:`) signs `input` with `version`. */
export async function verifyInput(
  transit: TransitMount,
  policy: KeyPolicy,
  version: number,
  payload: string,
  input: Uint8Array<ArrayBuffer>,
  context: Uint8Array,
  options: SignatureOptions,
): Promise<boolean> {
  const decoded = decodeGoBase64(payload, options.marshaling === "jws" ? "rawurl" : "std");
  if (!("bytes" in decoded)) throw invalidRequest("invalid base64 signature value");
  const signature = decoded.bytes;
  const type = KEY_TYPES[policy.type];
  const { material } = transit;
  switch (type.kind) {
    case "ed25519": {
      checkEd25519Hash(options);
      const key = policy.derived
        ? await crypto.subtle.importKey(
            "raw",
            (await derivedEd25519(transit, policy, version, context)).publicKey,
            "Ed25519",
            false,
            ["verify"],
          )
        : await material.publicKey(policy, version, { name: "Ed25519" });
      return crypto.subtle.verify("Ed25519", key, signature, input);
    }
    case "ecdsa": {
      const fixed =
        options.marshaling === "asn1" ? derToP1363(signature, type.size) : jwsToP1363(signature, type.size);
      if (fixed === UNVERIFIABLE) return false;
      const key = await material.publicKey(policy, version, { name: "ECDSA", namedCurve: type.curve });
      return crypto.subtle.verify({ name: "ECDSA", hash: options.hash?.webCrypto ?? "" }, key, fixed, input);
    }
    case "rsa": {
      const key = await material.publicKey(policy, version, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" });
      const numbers = await rsaPublicNumbers(key);
      const digest = options.prehashed || !options.hash ? input : options.hash.hash(input);
      if (!usesPss(options)) return verifyPkcs1v15(numbers, options.hash, digest, signature);
      return options.hash ? verifyPss(numbers, options.hash, digest, signature, options.saltLength) : false;
    }
    case "aes":
      throw new CofferError("ERR_INTERNAL", `key type ${type.name} does not verify`);
  }
}
