/**
 * `coffer operator export`: every item of a deployment, read from the store as stored and
 * each one verified against the keyring (an item that does not verify is left out and
 * reported, as the broker would treat it as absent), with the keyring's keys themselves,
 * unwrapped by the source's root key. The archive is therefore readable without that root
 * key, by whoever holds its passphrase or KMS key: seal it to something kept at least as
 * well as the root key.
 */

import { toBase64 } from "../crypto/encoding.ts";
import { deriveHmacKey } from "../crypto/hmac.ts";
import type { KeyProvider } from "../crypto/key-provider.ts";
import { keyringContext, openKeyring } from "../crypto/keyring.ts";
import type { RejectedItem } from "../store/authenticated-store.ts";
import { checkItemMac, MAC_ATTRIBUTE } from "../store/item-mac.ts";
import type { Item, ItemScanner, ItemStore } from "../store/item-store.ts";
import { familyOf, KEYRING_PARTITION } from "./archive-contents.ts";
import {
  type ArchiveHeader,
  type ArchiveRecord,
  encodeItem,
  type Sealing,
  writeArchive,
} from "./archive-format.ts";

export interface ExportOptions {
  /** The raw store (not the authenticated one): the MACs are checked here. */
  store: ItemStore & ItemScanner;
  keyProvider: KeyProvider;
  contents: ArchiveHeader["contents"];
  sealing: Sealing;
  now?: () => number;
  onRejectedItem?: (rejected: RejectedItem) => void;
}

export interface ExportResult {
  archive: Uint8Array;
  archiveId: string;
  keyringVersions: number;
  items: number;
  rejected: number;
}

const SCAN_PAGE = 500;

export async function exportArchive(options: ExportOptions): Promise<ExportResult> {
  const { store, keyProvider } = options;
  const now = options.now ?? Date.now;
  const records: ArchiveRecord[] = [];

  let keyringVersions = 0;
  let keyringCursor: string | undefined;
  do {
    const page = await store.query({ pk: KEYRING_PARTITION, cursor: keyringCursor });
    for (const item of page.items) {
      const version = item.version as number;
      // Unwrapping checks the version too: the context names it.
      const key = await keyProvider.unwrap(item.wrapped as Uint8Array, keyringContext(version));
      records.push({ keyring: { version, key: toBase64(key) } });
      key.fill(0);
      keyringVersions++;
    }
    keyringCursor = page.cursor;
  } while (keyringCursor);

  const macKey = await deriveHmacKey(await openKeyring(store, keyProvider, { now }), "item");
  let items = 0;
  let rejected = 0;
  let cursor: string | undefined;
  do {
    const page = await store.scan({ limit: SCAN_PAGE, cursor });
    for (const item of page.items) {
      const family = familyOf(item.pk);
      if (family === "keyring" || family === "import") continue;
      if (
        (family === "tokens" && !options.contents.tokens) ||
        (family === "leases" && !options.contents.leases)
      ) {
        continue;
      }
      const failure = checkItemMac(macKey, item);
      if (failure) {
        rejected++;
        options.onRejectedItem?.({ pk: item.pk, sk: item.sk, reason: failure });
        continue;
      }
      const { [MAC_ATTRIBUTE]: _mac, ...verified } = item;
      records.push({ item: encodeItem(verified as Item) });
      items++;
    }
    cursor = page.cursor;
  } while (cursor);

  const archiveId = crypto.randomUUID();
  const archive = await writeArchive(records, {
    archiveId,
    now: now(),
    contents: options.contents,
    sealing: options.sealing,
  });
  return { archive, archiveId, keyringVersions, items, rejected };
}
