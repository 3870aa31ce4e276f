/**
 * Vault's hash algorithm names (`sha2-256`, `sha3-512`, ...) and what each is: the hash
 * itself (from @noble/hashes, as the core's other hashes), the Web Crypto name when Web
 * Crypto has it (signing hashes inside Web Crypto), and the DER DigestInfo prefix of
 * RSA PKCS#1 v1.5 signatures. `none` is Vault's "the input is the digest".
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { sha3_224, sha3_256, sha3_384, sha3_512 } from "@noble/hashes/sha3.js";
import type { CHash } from "@noble/hashes/utils.js";

type NobleHash = CHash;

export interface HashAlgorithm {
  name: string;
  hash: NobleHash;
  /** Digest length in bytes. */
  size: number;
  webCrypto?: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
  /** DER of DigestInfo up to the digest, as PKCS#1 v1.5 signatures carry it. */
  digestInfo: Uint8Array;
}

/** The arcs 2.16.840.1.101.3.4.2 of NIST's hash OIDs, DER-encoded. */
const NIST_HASHES = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];

/** DigestInfo for the NIST hash whose OID ends in `arc`: SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING }. */
const nistDigestInfo = (arc: number, size: number) =>
  new Uint8Array([0x30, 0x11 + size, 0x30, 0x0d, 0x06, 0x09, ...NIST_HASHES, arc, 0x05, 0x00, 0x04, size]);

const algorithm = (
  name: string,
  hash: NobleHash,
  digestInfo: Uint8Array,
  webCrypto?: HashAlgorithm["webCrypto"],
): HashAlgorithm => ({ name, hash, size: hash.outputLen, digestInfo, webCrypto });

export const HASH_ALGORITHMS: Readonly<Record<string, HashAlgorithm>> = {
  sha1: algorithm(
    "sha1",
    sha1,
    new Uint8Array([
      0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ]),
    "SHA-1",
  ),
  "sha2-224": algorithm("sha2-224", sha224, nistDigestInfo(4, 28)),
  "sha2-256": algorithm("sha2-256", sha256, nistDigestInfo(1, 32), "SHA-256"),
  "sha2-384": algorithm("sha2-384", sha384, nistDigestInfo(2, 48), "SHA-384"),
  "sha2-512": algorithm("sha2-512", sha512, nistDigestInfo(3, 64), "SHA-512"),
  "sha3-224": algorithm("sha3-224", sha3_224, nistDigestInfo(7, 28)),
  "sha3-256": algorithm("sha3-256", sha3_256, nistDigestInfo(8, 32)),
  "sha3-384": algorithm("sha3-384", sha3_384, nistDigestInfo(9, 48)),
  "sha3-512": algorithm("sha3-512", sha3_512, nistDigestInfo(10, 64)),
};

/** Vault's `none`: only with prehashed input and PKCS#1 v1.5 signatures (no DigestInfo). */
export const NO_HASH = "none";

export const DEFAULT_HASH = "sha2-256";

export function hashAlgorithm(name: string): HashAlgorithm | undefined {
  return Object.hasOwn(HASH_ALGORITHMS, name) ? HASH_ALGORITHMS[name] : undefined;
}

/** HMAC of `input` under `key` with `algorithm`'s hash. */
export function hmacOf(algorithm: HashAlgorithm, key: Uint8Array, input: Uint8Array): Uint8Array {
  return hmac(algorithm.hash, key, input);
}
