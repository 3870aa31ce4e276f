/**
 * What the API function does at initialization, all at once, instead of one step after
 * another inside the first request: unwrap keyring version 1 and derive the audit key
 * from it (every request's audit record needs it; token hashes need the same version),
 * read the mount table, load the code of the engines nearly every request meets, and
 * Node's Request and Response classes.
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
    loadFetchClasses(),
  ]);
  await Promise.race([work, new Promise((resolve) => setTimeout(resolve, budgetMs).unref())]);
}

/**
 * Node loads its fetch implementation (undici) the first time Request or Response is
 * used, which the Lambda adapter does for every event: about 50 ms that would otherwise
 * fall on the first request instead of the initialization.
 */
async function loadFetchClasses(): Promise<void> {
  await new Response(new Request("https://warm-up.invalid/", { method: "POST", body: "{}" }).body).text();
}
