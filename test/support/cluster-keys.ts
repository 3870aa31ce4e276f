/**
 * A test cluster's signing keys, minting tokens in the exact claim shape of projected
 * service account tokens (and of legacy Secret-based ones), plus the forgeries a verifier
 * must refuse.
 */
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { fromBase64Url, toBase64Url } from "../../shared/crypto/encoding.ts";

export interface ClusterKey {
  kid: string;
  alg: "RS256" | "ES256" | "ES384" | "PS256" | "RS384" | "RS512";
  privateKey: CryptoKey;
  publicJwk: JWK;
  pem: string;
}

export async function clusterKey(alg: ClusterKey["alg"] = "RS256", kid?: string): Promise<ClusterKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  const derivedKid = toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", spki)));
  return {
    kid: kid ?? derivedKid,
    alg,
    privateKey: pair.privateKey,
    publicJwk: { ...publicJwk, kid: kid ?? derivedKid, use: "sig", alg },
    pem: await exportSPKI(pair.publicKey),
  };
}

export const jwksOf = (...keys: ClusterKey[]) => ({ keys: keys.map((key) => key.publicJwk) });

/** An RSA key too short to verify anything (jose and Coffer want 2048 bits at least). */
export async function weakRsaKey(bits = 1024, kid = "weak") {
  const pair = (await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: bits,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const { kty, n, e } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return {
    privateKey: pair.privateKey,
    publicJwk: { kty, n, e, kid, use: "sig" } as JWK,
    pem: await exportSPKI(pair.publicKey),
  };
}

/** A self-signed X.509 certificate for a 1024-bit RSA key (made with openssl; public only). */
export const WEAK_RSA_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIICCDCCAXGgAwIBAgIUM+RCFyVU0urrGKqqJOwRD7COQtMwDQYJKoZIhvcNAQEL
BQAwFjEUMBIGA1UEAwwLd2Vhay1pc3N1ZXIwHhcNMjYxMjA3MDYwODUwWhcNMzYx
MjA0MDYwODUwWjAWMRQwEgYDVQQDDAt3ZWFrLWlzc3VlcjCBnzANBgkqhkiG9w0B
AQEFAAOBjQAwgYkCgYEAyMeO2qSJNFYLIBmXdoHJue4BueSFPVGVpl13opYyMOOR
db8MWuO0Gbot1u6QoNeM7bTnUTsHtw8H1Y0yJm7Fs0UEABX6ezfxLfzxAWo5Sffn
PThr8FTlrtOT+707tRz9WrVrUIK6oeiBJ/JQZnK9uQIOckxonEzybDXgR/UOpHsC
AwEAAaNTMFEwHQYDVR0OBBYEFN/MUTsVg7XCoRYdTEMgGwAwNq/9MB8GA1UdIwQY
MBaAFN/MUTsVg7XCoRYdTEMgGwAwNq/9MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI
hvcNAQELBQADgYEAjFTtT4htwR3vDmInekjGh5edvPgCsF1/KD1eEP7NQ3lXLP6M
kjJCARpIDx+aNEK1S7JDvK86mqB0FNbczoPSSpEp6KIzO22XtrZaYsBQsSC93TWK
M9x3l4NcOGVDStFQk3J/kPpFgSWXnSRGr0dbI2k9cZC8WIXz7qMbSkZT1VQ=
-----END CERTIFICATE-----`;

export interface ProjectedClaims {
  issuer: string;
  namespace?: string;
  serviceAccount?: string;
  audience?: string | string[];
  /** Epoch seconds. */
  iat?: number;
  lifetime?: number;
  nbf?: number;
  pod?: boolean;
  uid?: string;
  /** Epoch seconds: the API server's `warnafter`, set when it extended a kubelet's token. */
  warnAfter?: number;
}

export function projectedPayload(claims: ProjectedClaims): Record<string, unknown> {
  const namespace = claims.namespace ?? "default";
  const name = claims.serviceAccount ?? "app";
  const iat = claims.iat ?? Math.floor(Date.now() / 1000);
  return {
    aud: claims.audience === undefined ? [claims.issuer] : claims.audience,
    exp: iat + (claims.lifetime ?? 3600),
    iat,
    nbf: claims.nbf ?? iat,
    iss: claims.issuer,
    jti: crypto.randomUUID(),
    "kubernetes.io": {
      namespace,
      node: { name: "node-1", uid: "6b1f3e2a-7f0e-4b8c-9a9e-0c1d2e3f4a5b" },
      ...(claims.warnAfter === undefined ? {} : { warnafter: claims.warnAfter }),
      ...(claims.pod === false
        ? {}
        : { pod: { name: `${name}-7d4b9c`, uid: "0f7e6d5c-4b3a-4291-8877-665544332211" } }),
      serviceaccount: { name, uid: claims.uid ?? "3c1d0f9e-8a7b-4c6d-9e5f-a1b2c3d4e5f6" },
    },
    sub: `system:serviceaccount:${namespace}:${name}`,
  };
}

export function sign(
  key: ClusterKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

export const mintProjected = (key: ClusterKey, claims: ProjectedClaims) =>
  sign(key, projectedPayload(claims));

/** A legacy Secret-based token: flat claims, no aud, iat or exp. */
export function mintLegacy(key: ClusterKey, namespace = "default", name = "app") {
  return new SignJWT({
    iss: "kubernetes/serviceaccount",
    "kubernetes.io/serviceaccount/namespace": namespace,
    "kubernetes.io/serviceaccount/secret.name": `${name}-token-x7k2p`,
    "kubernetes.io/serviceaccount/service-account.name": name,
    "kubernetes.io/serviceaccount/service-account.uid": "d77f89bc-9055-11e7-a068-0800276d99bf",
    sub: `system:serviceaccount:${namespace}:${name}`,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .sign(key.privateKey);
}

const b64 = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));

/** An unsigned token (alg "none"). */
export function unsecured(payload: Record<string, unknown>): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
}

/** HS256 keyed with the PEM public key: the classic algorithm-confusion forgery. */
export async function hs256WithPublicKey(key: ClusterKey, payload: Record<string, unknown>): Promise<string> {
  const secret = new TextEncoder().encode(key.pem);
  const signingInput = `${b64({ alg: "HS256", kid: key.kid })}.${b64(payload)}`;
  const hmac = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(signingInput)),
  );
  return `${signingInput}.${toBase64Url(signature)}`;
}

/** The same token with one character of its payload changed, signature untouched. */
export function tamperPayload(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const decoded = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
  decoded.sub = `${decoded.sub}x`;
  return `${header}.${b64(decoded)}.${signature}`;
}

/** A JWS signed with RSASSA-PKCS1-v1_5 SHA-256 by hand, for headers and keys jose refuses to produce. */
export async function signRs256Raw(
  privateKey: CryptoKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  const signature = await crypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    privateKey,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${toBase64Url(new Uint8Array(signature))}`;
}
