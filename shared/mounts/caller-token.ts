/**
 * The caller's token as the core's own token backend needs it (lookup-self shows it,
 * renew-self renews it, a child token inherits from it). Engines see only the Caller on
 * the request; the router keeps the record and the token as presented here, beside the
 * request, so neither ever travels on it.
 */
import type { TokenRecord } from "../auth/tokens/token-store.ts";
import type { EngineRequest } from "../engines/engine.ts";

export interface CallerToken {
  record: TokenRecord;
  /** The token as the caller presented it. */
  token: string;
}

const tokens = new WeakMap<EngineRequest, CallerToken>();

export function attachCallerToken(request: EngineRequest, token: CallerToken): void {
  tokens.set(request, token);
}

/** The caller's token, or undefined on a route reachable without one. */
export function callerTokenOf(request: EngineRequest): CallerToken | undefined {
  return tokens.get(request);
}
