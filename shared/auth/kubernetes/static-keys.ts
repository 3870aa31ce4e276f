/**
 * Keys given in the mount's configuration, for clusters whose issuer Coffer cannot reach:
 * PEM public keys, PEM X.509 certificates (their public key is used; their validity dates
 * and issuer are not: a certificate here is only a wrapper for the key, as in Vault), and
 * JWKS documents as the cluster serves them at /openid/v1/jwks.
 */
import { exportJWK, importSPKI, importX509 } from "jose";
import { invalidRequest } from "../../errors.ts";
import {
  cryptoKeyFor,
  type KeySource,
  keysOfJwks,
  MAX_KEYS,
  publicJwk,
  type VerificationKey,
  verificationKeyOf,
} from "./key-set.ts";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
/** Algorithms tried to learn a PEM key's type: Web Crypto needs one to import it at all. */
const PROBE_ALGORITHMS = ["RS256", "ES256", "ES384"] as const;

async function keyOfPem(pem: string, where: string): Promise<VerificationKey> {
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
  throw invalidRequest(`${where}: not an RSA or EC (P-256, P-384) public key or certificate`);
}

/** Parses a JWKS given inline, refusing anything that is not a usable public signature key. */
async function keysOfInlineJwks(document: unknown): Promise<VerificationKey[]> {
  let keys: VerificationKey[];
  try {
    keys = keysOfJwks(document);
  } catch {
    throw invalidRequest('jwks: not a JWKS document (an object with a "keys" list)');
  }
  const entries = (document as { keys: unknown[] }).keys;
  if (entries.length > MAX_KEYS) throw invalidRequest(`jwks: holds more than ${MAX_KEYS} keys`);
  entries.forEach((entry, index) => {
    if (entry !== null && typeof entry === "object" && "d" in entry) {
      throw invalidRequest(`jwks.keys[${index}]: holds private key material; give public keys only`);
    }
    if (!verificationKeyOf(entry)) {
      throw invalidRequest(`jwks.keys[${index}]: not an RSA or EC (P-256, P-384) signature key`);
    }
  });
  // Import each once now, so a malformed key is refused at configuration time.
  for (const [index, key] of keys.entries()) {
    try {
      await cryptoKeyFor(key, key.jwk.kty === "RSA" ? "RS256" : key.jwk.crv === "P-256" ? "ES256" : "ES384");
    } catch {
      throw invalidRequest(`jwks.keys[${index}]: the key does not import`);
    }
  }
  return keys;
}

export async function parseStaticKeys(pemKeys: readonly string[], jwks: unknown): Promise<VerificationKey[]> {
  const keys: VerificationKey[] = [];
  for (const [index, pem] of pemKeys.entries()) keys.push(await keyOfPem(pem, `pem_keys[${index}]`));
  if (jwks !== undefined) keys.push(...(await keysOfInlineJwks(jwks)));
  if (keys.length > MAX_KEYS) throw invalidRequest(`more than ${MAX_KEYS} keys configured`);
  return keys;
}

export function staticKeySource(keys: readonly VerificationKey[]): KeySource {
  return {
    keys: async () => keys,
    refreshForUnknownKid: async () => false,
    discoveredIssuer: () => undefined,
  };
}
