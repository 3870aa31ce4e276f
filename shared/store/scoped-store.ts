/**
 * The store an engine receives: it reaches only its mount's items. Every partition key an
 * engine builds names the mount's uuid as its second segment ("kv/<uuid>/app/db",
 * "transit/<uuid>"), and a few engine types keep data that belongs to no one mount in
 * partitions every mount of the type shares (the aws engine's deny lists belong to IAM
 * roles). Any other key is an engine's bug, refused before it reaches the table: whatever
 * key an engine builds, it cannot read or write a token, a policy, a lease or another
 * mount's secrets.
 *
 * The key layout stays what it was, so the scope costs no migration; the check is a string
 * comparison per key.
 */
import { CofferError } from "../errors.ts";
import type { ItemKey, ItemStore, WriteOp } from "./item-store.ts";

export interface StoreScope {
  /** The mount's uuid. */
  uuid: string;
  /** First segments of partitions every mount of the engine's type shares ("aws-deny"). */
  sharedPartitions?: readonly string[];
}

export function scopeStore(store: ItemStore, scope: StoreScope): ItemStore {
  const shared = new Set(scope.sharedPartitions ?? []);

  function check(pk: string): void {
    const [family = "", owner] = pk.split("/", 2);
    if (owner === scope.uuid || shared.has(family)) return;
    throw new CofferError("ERR_INTERNAL", `an engine reached outside its mount: partition "${pk}"`);
  }
  const keyOf = (op: WriteOp): ItemKey => (op.op === "put" ? op.item : op.key);

  return {
    get(key) {
      check(key.pk);
      return store.get(key);
    },
    batchGet(keys) {
      for (const key of keys) check(key.pk);
      return store.batchGet(keys);
    },
    query(input) {
      check(input.pk);
      return store.query(input);
    },
    write(ops) {
      for (const op of ops) check(keyOf(op).pk);
      return store.write(ops);
    },
    // The store belongs to the broker: an engine never closes it.
    close: () => Promise.resolve(),
  };
}
