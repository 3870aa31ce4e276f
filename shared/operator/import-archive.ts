/**
 * `coffer operator import`: an archive into an empty deployment.
 *
 * 1. Every frame of the archive is verified before anything is written.
 * 2. The archive's keyring becomes the target's: each key wrapped under the target's root
 *    key (kms:Encrypt, or the local root key). A target that already has a keyring is
 *    taken only if it is this archive's (an import that stopped half-way); one with a
 *    keyring of its own is refused: it is not empty, or something used it first.
 * 3. The items are written through a store authenticated by that keyring, so each gets
 *    the MAC it had at the source, in batches, each batch in one atomic write with the
 *    import's progress (pk `import`): a crash loses at most the batch in flight, and
 *    running the same import again continues after the last batch that landed.
 *    `sys/init` goes last, so a deployment looks initialized only once it is whole.
 * 4. Running it again once done changes nothing and says so.
 */
import { constantTimeEqual, fromBase64 } from "../crypto/encoding.ts";
import { deriveHmacKey } from "../crypto/hmac.ts";
import type { KeyProvider, KeyWrapper } from "../crypto/key-provider.ts";
import { keyringContext, keyringSortKey, openKeyring } from "../crypto/keyring.ts";
import { CofferError, isCofferError } from "../errors.ts";
import { authenticateStore } from "../store/authenticated-store.ts";
import { itemSize } from "../store/item-size.ts";
import {
  type Item,
  type ItemScanner,
  type ItemStore,
  MAX_WRITE_OPS,
  type WriteOp,
} from "../store/item-store.ts";
import { familyOf, IMPORT_PARTITION, KEYRING_PARTITION } from "./archive-contents.ts";
import { type ArchiveHeader, type ArchiveRecord, decodeItem, invalidArchive } from "./archive-format.ts";

const STATE_KEY = { pk: IMPORT_PARTITION, sk: "state" };
const INIT_KEY = { pk: "sys", sk: "init" };
/** Under DynamoDB's 4 MB per transaction, with room for the progress item. */
const BATCH_BYTES = 3 * 1024 * 1024;
const BATCH_ITEMS = Math.min(50, MAX_WRITE_OPS - 1);

export interface ImportOptions {
  /** The target's raw store. */
  store: ItemStore & ItemScanner;
  keyProvider: KeyProvider;
  keyWrapper: KeyWrapper;
  header: ArchiveHeader;
  records: readonly ArchiveRecord[];
  now?: () => number;
  /** Told after each batch lands (how many items are in place), for progress and crash tests. */
  onBatch?: (written: number) => void;
}

export interface ImportResult {
  archiveId: string;
  items: number;
  /** Items already in place from an earlier run of the same import. */
  resumedAt: number;
  alreadyDone: boolean;
}

export async function importArchive(options: ImportOptions): Promise<ImportResult> {
  const { store, header } = options;
  const keys = new Map<number, Uint8Array>();
  const items: Item[] = [];
  for (const record of options.records) {
    if ("keyring" in record) keys.set(record.keyring.version, fromBase64(record.keyring.key));
    else items.push(decodeItem(record.item));
  }
  const versions = [...keys.keys()].sort((a, b) => a - b);
  if (versions.length === 0 || versions.some((version, index) => version !== index + 1)) {
    throw invalidArchive("its keyring is not versions 1, 2, ... without gaps");
  }
  for (const item of items) {
    const family = familyOf(item.pk);
    if (family === "keyring" || family === "import")
      throw invalidArchive(`it holds a ${family} item as data`);
  }
  // Everything but the initialized marker first: the target is initialized once whole.
  items.sort(
    (a, b) =>
      Number(a.pk === INIT_KEY.pk && a.sk === INIT_KEY.sk) -
      Number(b.pk === INIT_KEY.pk && b.sk === INIT_KEY.sk),
  );

  await adoptKeyring(options, keys, versions);
  const keyring = await openKeyring(store, options.keyProvider, { now: options.now });
  const macKey = await deriveHmacKey(keyring, "item");
  const authenticated = authenticateStore(store, {
    key: async () => macKey,
    onRejected: () => {},
  });

  const state = await authenticated.get(STATE_KEY);
  let next = 0;
  if (state) {
    if (state.archive_id !== header.archive_id) {
      throw notEmpty(`it holds an import of another archive (${String(state.archive_id)})`);
    }
    if (state.done === true)
      return {
        archiveId: header.archive_id,
        items: items.length,
        resumedAt: items.length,
        alreadyDone: true,
      };
    next = Number(state.next);
  } else {
    await refuseExistingData(store);
    await authenticated.write([
      {
        op: "put",
        item: { ...STATE_KEY, archive_id: header.archive_id, next: 0, done: false },
        condition: { exists: false },
      },
    ]);
  }
  const resumedAt = next;

  while (next < items.length) {
    const batch: Item[] = [];
    let bytes = 0;
    for (let index = next; index < items.length && batch.length < BATCH_ITEMS; index++) {
      const size = itemSize(items[index]!);
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(items[index]!);
      bytes += size;
    }
    const ops: WriteOp[] = batch.map((item) => ({ op: "put", item }));
    const after = next + batch.length;
    ops.push({
      op: "put",
      item: { ...STATE_KEY, archive_id: header.archive_id, next: after, done: after === items.length },
      condition: { attribute: "next", equals: next },
    });
    try {
      await authenticated.write(ops);
    } catch (error) {
      if (isCofferError(error, "ERR_CONDITION_FAILED")) {
        throw new CofferError(
          "ERR_CONFLICT",
          "another import of this archive is running into the same deployment",
        );
      }
      throw error;
    }
    next = after;
    options.onBatch?.(next);
  }
  if (items.length === 0) {
    await authenticated.write([
      { op: "put", item: { ...STATE_KEY, archive_id: header.archive_id, next: 0, done: true } },
    ]);
  }
  return { archiveId: header.archive_id, items: items.length, resumedAt, alreadyDone: false };
}

function notEmpty(why: string): CofferError {
  return new CofferError(
    "ERR_INVALID_REQUEST",
    `the target deployment is not empty: ${why}. Import into a new table that no request has reached yet`,
  );
}

/** Makes the archive's keyring the target's, or checks that it already is. */
async function adoptKeyring(options: ImportOptions, keys: Map<number, Uint8Array>, versions: number[]) {
  const { store, keyProvider, keyWrapper } = options;
  const existing = await store.query({ pk: KEYRING_PARTITION });
  if (existing.items.length === 0) {
    for (const version of versions) {
      const wrapped = await keyWrapper.wrap(keys.get(version)!, keyringContext(version));
      try {
        await store.write([
          {
            op: "put",
            item: { pk: KEYRING_PARTITION, sk: keyringSortKey(version), version, wrapped },
            condition: { exists: false },
          },
        ]);
      } catch (error) {
        if (isCofferError(error, "ERR_CONDITION_FAILED"))
          throw notEmpty("a keyring appeared while importing");
        throw error;
      }
    }
    return;
  }
  // A keyring is there: it must be this archive's, written by an earlier run of this import.
  const stored = new Map(existing.items.map((item) => [item.version as number, item.wrapped as Uint8Array]));
  if (existing.cursor !== undefined || stored.size > versions.length)
    throw notEmpty("it has a keyring of its own");
  for (const version of versions) {
    const wrapped = stored.get(version);
    if (!wrapped) {
      // An earlier run stopped between two versions: add the rest.
      await store.write([
        {
          op: "put",
          item: {
            pk: KEYRING_PARTITION,
            sk: keyringSortKey(version),
            version,
            wrapped: await keyWrapper.wrap(keys.get(version)!, keyringContext(version)),
          },
          condition: { exists: false },
        },
      ]);
      continue;
    }
    const key = await keyProvider.unwrap(wrapped, keyringContext(version)).catch(() => undefined);
    if (!key || !constantTimeEqual(key, keys.get(version)!)) throw notEmpty("it has a keyring of its own");
    key.fill(0);
  }
}

/** Only the keyring may be there before the import begins. */
async function refuseExistingData(store: ItemStore & ItemScanner): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await store.scan({ limit: 100, cursor });
    const other = page.items.find((item) => item.pk !== KEYRING_PARTITION);
    if (other) throw notEmpty(`it holds items (${other.pk})`);
    cursor = page.cursor;
  } while (cursor);
}
