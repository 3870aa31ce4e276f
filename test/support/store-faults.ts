/**
 * Store calls that fail the ways a network to DynamoDB fails, once the SDK has retried:
 *
 * - "unavailable": nothing reached the table and the retries ran out (ERR_UPSTREAM_UNAVAILABLE);
 * - "applied-unavailable": the first attempt was applied, its answer lost, and the retries
 *   failed: the caller sees ERR_UPSTREAM_UNAVAILABLE for something that happened;
 * - "applied-retried": the first attempt was applied, its answer lost, and the SDK's retry
 *   reached the table: a conditional write now fails its condition (ERR_CONDITION_FAILED).
 *
 * On DynamoDB the faults are made on the wire, by the fault proxy in front of moto, per SDK
 * call (proxyStoreFaults): the real SDK retries and the real adapter maps what comes back.
 * SQLite has no wire, so the same three outcomes are made at its port (storeWithFaults),
 * exactly as the SDK and the DynamoDB adapter would deliver them.
 */
import { CofferError } from "../../shared/errors.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import type { FaultRule } from "./fault-proxy.ts";

export type StoreFault = "none" | "unavailable" | "applied-unavailable" | "applied-retried";

const unavailable = () => new CofferError("ERR_UPSTREAM_UNAVAILABLE", "injected: the store did not answer");

/** `inner` with each call's fault chosen by `next` (called once per store call). */
export function storeWithFaults(inner: ItemStore, next: () => StoreFault): ItemStore {
  const read =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const fault = next();
      if (fault === "unavailable") throw unavailable();
      const result = await call(...args);
      if (fault === "applied-unavailable") throw unavailable();
      return result;
    };
  return {
    get: read((key) => inner.get(key)),
    batchGet: read((keys) => inner.batchGet(keys)),
    query: read((input) => inner.query(input)),
    async write(ops) {
      const fault = next();
      if (fault === "unavailable") throw unavailable();
      await inner.write(ops);
      if (fault === "applied-unavailable") throw unavailable();
      // The SDK's retry of a write that was applied: its outcome is the caller's.
      if (fault === "applied-retried") await inner.write(ops);
    },
    close: () => inner.close(),
  };
}

/**
 * The same outcomes for DynamoDB calls through the fault proxy: `next` is asked once per
 * SDK call (its first attempt), and its retries follow that choice.
 */
export function proxyStoreFaults(next: () => StoreFault): FaultRule {
  const chosen = new Map<string, StoreFault>();
  return {
    match: (request) => request.service === "dynamodb",
    fault: (request) => {
      if (request.attempt === 1) chosen.set(request.invocation, next());
      const first = request.attempt === 1;
      switch (chosen.get(request.invocation)) {
        case "unavailable":
          return { kind: "reset-before" };
        case "applied-unavailable":
          return first ? { kind: "reset-after" } : { kind: "reset-before" };
        case "applied-retried":
          return first ? { kind: "reset-after" } : undefined;
        default:
          return undefined;
      }
    },
  };
}
