/**
 * One transit mount as its path handlers see it: the mount, where its keys are stored,
 * how their material is made and opened, what this process remembers of them, the clock.
 */
import type { EngineContext } from "../engine.ts";
import type { Mount } from "../mount.ts";
import { createKeyMaterial, type KeyMaterial, StaleKeyVersion } from "./key-material.ts";
import type { KeyPolicy } from "./key-policy.ts";
import { createKeyStorage, type KeyStorage } from "./key-storage.ts";
import { createMountCache, type MountCache } from "./mount-cache.ts";

export interface TransitMount {
  mount: Mount;
  storage: KeyStorage;
  material: KeyMaterial;
  cache: MountCache;
  now: () => number;
}

export function openTransitMount({ mount, store, keyring, now }: EngineContext): TransitMount {
  const cache = createMountCache();
  const storage = createKeyStorage(store, mount.uuid, cache, now);
  return { mount, storage, material: createKeyMaterial(keyring, mount, storage, cache), cache, now };
}

/**
 * Runs `use` with the key's policy as this process knows it (undefined when there is no
 * such key). When that policy proves stale, because another process rotated, trimmed,
 * deleted or replaced the key, it runs once more with the policy read afresh (`fresh`).
 */
export async function withKey<T>(
  transit: TransitMount,
  name: string,
  use: (policy: KeyPolicy | undefined, fresh: boolean) => Promise<T>,
): Promise<T> {
  try {
    return await use(await transit.storage.policy(name), false);
  } catch (error) {
    if (!(error instanceof StaleKeyVersion)) throw error;
    return use(await transit.storage.policy(name, { fresh: true }), true);
  }
}

export const nowSeconds = (transit: TransitMount) => Math.floor(transit.now() / 1000);
