/** One KV v2 mount as its route files see it: its secrets, its settings, its store and clock. */
import type { ItemStore } from "../../store/item-store.ts";
import type { EngineContext } from "../engine.ts";
import { createMountConfigStore, type MountConfigStore } from "./mount-config.ts";
import { createVersionedStore, type VersionedStore } from "./versioned-store.ts";

export interface KvV2Mount {
  secrets: VersionedStore;
  config: MountConfigStore;
  store: ItemStore;
  mountUuid: string;
  now: () => number;
}

export function openKvV2Mount({ mount, store, keyring, now }: EngineContext): KvV2Mount {
  return {
    secrets: createVersionedStore({ store, keyring, mountUuid: mount.uuid, now }),
    config: createMountConfigStore(store, mount.uuid, now),
    store,
    mountUuid: mount.uuid,
    now,
  };
}
