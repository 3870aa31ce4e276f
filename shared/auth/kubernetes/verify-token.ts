/**
 * Offline verification of a Kubernetes service account token: no TokenReview call back
 * into the cluster, so private clusters work. Every check is named and runs in this
 * order: shape and size, algorithm allowlist, key selection (by `kid`, refetching keys
 * once per interval for an unknown one), signature, then the claims: `exp` (required
 * unless the mount accepts legacy tokens), `nbf`, `iat`, the role's cap on the token's age
 * (token-age.ts), issuer and audience, each with the mount's clock-skew leeway. `now` is a
 * parameter so tests can pin the clock.
 */
import { compactVerify, errors, type JWTPayload } from "jose";
import { fromBase64Url } from "../../crypto/encoding.ts";
import {
  ALLOWED_ALGORITHMS,
  type Algorithm,
  candidateKeys,
  cryptoKeyFor,
  hasKid,
  isAllowedAlgorithm,
  type KeySource,
} from "./key-set.ts";
import { loginDenied, malformedToken } from "./login-errors.ts";
import { checkTokenAge } from "./token-age.ts";

/** Largest token accepted, in bytes. Real service account tokens are 1 to 2 KB. */
export const MAX_JWT_BYTES = 16 * 1024;
export const DEFAULT_LEEWAY_SECONDS = 60;
/** Most keys tried for one token (keys without a kid all qualify). */
const MAX_CANDIDATES = 16;

export interface VerifyOptions {
  keys: KeySource;
  /** Epoch milliseconds. */
  now: number;
  /** The accepted algorithms: ALLOWED_ALGORITHMS or a subset. */
  algorithms?: readonly Algorithm[];
  leewaySeconds?: number;
  /** Accept tokens without `exp` (legacy Secret-based tokens). */
  allowMissingExpiry?: boolean;
  /**
   * The issuer the token must name, read once the keys are known (OIDC discovery may
   * supply it); null skips the check.
   */
  issuer: () => string | null | undefined;
  /** An audience the token's `aud` must contain; undefined skips the check. */
  audience?: string;
  /** Most seconds a token may be issued to live and may have lived; undefined skips both checks. */
  maxAgeSeconds?: number;
}

const decoder = new TextDecoder();

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(fromBase64Url(segment)));
  } catch {
    throw malformedToken(`the ${what} is not base64url-encoded JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw malformedToken(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function numericClaim(claims: JWTPayload, name: "exp" | "nbf" | "iat"): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw loginDenied("ERR_JWT_CLAIM_INVALID", `the token's "${name}" claim is not a number`);
  return value;
}

function checkClaims(claims: JWTPayload, options: VerifyOptions): void {
  const now = options.now / 1000;
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  const exp = numericClaim(claims, "exp");
  if (exp === undefined) {
    if (!options.allowMissingExpiry) {
      throw loginDenied(
        "ERR_JWT_EXPIRY_MISSING",
        "the token has no expiry (a legacy Secret-based token); the mount accepts those only with allow_legacy_tokens",
      );
    }
  } else if (now - leeway >= exp) {
    throw loginDenied("ERR_JWT_EXPIRED", "the token has expired");
  }
  const nbf = numericClaim(claims, "nbf");
  if (nbf !== undefined && nbf > now + leeway)
    throw loginDenied("ERR_JWT_NOT_YET_VALID", "the token is not yet valid");
  const iat = numericClaim(claims, "iat");
  if (iat !== undefined && iat > now + leeway)
    throw loginDenied("ERR_JWT_ISSUED_IN_FUTURE", "the token was issued in the future");
  if (options.maxAgeSeconds !== undefined)
    checkTokenAge(claims, { iat, exp, now, leeway }, options.maxAgeSeconds);

  const issuer = options.issuer();
  if (issuer !== null) {
    if (issuer === undefined)
      throw loginDenied("ERR_JWT_ISSUER_UNKNOWN", "the mount's issuer is not known yet");
    if (claims.iss !== issuer)
      throw loginDenied("ERR_JWT_ISSUER_MISMATCH", "the token's issuer does not match the mount's issuer");
  }
  if (options.audience !== undefined) {
    const aud = claims.aud;
    const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(options.audience))
      throw loginDenied("ERR_JWT_AUDIENCE_MISMATCH", "the token's audience does not match the role");
  }
}

/** The token's claims once every check passed; throws a CofferError naming the check that failed. */
export async function verifyServiceAccountToken(
  presented: string,
  options: VerifyOptions,
): Promise<JWTPayload> {
  if (new TextEncoder().encode(presented).length > MAX_JWT_BYTES) {
    throw malformedToken(`the token exceeds the limit of ${MAX_JWT_BYTES} bytes`);
  }
  // Tokens read from a file often come with a trailing newline.
  const jwt = presented.trim();
  const segments = jwt.split(".");
  if (segments.length !== 3 || segments.some((segment) => !/^[A-Za-z0-9_-]*$/.test(segment))) {
    throw malformedToken("not a signed JWT (three base64url segments separated by dots)");
  }
  const [headerSegment, payloadSegment, signature] = segments as [string, string, string];
  const header = decodeSegment(headerSegment, "header");
  decodeSegment(payloadSegment, "payload");

  const allowed = options.algorithms ?? ALLOWED_ALGORITHMS;
  const alg = header.alg;
  if (!isAllowedAlgorithm(alg) || !allowed.includes(alg)) {
    throw loginDenied(
      "ERR_JOSE_ALG_NOT_ALLOWED",
      `the token's signing algorithm is not accepted (accepted: ${allowed.join(", ")})`,
    );
  }
  if (header.crit !== undefined)
    throw loginDenied(
      "ERR_JOSE_NOT_SUPPORTED",
      "the token has critical header parameters Coffer does not know",
    );
  if (signature === "") throw loginDenied("ERR_JWS_UNSIGNED", "the token is not signed");
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== "string" || kid.length > 256))
    throw malformedToken('the "kid" header is invalid');

  let keys = await options.keys.keys();
  if (kid !== undefined && !hasKid(keys, kid) && (await options.keys.refreshForUnknownKid())) {
    keys = await options.keys.keys();
  }
  const candidates = candidateKeys(keys, { kid, alg }).slice(0, MAX_CANDIDATES);
  if (candidates.length === 0) {
    throw loginDenied(
      "ERR_JWKS_NO_MATCHING_KEY",
      kid === undefined
        ? "no configured key fits the token's algorithm"
        : "no configured key matches the token's key id",
    );
  }

  let claims: JWTPayload | undefined;
  for (const candidate of candidates) {
    try {
      const { payload } = await compactVerify(jwt, await cryptoKeyFor(candidate, alg), { algorithms: [alg] });
      claims = JSON.parse(decoder.decode(payload)) as JWTPayload;
      break;
    } catch (error) {
      // A wrong key, or a key Web Crypto or jose refuses (an RSA key under 2048 bits):
      // try the next. Anything else about the token itself was checked above.
      if (error instanceof errors.JOSEError || error instanceof TypeError || error instanceof DOMException)
        continue;
      throw error;
    }
  }
  if (!claims) throw loginDenied("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", "the token's signature is invalid");
  checkClaims(claims, options);
  return claims;
}
