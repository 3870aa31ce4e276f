/**
 * Revoking a token revokes the leases it obtained, as in Vault. TokenStore.revoke is the
 * one path every token revocation takes (revoke-self, revoke by accessor, ...), so the
 * hook wraps it once, where the broker is assembled.
 *
 * Order: the token's leases, then the token, then its leases once more. The first pass
 * runs while the token still exists, so a failure leaves the token in place for the caller
 * to retry; the second catches a lease issued with the token while the first pass ran.
 * Another process that cached the token may still issue a lease with it for up to
 * TOKEN_CACHE_MS after that; such a lease lives until its own expiry.
 *
 * Engine failures do not fail the token's revocation: those leases stay marked for
 * revocation and the revoker retries them with backoff. Store failures do.
 */
import type { TokenStore } from "../auth/tokens/token-store.ts";
import type { LeaseManager } from "./lease-manager.ts";

export function revokingLeasesWithToken(tokens: TokenStore, leases: LeaseManager): TokenStore {
  return {
    ...tokens,
    async revoke(record) {
      await leases.revokeByToken(record.accessor);
      await tokens.revoke(record);
      // Whatever the first pass left to other revokers is under way already: no second wait.
      await leases.revokeByToken(record.accessor, { waitMs: 0 });
    },
  };
}
