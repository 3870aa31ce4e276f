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

/** Reads one JWKS entry; undefined for entries that are not signature keys Coffer can use. */
export function verificationKeyOf(entry: unknown): VerificationKey | undefined {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) return undefined;
  const value = entry as Record<string, unknown>;
  if (value.use !== undefined && value.use !== "sig") return undefined;
  const jwk = publicJwk(value);
  if (!jwk) return undefined;
  const key: VerificationKey = { jwk };
  if (typeof value.kid === "string" && value.kid !== "") key.kid = value.kid;
  if (typeof value.alg === "string") key.alg = value.alg;
  return key;
}

/** Largest number of keys a mount trusts at once. */
export const MAX_KEYS = 100;

/** The usable keys of a JWKS document; throws a TypeError when it is not one. */
export function keysOfJwks(document: unknown): VerificationKey[] {
  const entries = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries)) throw new TypeError('not a JWKS document: no "keys" list');
  return entries
    .slice(0, MAX_KEYS)
    .map(verificationKeyOf)
    .filter((key): key is VerificationKey => key !== undefined);
}
