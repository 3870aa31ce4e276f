/**
 * The keys a mount trusts to sign service account tokens, and which of them may have
 * signed a given token.
 *
 * Only asymmetric algorithms are accepted, so a key published for verification can never
 * be used to forge a token (no `none`, no HS* keyed with the public key). A token naming a
 * key id is checked against keys with that id, and against keys that carry no id (PEM keys
 * and id-less JWKS entries), as Vault does with its PEM keys.
 */
import { importJWK, type JWK } from "jose";
import { fromBase64Url } from "../../crypto/encoding.ts";

export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"] as const;
export type Algorithm = (typeof ALLOWED_ALGORITHMS)[number];

/** A public key, as a JWK holding only public parameters. */
export interface VerificationKey {
  kid?: string;
  /** kty RSA (n, e) or EC (crv P-256 or P-384, x, y). */
  jwk: JWK;
  /** The JWKS entry's `alg`, when it named one: the key then verifies that algorithm only. */
  alg?: string;
}

export interface KeySource {
  keys(): Promise<readonly VerificationKey[]>;
  /**
   * Fetches the keys again because a token names a key id none of them has. Returns false
   * without fetching when that happened too recently (or the source is static).
   */
  refreshForUnknownKid(): Promise<boolean>;
  /** The issuer an OIDC discovery document announced, once fetched. */
  discoveredIssuer(): string | undefined;
}

export function isAllowedAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === "string" && (ALLOWED_ALGORITHMS as readonly string[]).includes(alg);
}

function fits(key: VerificationKey, alg: Algorithm): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false;
  const { kty, crv } = key.jwk;
  if (alg.startsWith("RS") || alg.startsWith("PS")) return kty === "RSA";
  if (alg === "ES256") return kty === "EC" && crv === "P-256";
  return kty === "EC" && crv === "P-384";
}

/** Keys that may have signed a token with this header, most likely first. */
export function candidateKeys(
  keys: readonly VerificationKey[],
  header: { kid?: string; alg: Algorithm },
): VerificationKey[] {
  const fitting = keys.filter((key) => fits(key, header.alg));
  if (header.kid === undefined) return fitting;
  const named = fitting.filter((key) => key.kid === header.kid);
  const unnamed = fitting.filter((key) => key.kid === undefined);
  return [...named, ...unnamed];
}

export function hasKid(keys: readonly VerificationKey[], kid: string): boolean {
  return keys.some((key) => key.kid === kid);
}

/** Web Crypto binds a key to one algorithm: imported once per key and algorithm. */
const imported = new WeakMap<VerificationKey, Map<Algorithm, Promise<CryptoKey>>>();

export function cryptoKeyFor(key: VerificationKey, alg: Algorithm): Promise<CryptoKey> {
  let byAlg = imported.get(key);
  if (!byAlg) {
    byAlg = new Map();
    imported.set(key, byAlg);
  }
  let cryptoKey = byAlg.get(alg);
  if (!cryptoKey) {
    cryptoKey = importJWK(key.jwk, alg) as Promise<CryptoKey>;
    byAlg.set(alg, cryptoKey);
  }
  return cryptoKey;
}

/** The public parameters of a JWK, or undefined when it is not an RSA or P-256/P-384 key. */
export function publicJwk(value: Record<string, unknown>): JWK | undefined {
  const text = (name: string) => (typeof value[name] === "string" ? (value[name] as string) : undefined);
  if (value.kty === "RSA") {
    const n = text("n");
    const e = text("e");
    return n && e ? { kty: "RSA", n, e } : undefined;
  }
  if (value.kty === "EC") {
    const crv = text("crv");
    const x = text("x");
    const y = text("y");
    return (crv === "P-256" || crv === "P-384") && x && y ? { kty: "EC", crv, x, y } : undefined;
  }
  return undefined;
}

/**
 * Reads one JWKS entry: the key, or why it is not a signature key Coffer can use (another
 * key type or curve, an encryption key, missing parameters).
 */
export function readJwksEntry(entry: unknown): VerificationKey | string {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return "not a JSON object";
  const value = entry as Record<string, unknown>;
  if (value.use !== undefined && value.use !== "sig") return 'not a signature key (its "use" is not "sig")';
  const jwk = publicJwk(value);
  if (!jwk) return "not an RSA or EC (P-256, P-384) signature key";
  const key: VerificationKey = { jwk };
  if (typeof value.kid === "string" && value.kid !== "") key.kid = value.kid;
  if (typeof value.alg === "string") key.alg = value.alg;
  return key;
}

/** Smallest RSA modulus that verifies anything: jose refuses smaller keys, as NIST does. */
export const MIN_RSA_BITS = 2048;

function rsaModulusBits(n: string): number {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(n);
  } catch {
    return 0;
  }
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first === -1) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first] as number));
}

/**
 * Why a key can never verify a token under these algorithms (an RSA key under 2048 bits,
 * or a key that fits none of them); undefined when it can.
 */
export function unusableBecause(key: VerificationKey, algorithms: readonly Algorithm[]): string | undefined {
  const { kty, crv, n } = key.jwk;
  if (kty === "RSA") {
    const bits = rsaModulusBits(n ?? "");
    if (bits < MIN_RSA_BITS) return `an RSA key of ${bits} bits (at least ${MIN_RSA_BITS} are needed)`;
  }
  if (!algorithms.some((alg) => fits(key, alg))) {
    const what = kty === "RSA" ? "an RSA key" : `an EC ${crv} key`;
    const named = key.alg === undefined ? "" : ` for "alg" ${key.alg}`;
    return `${what}${named} fits none of the accepted algorithms (${algorithms.join(", ")})`;
  }
  return undefined;
}

/** Largest number of keys a mount trusts at once. */
export const MAX_KEYS = 100;

/**
 * The usable keys of a JWKS document, the others left out; throws a TypeError when it is
 * not a JWKS document.
 */
export function keysOfJwks(document: unknown): VerificationKey[] {
  const entries = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries)) throw new TypeError('not a JWKS document: no "keys" list');
  return entries
    .slice(0, MAX_KEYS)
    .map(readJwksEntry)
    .filter((key): key is VerificationKey => typeof key !== "string")
    .filter((key) => unusableBecause(key, ALLOWED_ALGORITHMS) === undefined);
}
