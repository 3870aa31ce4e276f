/**
 * Finishes the removals that do not fit one atomic write (versioned-store.ts): the
 * versions of a secret replaced by a tombstone, and versions pruned below
 * oldest_version. The write that leaves such work records the secret under "kvclean/"
 * with its revision; whoever finishes deletes that record, if it is still the same one.
 *
 * Safe to run by several processes at once and again after an interruption: versions
 * below oldest_version are never read again, and every batch under a tombstone checks
 * that the tombstone is still there, so a secret created again at the same path is never
 * touched.
 */
import { isCofferError } from "../../errors.ts";
import { type ItemStore, MAX_WRITE_OPS, type WriteOp } from "../../store/item-store.ts";
import {
  cleanupKey,
  isTombstone,
  metadataFromItem,
  metaKey,
  secretPk,
  unchangedSince,
  VERSION_PREFIX,
  versionSk,
} from "./storage.ts";

export async function cleanUpSecret(store: ItemStore, uuid: string, path: string): Promise<void> {
  const pk = secretPk(uuid, path);
  const [metaItem, marker] = await store.batchGet([metaKey(uuid, path), cleanupKey(uuid, path)]);
  const found = metaItem ? metadataFromItem(metaItem) : undefined;
  // Deleting the record is conditioned on it: a newer one means more work for someone else.
  const markerDone: WriteOp[] = marker
    ? [
        {
          op: "delete",
          key: cleanupKey(uuid, path),
          condition: { attribute: "revision", equals: marker.revision as string },
        },
      ]
    : [];
  try {
    if (found && !isTombstone(found)) {
      // Items below oldest_version are never read again: deleting them needs no guard.
      if (found.oldest_version > 1) {
        for (;;) {
          const page = await store.query({
            pk,
            from: versionSk(0),
            to: versionSk(found.oldest_version - 1),
            limit: MAX_WRITE_OPS,
          });
          if (page.items.length === 0) break;
          await store.write(page.items.map((item): WriteOp => ({ op: "delete", key: { pk, sk: item.sk } })));
        }
      }
      if (markerDone.length > 0) await store.write(markerDone);
      return;
    }
    // A tombstone, or nothing: every item goes, each batch proving the secret was not
    // created again meanwhile.
    const guard: WriteOp = { op: "check", key: metaKey(uuid, path), condition: unchangedSince(found) };
    for (;;) {
      const page = await store.query({ pk, prefix: VERSION_PREFIX, limit: MAX_WRITE_OPS - 1 });
      if (page.items.length === 0) break;
      await store.write([
        guard,
        ...page.items.map((item): WriteOp => ({ op: "delete", key: { pk, sk: item.sk } })),
      ]);
    }
    if (found) markerDone.push({ op: "delete", key: metaKey(uuid, path), condition: unchangedSince(found) });
    else if (markerDone.length > 0) markerDone.push(guard);
    if (markerDone.length > 0) await store.write(markerDone);
  } catch (error) {
    // Someone else finished first, or created the secret again: nothing left for us.
    if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
  }
}
