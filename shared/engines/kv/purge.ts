/**
 * Removes everything a KV mount stored, after the mount is disabled: every secret the
 * listing index or the cleanup index knows, both indexes, and the mount's config.
 */
import { deletePartition, type ItemStore } from "../../store/item-store.ts";
import { cleanupPk, configKey, keysPk, secretPk } from "./storage.ts";

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
