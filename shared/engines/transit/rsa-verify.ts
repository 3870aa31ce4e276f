/**
 * RSA signature verification with the public key alone, as Go's crypto/rsa (and so Vault)
 * verifies: PKCS #1 v1.5 with any of Vault's hashes or none (the digest itself, "NoOID"),
 * and PSS with the salt length given, the hash's length, or any ("auto"). Web Crypto
 * verifies only with a salt length fixed in advance and only the SHA-1 and SHA-2 hashes it
 * hashes itself, so this is arithmetic on public numbers: nothing secret passes through
 * it, so its timing reveals nothing.
 */
import { constantTimeEqual, fromBase64Url } from "../../crypto/encoding.ts";
import type { HashAlgorithm } from "./hash-algorithms.ts";

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  /** The modulus's length in bits. */
  bits: number;
}

/** Go's PSSSaltLengthAuto and PSSSaltLengthEqualsHash, which Vault's `salt_length` maps to. */
export const SALT_AUTO = 0;
export const SALT_EQUALS_HASH = -1;

const bytesToBigInt = (bytes: Uint8Array) =>
  bytes.length === 0 ? 0n : BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`);

function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0 && rest > 0n; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

export function rsaPublicKeyFromJwk(jwk: JsonWebKey): RsaPublicKey {
  const n = bytesToBigInt(fromBase64Url(jwk.n ?? ""));
  return { n, e: bytesToBigInt(fromBase64Url(jwk.e ?? "")), bits: n.toString(2).length };
}

/** signature^e mod n, as `length` bytes; undefined when the signature is not a number below n. */
function publicOperation(key: RsaPublicKey, signature: Uint8Array, length: number): Uint8Array | undefined {
  const value = bytesToBigInt(signature);
  if (value >= key.n) return undefined;
  return bigIntToBytes(modPow(value, key.e, key.n), length);
}

const modulusBytes = (key: RsaPublicKey) => Math.ceil(key.bits / 8);

/** PKCS #1 v1.5: `digest` is the hash of the message, or the message itself for `none`. */
export function verifyPkcs1v15(
  key: RsaPublicKey,
  hash: HashAlgorithm | undefined,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = modulusBytes(key);
  const prefix = hash?.digestInfo ?? new Uint8Array(0);
  if (hash && digest.length !== hash.size) return false;
  const t = prefix.length + digest.length;
  if (k < t + 11 || signature.length !== k) return false;
  const em = publicOperation(key, signature, k);
  if (!em) return false;
  const expected = new Uint8Array(k).fill(0xff);
  expected[0] = 0;
  expected[1] = 1;
  expected[k - t - 1] = 0;
  expected.set(prefix, k - t);
  expected.set(digest, k - digest.length);
  return constantTimeEqual(em, expected);
}

/** MGF1 over `seed` with `hash`, XORed into `out`. */
function mgf1Xor(out: Uint8Array, hash: HashAlgorithm, seed: Uint8Array): void {
  const counter = new Uint8Array(4);
  for (let done = 0, i = 0; done < out.length; i++) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = hash.hash(new Uint8Array([...seed, ...counter]));
    for (let j = 0; j < block.length && done < out.length; j++, done++) out[done]! ^= block[j]!;
  }
}

/** The largest salt a PSS signature can carry with this key and hash. */
export const maxPssSalt = (key: Pick<RsaPublicKey, "bits">, hash: HashAlgorithm) =>
  Math.ceil((key.bits - 1) / 8) - 2 - hash.size;

/** PSS (EMSA-PSS-VERIFY of RFC 8017, with Go's "auto" salt length). */
export function verifyPss(
  key: RsaPublicKey,
  hash: HashAlgorithm,
  digest: Uint8Array,
  signature: Uint8Array,
  saltLength: number,
): boolean {
  if (signature.length !== modulusBytes(key)) return false;
  const emBits = key.bits - 1;
  const emLen = Math.ceil(emBits / 8);
  const decoded = publicOperation(key, signature, modulusBytes(key));
  if (!decoded) return false;
  // The encoding is emLen bytes; a modulus of 8n+1 bits leaves a zero byte in front.
  const leading = decoded.length - emLen;
  if (decoded.subarray(0, leading).some((byte) => byte !== 0)) return false;
  const em = decoded.slice(leading);
  const hLen = hash.size;
  let sLen = saltLength === SALT_EQUALS_HASH ? hLen : saltLength;
  if (digest.length !== hLen || emLen < hLen + Math.max(sLen, 0) + 2 || em[emLen - 1] !== 0xbc) return false;
  const db = em.slice(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const bitMask = 0xff >> (8 * emLen - emBits);
  if ((em[0] as number) & ~bitMask) return false;
  mgf1Xor(db, hash, h);
  db[0]! &= bitMask;
  if (sLen === SALT_AUTO) {
    const separator = db.indexOf(0x01);
    if (separator < 0) return false;
    sLen = db.length - separator - 1;
  }
  const psLen = emLen - hLen - sLen - 2;
  if (psLen < 0 || db.subarray(0, psLen).some((byte) => byte !== 0) || db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const expected = hash.hash(new Uint8Array([...new Uint8Array(8), ...digest, ...salt]));
  return constantTimeEqual(expected, h);
}
