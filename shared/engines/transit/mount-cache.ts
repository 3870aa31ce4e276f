/**
 * What a process remembers about one transit mount: key policies for a few seconds,
 * unsealed key versions for as long as it lives, and the changes to keys it is making. Shared by every engine instance of the
 * same broker (the API's, the housekeeping's), so a change made through one is seen at
 * once by the others in the process.
 */
import type { Broker } from "../../broker.ts";
import type { KeyPolicy } from "./key-policy.ts";

/** Unsealed versions a process keeps per mount; the oldest entry leaves first beyond it. */
export const MAX_CACHED_VERSIONS = 4096;

export interface CachedPolicy {
  policy: KeyPolicy;
  /** broker.now() when it was read. */
  loadedAt: number;
}

export interface MountCache {
  policies: Map<string, CachedPolicy>;
  /** Policy reads in flight, so concurrent misses share one store read. */
  loading: Map<string, Promise<KeyPolicy | undefined>>;
  /** Keyed by `${keyId}/${version}`. */
  versions: Map<string, Promise<CryptoKey>>;
  /** The last change queued per key name: changes from one process run one at a time. */
  changes: Map<string, Promise<unknown>>;
}

const caches = new WeakMap<Broker, Map<string, MountCache>>();

export function mountCache(broker: Broker, mountUuid: string): MountCache {
  let mounts = caches.get(broker);
  if (!mounts) {
    mounts = new Map();
    caches.set(broker, mounts);
  }
  let cache = mounts.get(mountUuid);
  if (!cache) {
    cache = { policies: new Map(), loading: new Map(), versions: new Map(), changes: new Map() };
    mounts.set(mountUuid, cache);
  }
  return cache;
}

/** Drops everything remembered about a mount (it was disabled). */
export function forgetMount(broker: Broker, mountUuid: string): void {
  caches.get(broker)?.delete(mountUuid);
}
