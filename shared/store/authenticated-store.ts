/**
 * The item store as the broker core sees it: an ItemStore over another one, in which every
 * item written carries a MAC (item-mac.ts) and every item read must verify, or it is
 * treated as absent and reported. Whoever can write to the table but cannot use the root
 * key can delete items or put back old copies of them, never make the broker act on an
 * item it did not write: a token with more policies, a mount of another type, a secret
 * version revived.
 *
 * Conditions pass through unchanged and compare attributes as stored. Every conditional
 * write in the core is a compare-and-set on something it has just read and verified, so a
 * forged item can make a condition hold or fail, as deleting or replaying one could, but
 * what gets written comes only from verified reads.
 */
import type { HmacKey } from "../crypto/hmac.ts";
import { CofferError } from "../errors.ts";
import { checkItemMac, itemMac, MAC_ATTRIBUTE, type MacFailure } from "./item-mac.ts";
import { checkWrite } from "./item-size.ts";
import type { Item, ItemStore, WriteOp } from "./item-store.ts";

/** An item that failed to verify: where it is and why, never its content. */
export interface RejectedItem {
  pk: string;
  sk: string;
  reason: MacFailure;
}

export interface AuthenticatedStoreOptions {
  /** The MAC key; asked for only when an item is read or written, so opening costs nothing. */
  key: () => Promise<HmacKey>;
  /** Told of every item that fails to verify. */
  onRejected: (rejected: RejectedItem) => void;
}

export function authenticateStore(store: ItemStore, options: AuthenticatedStoreOptions): ItemStore {
  const { key, onRejected } = options;

  /** The item without its MAC, or undefined when it does not verify. */
  function verified(macKey: HmacKey, item: Item): Item | undefined {
    const failure = checkItemMac(macKey, item);
    if (failure) {
      onRejected({ pk: item.pk, sk: item.sk, reason: failure });
      return undefined;
    }
    const { [MAC_ATTRIBUTE]: _mac, ...rest } = item;
    return rest as Item;
  }

  function signed(macKey: HmacKey, op: WriteOp): WriteOp {
    if (op.op !== "put") return op;
    if (MAC_ATTRIBUTE in op.item) {
      throw new CofferError(
        "ERR_INTERNAL",
        `the attribute name "${MAC_ATTRIBUTE}" is reserved for the item MAC`,
      );
    }
    return { ...op, item: { ...op.item, [MAC_ATTRIBUTE]: itemMac(macKey, op.item) } };
  }

  return {
    async get(itemKey) {
      const item = await store.get(itemKey);
      return item && verified(await key(), item);
    },

    async batchGet(keys) {
      const items = await store.batchGet(keys);
      if (items.every((item) => item === undefined)) return items;
      const macKey = await key();
      return items.map((item) => item && verified(macKey, item));
    },

    async query(input) {
      let page = await store.query(input);
      for (;;) {
        if (page.items.length === 0) return page;
        const macKey = await key();
        const items = page.items.flatMap((item) => verified(macKey, item) ?? []);
        // Never an empty page while items may follow: loops that delete what they find
        // and query again from the start stop at an empty page, and forged items must not
        // be able to stop them before the real ones.
        if (items.length > 0 || page.cursor === undefined) {
          return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
        }
        page = await store.query({ ...input, cursor: page.cursor });
      }
    },

    async write(ops) {
      // Refuse what no store can hold before hashing it, with the store's own errors.
      checkWrite(ops);
      if (!ops.some((op) => op.op === "put")) return store.write(ops);
      const macKey = await key();
      return store.write(ops.map((op) => signed(macKey, op)));
    },

    close: () => store.close(),
  };
}

/** The default report: one JSON line (on the error stream unless told), for log-based alarms. */
/** The log message of an item that failed authentication; an alarm watches for it (stacks/alarms.ts). */
export const REJECTED_ITEM_MESSAGE = "an item failed authentication and is treated as absent";

export function logRejectedItem(
  rejected: RejectedItem,
  write: (line: string) => void = (line) => console.error(line),
): void {
  write(
    JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      msg: REJECTED_ITEM_MESSAGE,
      ...rejected,
    }),
  );
}
