/**
 * What the calls on a store would cost on DynamoDB on demand, counted in front of any
 * store: the DynamoDB operation each call becomes (as shared/store/dynamodb.ts sends it)
 * and the read and write request units DynamoDB bills for it.
 *
 * - Reads are strongly consistent: GetItem 1 RRU per 4 KB of the item, rounded up (1 for
 *   an item that is absent); BatchGetItem the same per key, in calls of 100 keys; Query
 *   the total size of the page rounded up to 4 KB, at least 1.
 * - PutItem and DeleteItem: 1 WRU per KB, rounded up, of the larger of the item before
 *   and after (a delete: the item deleted, at least 1). A write whose condition fails is
 *   billed all the same.
 * - TransactWriteItems: twice that per item; a ConditionCheck is counted like a write of
 *   the item checked (DynamoDB reports it under write capacity).
 *
 * Item sizes are DynamoDB's (shared/store/item-size.ts). The size of an item before a
 * write comes from what this wrapper saw written or read, or from a read of the inner
 * store that is neither counted nor delayed.
 */
import { itemSize } from "../../shared/store/item-size.ts";
import type { Item, ItemKey, ItemStore, WriteOp } from "../../shared/store/item-store.ts";

export type DynamoDbOperation =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "PutItem"
  | "DeleteItem"
  | "TransactWriteItems";

export interface RequestUnits {
  calls: Partial<Record<DynamoDbOperation, number>>;
  readUnits: number;
  writeUnits: number;
}

export interface CountingStore extends ItemStore {
  readonly units: RequestUnits;
  reset(): void;
}

const BATCH_GET_KEYS = 100;
const readUnitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
const writeUnitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const keyId = (key: ItemKey) => `${key.pk}\u0000${key.sk}`;

export function countRequestUnits(inner: ItemStore): CountingStore {
  const units: RequestUnits = { calls: {}, readUnits: 0, writeUnits: 0 };
  // Item sizes by key, as last seen: what a delete or an overwrite is billed on.
  const sizes = new Map<string, number>();
  const call = (operation: DynamoDbOperation, count = 1) => {
    units.calls[operation] = (units.calls[operation] ?? 0) + count;
  };
  const seen = (item: Item | undefined) => {
    if (!item) return 0;
    const size = itemSize(item);
    sizes.set(keyId(item), size);
    return size;
  };
  const sizeBefore = async (key: ItemKey) => {
    const known = sizes.get(keyId(key));
    if (known !== undefined) return known;
    const item = await inner.get(key);
    return item ? itemSize(item) : 0;
  };
  const opKey = (op: WriteOp): ItemKey => (op.op === "put" ? op.item : op.key);

  return {
    units,
    reset() {
      units.calls = {};
      units.readUnits = 0;
      units.writeUnits = 0;
    },
    async get(key) {
      const item = await inner.get(key);
      call("GetItem");
      units.readUnits += readUnitsOf(seen(item));
      return item;
    },
    async batchGet(keys) {
      const items = await inner.batchGet(keys);
      call("BatchGetItem", Math.ceil(new Set(keys.map(keyId)).size / BATCH_GET_KEYS));
      for (const item of items) units.readUnits += readUnitsOf(seen(item));
      return items;
    },
    async query(input) {
      const page = await inner.query(input);
      call("Query");
      units.readUnits += readUnitsOf(page.items.reduce((sum, item) => sum + seen(item), 0));
      return page;
    },
    async write(ops) {
      const before = await Promise.all(ops.map((op) => sizeBefore(opKey(op))));
      const transaction = ops.length > 1 || ops[0]?.op === "check";
      if (ops.length > 0)
        call(transaction ? "TransactWriteItems" : ops[0]?.op === "put" ? "PutItem" : "DeleteItem");
      ops.forEach((op, i) => {
        const after = op.op === "put" ? itemSize(op.item) : 0;
        units.writeUnits += writeUnitsOf(Math.max(before[i] as number, after)) * (transaction ? 2 : 1);
      });
      await inner.write(ops);
      for (const op of ops) {
        if (op.op === "put") sizes.set(keyId(op.item), itemSize(op.item));
        else if (op.op === "delete") sizes.delete(keyId(op.key));
      }
    },
    close: () => inner.close(),
  };
}
