/**
 * The narrow storage port the broker core sees. One table, items addressed by a partition
 * key and a sort key, as in DynamoDB's single-table design. Adapters: dynamodb.ts
 * (production) and sqlite.node.ts (the embedded default). Both pass test/contract/store.
 *
 * Every read is strongly consistent: a secrets broker must read its own writes.
 */

/** What an attribute may hold. Binary values are Uint8Array and come back as Uint8Array. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | AttributeValue[]
  | { [name: string]: AttributeValue };

export interface ItemKey {
  pk: string;
  sk: string;
}

/** An item: its key plus named attributes. `pk` and `sk` are reserved attribute names. */
export type Item = ItemKey & { [name: string]: AttributeValue };

/**
 * A condition on the current state of one item, checked atomically with the write.
 * - `{ exists: false }`: the item must not exist.
 * - `{ exists: true }`: the item must exist.
 * - `{ attribute, equals }`: the item must exist and the attribute must equal the value
 *   (strings, numbers and booleans only).
 */
export type Condition = { exists: boolean } | { attribute: string; equals: string | number | boolean };

export type WriteOp =
  | { op: "put"; item: Item; condition?: Condition }
  | { op: "delete"; key: ItemKey; condition?: Condition }
  /** Asserts a condition on an item the write does not otherwise touch. */
  | { op: "check"; key: ItemKey; condition: Condition };

export interface QueryInput {
  pk: string;
  /** Only items whose sort key starts with this. Not combined with a range. */
  prefix?: string;
  /** Inclusive lower bound of the sort key. */
  from?: string;
  /** Inclusive upper bound of the sort key. */
  to?: string;
  /** Highest sort key first. */
  descending?: boolean;
  /** At most this many items in the page (the adapter may return fewer). */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

export interface QueryPage {
  items: Item[];
  /** Present when more items may follow; pass it back as `cursor`. */
  cursor?: string;
}

/**
 * Every item of the table, page by page, in no promised order: for operator commands that
 * copy a whole deployment (export). No request path reads this way, and the functions'
 * roles may not (dynamodb:Scan is not granted). Adapters: sqlite.node.ts, dynamodb-scan.ts.
 */
export interface ItemScanner {
  scan(input: { limit?: number; cursor?: string }): Promise<QueryPage>;
}

/** The largest number of operations one atomic write takes (DynamoDB's transaction limit). */
export const MAX_WRITE_OPS = 100;

export interface ItemStore {
  get(key: ItemKey): Promise<Item | undefined>;
  /** Results in the order of `keys`; a missing item is `undefined`. */
  batchGet(keys: readonly ItemKey[]): Promise<(Item | undefined)[]>;
  query(input: QueryInput): Promise<QueryPage>;
  /**
   * Applies every operation or none. Throws CofferError ERR_CONDITION_FAILED when any
   * condition does not hold, and ERR_INVALID_REQUEST for more than MAX_WRITE_OPS
   * operations or two operations on the same item.
   */
  write(ops: readonly WriteOp[]): Promise<void>;
  close(): Promise<void>;
}

/** Deletes every item of a partition, a page (one atomic write) at a time. */
export async function deletePartition(store: ItemStore, pk: string): Promise<void> {
  for (;;) {
    const page = await store.query({ pk, limit: MAX_WRITE_OPS });
    if (page.items.length === 0) return;
    await store.write(page.items.map((item): WriteOp => ({ op: "delete", key: { pk, sk: item.sk } })));
  }
}

/** The sort keys under `prefix` in a partition, without the prefix, sorted: a LIST's names. */
export async function listSortKeys(store: ItemStore, pk: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query({ pk, prefix, cursor });
    names.push(...page.items.map((item) => item.sk.slice(prefix.length)));
    cursor = page.cursor;
  } while (cursor);
  return names.sort();
}
