/**
 * What a request that revokes tokens answers, as a lease revocation answers
 * (docs/leases.md, "What a revoke answers"): 204 only once every token of the trees and
 * every lease of theirs was seen ended, else a 503 with Retry-After that says what is
 * left. The tokens are unusable already either way, and the revoker finishes the rest; a
 * retry continues where this request stopped.
 */
import type { EngineResponse } from "../../engines/engine.ts";
import { CofferError } from "../../errors.ts";
import type { TokenRevocation } from "./token-revocation.ts";

export function revocationResponse(
  outcome: TokenRevocation,
  subject = "the token is revoked and can no longer be used",
): EngineResponse {
  if (outcome.complete) return {};
  const [failed] = outcome.failed;
  const [pending] = outcome.pending;
  const left = failed
    ? `${outcome.failed.length} leases could not be revoked (they stay marked and the revoker retries them): ${failed.id}: ${failed.error}`
    : pending
      ? `${outcome.pending.length} leases are still being revoked by another request or the revoker: ${pending}`
      : "the tree is larger than one request revokes";
  throw new CofferError(
    "ERR_UPSTREAM_UNAVAILABLE",
    `${subject}, but the revocation is not finished: ${left}; the revoker finishes it; retry to see it finished`,
  );
}
