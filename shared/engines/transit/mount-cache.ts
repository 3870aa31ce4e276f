/**
 * What a process remembers about one transit mount: key policies for a few seconds,
 * unsealed key versions for as long as it lives, and the changes to keys it is making.
 * Kept by the mount's one engine instance, which serves its requests and runs its
 * periodic rotation alike, so a change made by one is seen at once by the other.
 */
import type { KeyPolicy } from "./key-policy.ts";

/** Unsealed versions and signing keys a process keeps per mount; the oldest entry leaves first beyond it. */
export const MAX_CACHED_VERSIONS = 4096;

export interface CachedPolicy {
  policy: KeyPolicy;
  /** The clock's time when it was read. */
  loadedAt: number;
}

export interface MountCache {
  policies: Map<string, CachedPolicy>;
  /** Policy reads in flight, so concurrent misses share one store read. */
  loading: Map<string, Promise<KeyPolicy | undefined>>;
  /**
   * Keyed by `${keyId}/${version}`; a signing key's imported private and public keys by
   * `${keyId}/${version}/private/<algorithm>` and `.../public/<algorithm>`.
   */
  versions: Map<string, Promise<CryptoKey>>;
  /** The last change queued per key name: changes from one process run one at a time. */
  changes: Map<string, Promise<unknown>>;
}

export function createMountCache(): MountCache {
  return { policies: new Map(), loading: new Map(), versions: new Map(), changes: new Map() };
}

/** Drops everything remembered (the mount was disabled). */
export function forgetAll(cache: MountCache): void {
  cache.policies.clear();
  cache.loading.clear();
  cache.versions.clear();
}
