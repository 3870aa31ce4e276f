/**
 * Removes everything a KV mount stored, after the mount is disabled: every secret the
 * listing index or the cleanup index knows, both indexes, and the mount's config.
 */
import { type ItemStore, MAX_WRITE_OPS, type WriteOp } from "../../store/item-store.ts";
import { cleanupPk, configKey, keysPk, secretPk } from "./storage.ts";

async function deletePartition(store: ItemStore, pk: string): Promise<void> {
  for (;;) {
    const page = await store.query({ pk, limit: MAX_WRITE_OPS });
    if (page.items.length === 0) return;
    await store.write(page.items.map((item): WriteOp => ({ op: "delete", key: { pk, sk: item.sk } })));
  }
}

export async function purgeKvMount(store: ItemStore, mountUuid: string): Promise<void> {
  for (const indexPk of [keysPk(mountUuid), cleanupPk(mountUuid)]) {
    for (;;) {
      const page = await store.query({ pk: indexPk, limit: 25 });
      if (page.items.length === 0) break;
      for (const { sk: path } of page.items) {
        await deletePartition(store, secretPk(mountUuid, path));
        await store.write([{ op: "delete", key: { pk: indexPk, sk: path } }]);
      }
    }
  }
  await store.write([{ op: "delete", key: configKey(mountUuid) }]);
}
