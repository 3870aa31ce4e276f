/**
 * Keys given in the mount's configuration, for clusters whose issuer Coffer cannot reach:
 * PEM public keys, PEM X.509 certificates (their public key is used; their validity dates
 * and issuer are not: a certificate here is only a wrapper for the key, as in Vault), and
 * JWKS documents as the cluster serves them at /openid/v1/jwks.
 */
import { exportJWK, importSPKI, importX509 } from "jose";
import { invalidRequest } from "../../errors.ts";
import {
  ALLOWED_ALGORITHMS,
  type Algorithm,
  cryptoKeyFor,
  type KeySource,
  MAX_KEYS,
  publicJwk,
  readJwksEntry,
  unusableBecause,
  type VerificationKey,
} from "./key-set.ts";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
/** Algorithms tried to learn a PEM key's type: Web Crypto needs one to import it at all. */
const PROBE_ALGORITHMS = ["RS256", "ES256", "ES384"] as const;

/** The configured keys that can verify tokens, and those that never can, with why. */
export interface StaticKeys {
  keys: VerificationKey[];
  unusable: { where: string; why: string }[];
}

/** A key, or why it is not one Coffer can use; throws a 400 for what is not a PEM key at all. */
async function keyOfPem(pem: string, where: string): Promise<VerificationKey | string> {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length !== 1) {
    throw invalidRequest(
      blocks.length === 0
        ? `${where}: not a PEM public key or certificate`
        : `${where}: holds ${blocks.length} PEM blocks; give one key or certificate per entry`,
    );
  }
  const [block, label] = blocks[0] as RegExpMatchArray;
  const importer = label === "PUBLIC KEY" ? importSPKI : label === "CERTIFICATE" ? importX509 : undefined;
  if (!importer) {
    throw invalidRequest(`${where}: a "${label}" block is not accepted; give a PUBLIC KEY or a CERTIFICATE`);
  }
  for (const alg of PROBE_ALGORITHMS) {
    try {
      const key = await importer(block, alg, { extractable: true });
      const jwk = publicJwk(await exportJWK(key));
      if (jwk) return { jwk };
    } catch {
      // Not a key of this type: try the next.
    }
  }
  return "not an RSA or EC (P-256, P-384) public key or certificate";
}

/**
 * The entries of a JWKS given inline, each a key or why it is not one Coffer can use;
 * throws a 400 for what is not a JWKS, private key material, and keys that do not import.
 */
async function jwksEntries(document: unknown): Promise<[string, VerificationKey | string][]> {
  const entries = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(entries))
    throw invalidRequest('jwks: not a JWKS document (an object with a "keys" list)');
  if (entries.length > MAX_KEYS) throw invalidRequest(`jwks: holds more than ${MAX_KEYS} keys`);
  const read: [string, VerificationKey | string][] = [];
  for (const [index, entry] of entries.entries()) {
    const where = `jwks.keys[${index}]`;
    if (entry !== null && typeof entry === "object" && "d" in entry) {
      throw invalidRequest(`${where}: holds private key material; give public keys only`);
    }
    const key = readJwksEntry(entry);
    if (typeof key !== "string") {
      // Imported once now, so a malformed key is refused at configuration time.
      const alg = key.jwk.kty === "RSA" ? "RS256" : key.jwk.crv === "P-256" ? "ES256" : "ES384";
      await cryptoKeyFor(key, alg).catch(() => {
        throw invalidRequest(`${where}: the key does not import`);
      });
    }
    read.push([where, key]);
  }
  return read;
}

/**
 * Reads the keys of a configuration, sorting out those that can never verify a token
 * under `algorithms` (an RSA key under 2048 bits, a key type none of them uses).
 */
export async function parseStaticKeys(
  pemKeys: readonly string[],
  jwks: unknown,
  algorithms: readonly Algorithm[] = ALLOWED_ALGORITHMS,
): Promise<StaticKeys> {
  const read: [string, VerificationKey | string][] = [];
  for (const [index, pem] of pemKeys.entries()) {
    const where = `pem_keys[${index}]`;
    read.push([where, await keyOfPem(pem, where)]);
  }
  if (jwks !== undefined) read.push(...(await jwksEntries(jwks)));
  if (read.length > MAX_KEYS) throw invalidRequest(`more than ${MAX_KEYS} keys configured`);
  const sorted: StaticKeys = { keys: [], unusable: [] };
  for (const [where, key] of read) {
    const why = typeof key === "string" ? key : unusableBecause(key, algorithms);
    if (why !== undefined) sorted.unusable.push({ where, why });
    else if (typeof key !== "string") sorted.keys.push(key);
  }
  return sorted;
}

export function staticKeySource(keys: readonly VerificationKey[]): KeySource {
  return {
    keys: async () => keys,
    refreshForUnknownKid: async () => false,
    discoveredIssuer: () => undefined,
  };
}
