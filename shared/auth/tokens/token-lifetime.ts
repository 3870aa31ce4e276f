/**
 * How long a token lives, counted as Vault counts it (its framework's CalculateTTL):
 *
 * - a periodic token lives one period at a time, renewable for ever, unless it has an
 *   explicit maximum;
 * - any other token gets its TTL (the default when none was asked for), never past its
 *   maximum: the system maximum, lowered by an explicit maximum;
 * - a renewal grants the increment asked for, else the TTL the last creation or renewal
 *   granted, never past the maximum;
 * - a root token created without TTL or explicit maximum never expires.
 *
 * Every TTL is a whole number of seconds, and the token's expiry is exactly that many
 * seconds after its creation or renewal: a client asking for 3600 gets 3600.
 */
import { invalidRequest } from "../../errors.ts";
import type { TokenRecord } from "./token-record.ts";

/** TTL of a token created without one (Vault's default of 32 days). */
export const DEFAULT_TOKEN_TTL_S = 768 * 3600;
/** No token outlives this without being periodic (Vault's default system max). */
export const MAX_TOKEN_TTL_S = 768 * 3600;

export interface Lifetime {
  /** Seconds; 0 for a token that never expires. */
  ttl: number;
  /** Seconds from creation that renewals never pass; 0 for none (periodic without explicit max, never-expiring root). */
  maxTtl: number;
  warnings: string[];
}

export interface LifetimeRequest {
  /** Seconds; 0 for the default. */
  ttl: number;
  /** Seconds; 0 for none. */
  explicitMaxTtl: number;
  /** Seconds; 0 for a token that is not periodic. */
  period: number;
  /** A root token without ttl and explicit max never expires. */
  root: boolean;
  /** The mount's tuning, seconds; 0 for the system's. */
  mountDefaultTtl?: number;
  mountMaxTtl?: number;
}

const capped = (what: string, wanted: number, limit: number) =>
  `${what} of ${wanted} seconds exceeded the effective max TTL of ${limit} seconds; ${what} value is capped accordingly`;

export function creationLifetime(request: LifetimeRequest): Lifetime {
  const { ttl, explicitMaxTtl, period } = request;
  if (request.root && ttl === 0 && period === 0) {
    // Root tokens are still bound by an explicit max TTL, which is then their TTL.
    return explicitMaxTtl > 0
      ? {
          ttl: Math.min(explicitMaxTtl, MAX_TOKEN_TTL_S),
          maxTtl: Math.min(explicitMaxTtl, MAX_TOKEN_TTL_S),
          warnings: [],
        }
      : { ttl: 0, maxTtl: 0, warnings: [] };
  }
  let maxTtl = Math.min(request.mountMaxTtl || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  if (explicitMaxTtl > 0) maxTtl = Math.min(maxTtl, explicitMaxTtl);
  const warnings: string[] = [];
  if (period > 0) {
    if (period > maxTtl) warnings.push(capped("period", period, maxTtl));
    return { ttl: Math.min(period, maxTtl), maxTtl: explicitMaxTtl > 0 ? maxTtl : 0, warnings };
  }
  const wanted = ttl || request.mountDefaultTtl || DEFAULT_TOKEN_TTL_S;
  if (wanted > maxTtl) warnings.push(capped("TTL", wanted, maxTtl));
  return { ttl: Math.min(wanted, maxTtl), maxTtl, warnings };
}

/** The TTL a renewal grants at `now` (epoch ms), or a 400 when the token cannot be renewed. */
export function renewalTtl(
  record: TokenRecord,
  incrementSeconds: number,
  now: number,
): { ttl: number; warnings: string[] } {
  if (!record.renewable || record.expiresAt === null) throw invalidRequest("token is not renewable");
  // A token stored without a maximum (before maxima were kept) was never meant to outlive the system's.
  const maxExpiresAt =
    record.maxExpiresAt ?? (record.period > 0 ? null : record.issuedAt + MAX_TOKEN_TTL_S * 1000);
  const left = maxExpiresAt === null ? Number.POSITIVE_INFINITY : Math.floor((maxExpiresAt - now) / 1000);
  if (left <= 0) throw invalidRequest("past the max TTL, cannot renew");
  const wanted = record.period > 0 ? record.period : incrementSeconds > 0 ? incrementSeconds : record.ttl;
  return wanted > left
    ? { ttl: left, warnings: [capped("TTL", wanted, left)] }
    : { ttl: wanted, warnings: [] };
}
