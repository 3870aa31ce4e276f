/**
 * What the API function does at initialization, all at once, instead of one step after
 * another inside the first request: unwrap keyring version 1 and derive the audit key
 * from it (every request's audit record needs it; token hashes need the same version),
 * read the mount table, and load the code of the engines nearly every request meets.
 *
 * A failure here costs nothing but time: the request that needs the piece tries again,
 * and if it still fails because KMS or DynamoDB is unavailable, that request is answered
 * 503 with Retry-After before anything is done (its request record cannot be written).
 */
import type { Broker } from "../shared/broker.ts";

/** Longest the function's initialization waits for the warm-up. */
export const WARM_UP_BUDGET_MS = 2_000;

export async function warmUp(broker: Broker, budgetMs = WARM_UP_BUDGET_MS): Promise<void> {
  const work = Promise.allSettled([
    // Only an existing version 1: deriving a key on an uninitialized table would create one.
    broker.keyring.get(1).then(() => broker.audit.loadKey()),
    broker.mounts.list(),
    broker.engines.types.kv?.load(),
    broker.engines.builtin.token?.(),
  ]);
  await Promise.race([work, new Promise((resolve) => setTimeout(resolve, budgetMs).unref())]);
}
