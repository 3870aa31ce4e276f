/**
 * What a process costs, counted at its boundaries: each store call is a DynamoDB round
 * trip in production and each key provider call a KMS request. Real adapters underneath;
 * the counting is all these wrappers add.
 */
import type { EncryptionContext, KeyProvider } from "../../shared/crypto/key-provider.ts";
import type { ItemKey, ItemStore, QueryInput, WriteOp } from "../../shared/store/item-store.ts";

export interface Counters {
  /** Every store call in order: "get", "batchGet", "query" or "write". */
  calls: string[];
  reads: number;
  writes: number;
  /** What each read asked for: "pk sk" of a get, "pk prefix*" of a query. */
  readKeys: string[];
  unwrap: number;
  generate: number;
}

export function newCounters(): Counters {
  return { calls: [], reads: 0, writes: 0, readKeys: [], unwrap: 0, generate: 0 };
}

export function countingStore(inner: ItemStore, counters: Counters): ItemStore {
  return {
    get(key: ItemKey) {
      counters.calls.push("get");
      counters.reads++;
      counters.readKeys.push(`${key.pk} ${key.sk}`);
      return inner.get(key);
    },
    batchGet(keys: readonly ItemKey[]) {
      counters.calls.push("batchGet");
      counters.reads++;
      counters.readKeys.push(...keys.map((key) => `${key.pk} ${key.sk}`));
      return inner.batchGet(keys);
    },
    query(input: QueryInput) {
      counters.calls.push("query");
      counters.reads++;
      counters.readKeys.push(`${input.pk} ${input.prefix ?? ""}*`);
      return inner.query(input);
    },
    write(ops: readonly WriteOp[]) {
      counters.calls.push("write");
      counters.writes++;
      return inner.write(ops);
    },
    close: () => inner.close(),
  };
}

export function countingKeyProvider(inner: KeyProvider, counters: Counters): KeyProvider {
  return {
    kind: inner.kind,
    generateDataKey(context: EncryptionContext) {
      counters.generate++;
      return inner.generateDataKey(context);
    },
    unwrap(wrapped: Uint8Array, context: EncryptionContext) {
      counters.unwrap++;
      return inner.unwrap(wrapped, context);
    },
  };
}
