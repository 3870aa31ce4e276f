/**
 * A role's cap on the age of the tokens it accepts (`max_age`). Offline verification
 * cannot see that a pod is gone, so without a cap its token logs in until `exp`: for the
 * API server's own audience, a year after the kubelet minted it. The kubelet replaces a
 * running pod's token once it is 24 hours old or past 80% of its life, whichever comes
 * first, so an older token comes from a pod that is gone, from a copy, or from a client
 * that kept the token instead of reading the file again.
 *
 * Two checks, each with its own refusal:
 * - `exp - iat`: a token issued to live longer than the cap is refused at once, rather
 *   than working for a day and failing the next;
 * - `now - iat`: a token older than the cap is refused, whatever its `exp`.
 */
import type { JWTPayload } from "jose";
import { loginDenied } from "./login-errors.ts";

/** Epoch seconds, from claims already checked to be numbers. */
export interface TokenTimes {
  iat?: number;
  exp?: number;
  now: number;
  leeway: number;
}

/**
 * The expiry the kubelet asked for. For its own audiences the API server extends a
 * kubelet's token to a year and records the expiry the kubelet requested as
 * `kubernetes.io.warnafter`; the kubelet still replaces the token on that schedule.
 */
function requestedExpiry(claims: JWTPayload, exp: number): number {
  const kubernetes = claims["kubernetes.io"];
  const warnAfter =
    kubernetes !== null && typeof kubernetes === "object"
      ? (kubernetes as Record<string, unknown>).warnafter
      : undefined;
  return typeof warnAfter === "number" && Number.isFinite(warnAfter) ? Math.min(warnAfter, exp) : exp;
}

export function checkTokenAge(claims: JWTPayload, times: TokenTimes, maxAgeSeconds: number): void {
  const { iat, exp, now, leeway } = times;
  if (iat === undefined) {
    // Legacy Secret-based tokens carry neither iat nor exp; they get here only through a
    // mount that accepts them (allow_legacy_tokens), knowing they never expire.
    if (exp === undefined) return;
    throw loginDenied(
      "ERR_JWT_ISSUED_AT_MISSING",
      `the token has no "iat" claim, so its age cannot be checked against the role's max_age`,
    );
  }
  if (exp !== undefined) {
    const lifetime = requestedExpiry(claims, exp) - iat;
    if (lifetime > maxAgeSeconds) {
      throw loginDenied(
        "ERR_JWT_LIFETIME_TOO_LONG",
        `the token was issued to live ${lifetime} s, longer than the role's max_age (${maxAgeSeconds} s)`,
      );
    }
  }
  const age = Math.floor(now - iat);
  if (age - leeway > maxAgeSeconds) {
    throw loginDenied(
      "ERR_JWT_TOO_OLD",
      `the token was issued ${age} s ago, longer ago than the role's max_age (${maxAgeSeconds} s)`,
    );
  }
}
