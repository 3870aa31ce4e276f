/**
 * KV version 2: versioned key/value secrets with Vault's paths and JSON shapes. Each path
 * family has its file: path-data.ts, path-subkeys.ts, path-versions.ts (delete, undelete,
 * destroy), path-metadata.ts, path-config.ts; versioned-store.ts keeps the secrets.
 *
 * Secret data is sealed per version (shared/crypto/envelope.ts) with a binding to the
 * mount, path and version, so a ciphertext copied anywhere else fails to open.
 */
import type { Engine, EngineContext } from "../engine.ts";
import { openKvV2Mount } from "./kv-v2-mount.ts";
import { configRoute } from "./path-config.ts";
import { dataRoute } from "./path-data.ts";
import { metadataRoute } from "./path-metadata.ts";
import { subkeysRoute } from "./path-subkeys.ts";
import { versionRoutes } from "./path-versions.ts";
import { cleanUpMount } from "./periodic-cleanup.ts";
import { purgeKvMount } from "./purge.ts";

export function createKvV2Engine(context: EngineContext): Engine {
  const kv = openKvV2Mount(context);
  return {
    routes: [dataRoute(kv), subkeysRoute(kv), ...versionRoutes(kv), metadataRoute(kv), configRoute(kv)],
    periodic: (deadline) => cleanUpMount(kv.store, kv.mountUuid, kv.now, deadline),
    purge: () => purgeKvMount(kv.store, kv.mountUuid),
  };
}
