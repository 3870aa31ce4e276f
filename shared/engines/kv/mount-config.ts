/**
 * A KV v2 mount's settings (`<mount>/config`): the defaults every secret of the mount
 * falls back to. Stored as one item; each process caches it for at most CONFIG_CACHE_MS,
 * so a change made through one Lambda instance reaches writes in every other within that
 * bound (at once in the instance that made it). Only writes consult it: reads never pay
 * for it.
 */
import type { ItemStore } from "../../store/item-store.ts";
import { configKey, type SecretMetadata } from "./storage.ts";

export const CONFIG_CACHE_MS = 5_000;
/** Versions kept when neither the secret nor the mount says otherwise (Vault's default). */
export const DEFAULT_MAX_VERSIONS = 10;
/** A mount's delete_version_after that turns the setting off for every secret, as in Vault. */
export const DELETE_VERSION_AFTER_DISABLED = -1;

export interface KvConfig {
  /** 0 = DEFAULT_MAX_VERSIONS. */
  max_versions: number;
  cas_required: boolean;
  /** Seconds; 0 = unset, DELETE_VERSION_AFTER_DISABLED = off for every secret. */
  delete_version_after: number;
}

export const DEFAULT_CONFIG: Readonly<KvConfig> = {
  max_versions: 0,
  cas_required: false,
  delete_version_after: 0,
};

export interface MountConfigStore {
  /** The config as this process last saw it, at most CONFIG_CACHE_MS old. */
  get(): Promise<KvConfig>;
  /** Applies `change` to the stored config (read afresh) and saves it; the last write wins, as in Vault. */
  update(change: (config: KvConfig) => void): Promise<KvConfig>;
}

export function createMountConfigStore(
  store: ItemStore,
  mountUuid: string,
  now: () => number,
): MountConfigStore {
  let cache: { config: KvConfig; loadedAt: number } | undefined;
  const key = configKey(mountUuid);
  async function load(): Promise<KvConfig> {
    const item = await store.get(key);
    const config: KvConfig = item
      ? {
          max_versions: Number(item.max_versions ?? 0),
          cas_required: item.cas_required === true,
          delete_version_after: Number(item.delete_version_after ?? 0),
        }
      : { ...DEFAULT_CONFIG };
    cache = { config, loadedAt: now() };
    return { ...config };
  }

  return {
    async get() {
      if (cache && now() - cache.loadedAt < CONFIG_CACHE_MS) return { ...cache.config };
      return load();
    },
    async update(change) {
      const config = await load();
      change(config);
      await store.write([{ op: "put", item: { ...key, ...config } }]);
      cache = { config: { ...config }, loadedAt: now() };
      return { ...config };
    },
  };
}

/** The secret's max_versions if set, else the mount's, else the default. */
export function effectiveMaxVersions(metadata: SecretMetadata, config: KvConfig): number {
  return metadata.max_versions || config.max_versions || DEFAULT_MAX_VERSIONS;
}

/**
 * When a version written (or undeleted) at `from` becomes deleted: after the shorter of
 * the secret's and the mount's non-zero delete_version_after, never when both are unset
 * or the mount turned the setting off. "" when never, as Vault reports it.
 */
export function deletionTimeFor(from: number, metadata: SecretMetadata, config: KvConfig): string {
  if (config.delete_version_after === DELETE_VERSION_AFTER_DISABLED) return "";
  const candidates = [metadata.delete_version_after, config.delete_version_after].filter(
    (seconds) => seconds > 0,
  );
  if (candidates.length === 0) return "";
  return new Date(from + Math.min(...candidates) * 1000).toISOString();
}
