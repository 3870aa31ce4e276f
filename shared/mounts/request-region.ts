/**
 * Where a request is served when the deployment spans two regions on a DynamoDB global
 * table. A replica answers reads exactly as its last replicated write left it, but a
 * conditional write is checked against that replica only, and two regions' writes to one
 * item are reconciled by last writer wins: two regions could both create the same key, or
 * both take the same lease's claim. So every request that relies on a conditional write
 * being exact runs, for the whole request, against the home region's table:
 *
 * - reads and lists are served locally, unless their route says otherwise (a read that
 *   issues a lease, such as aws/creds);
 * - every other operation goes home, unless its route is marked local (a login writes a
 *   new token under a random id, transit's decrypt or sign writes nothing);
 * - a token with limited uses goes home: every use is a compare-and-set;
 * - a token this region does not know goes home: it may have been made there moments ago,
 *   and the home table decides;
 * - a home-class request with a token the home table does not know yet (made here by a
 *   login moments ago, not replicated) is refused with a 503 to retry, never run with a
 *   token the home region cannot see.
 *
 * When the home region cannot be reached, its store says so and the request is answered
 * 503 with Retry-After before anything was done (shared/store/home-region-store.ts).
 */
import type { Broker } from "../broker.ts";
import type { Operation, Region } from "../engines/engine.ts";
import { CofferError } from "../errors.ts";
import type { RequestHead } from "./router.ts";
import { findRoute } from "./router.ts";

/** The rule for routes that say nothing: reads and lists anywhere, everything else at home. */
export function defaultRegion(operation: Operation): Region {
  return operation === "read" || operation === "list" ? "local" : "home";
}

export interface HomeRegion {
  /** The broker on the home region's table (shared/store/home-region-store.ts). */
  broker: Broker;
  /** Its name, for the messages callers get. */
  name: string;
}

/** The broker that serves `head`: `local` or the home region's. */
export type RequestPlacement = (head: RequestHead) => Promise<Broker>;

export function placeRequests(local: Broker, home: HomeRegion): RequestPlacement {
  return async (head) => {
    const lookup = head.clientToken ? local.tokens.lookup(head.clientToken) : Promise.resolve(undefined);
    lookup.catch(() => {});
    const resolved = await local.mounts.resolve(head.path);
    const route = resolved && findRoute(await local.engineFor(resolved.mount), resolved.rest)?.route;
    const region = route?.region?.[head.operation] ?? defaultRegion(head.operation);
    if (route?.unauthenticated) return region === "local" ? local : home.broker;

    const token = await lookup;
    // Unknown here, or a mount this replica has not seen yet: the home table decides.
    if (token === undefined || route === undefined) return home.broker;
    if (region === "local" && token.numUses === 0) return local;

    if (head.clientToken && (await home.broker.tokens.lookup(head.clientToken)) === undefined) {
      throw new CofferError(
        "ERR_UPSTREAM_UNAVAILABLE",
        `this token has not reached the home region (${home.name}) yet, and this request is served there; retry in a moment`,
      );
    }
    return home.broker;
  };
}
