/**
 * KV version 2: versioned key/value secrets with Vault's paths and JSON shapes. Each path
 * family has its file: data.ts, subkeys.ts, versions.ts (delete, undelete, destroy),
 * metadata.ts, config.ts; versioned-store.ts keeps the secrets.
 *
 * Secret data is sealed per version (shared/crypto/envelope.ts) with a binding to the
 * mount, path and version, so a ciphertext copied anywhere else fails to open.
 */
import type { Broker } from "../../broker.ts";
import type { Mount } from "../../mounts/mount-table.ts";
import type { ItemStore } from "../../store/item-store.ts";
import type { Engine } from "../engine.ts";
import { configRoute } from "./config.ts";
import { dataRoute } from "./data.ts";
import { metadataRoute } from "./metadata.ts";
import { createMountConfigStore, type MountConfigStore } from "./mount-config.ts";
import { purgeKvMount } from "./purge.ts";
import { subkeysRoute } from "./subkeys.ts";
import { createVersionedStore, type VersionedStore } from "./versioned-store.ts";
import { versionRoutes } from "./versions.ts";

/** What the route files of one KV v2 mount share. */
export interface KvV2Context {
  secrets: VersionedStore;
  config: MountConfigStore;
  store: ItemStore;
  mountUuid: string;
  now: () => number;
}

export function createKvV2Engine(mount: Mount, broker: Broker): Engine {
  const kv: KvV2Context = {
    secrets: createVersionedStore({
      store: broker.store,
      keyring: broker.keyring,
      mountUuid: mount.uuid,
      now: broker.now,
    }),
    config: createMountConfigStore(broker.store, mount.uuid, broker.now),
    store: broker.store,
    mountUuid: mount.uuid,
    now: broker.now,
  };
  return {
    routes: [dataRoute(kv), subkeysRoute(kv), ...versionRoutes(kv), metadataRoute(kv), configRoute(kv)],
    purge: () => purgeKvMount(broker.store, mount.uuid),
  };
}
