/**
 * One transit mount as its path handlers see it: the broker, the mount, where its keys
 * are stored and how their material is made and opened.
 */
import type { Broker } from "../../broker.ts";
import type { Mount } from "../../mounts/mount-table.ts";
import { createKeyMaterial, type KeyMaterial, StaleKeyVersion } from "./key-material.ts";
import type { KeyPolicy } from "./key-policy.ts";
import { createKeyStorage, type KeyStorage } from "./key-storage.ts";

export interface TransitMount {
  broker: Broker;
  mount: Mount;
  storage: KeyStorage;
  material: KeyMaterial;
}

export function openTransitMount(broker: Broker, mount: Mount): TransitMount {
  const storage = createKeyStorage(broker, mount.uuid);
  return { broker, mount, storage, material: createKeyMaterial(broker, mount, storage) };
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

export const nowSeconds = (broker: Broker) => Math.floor(broker.now() / 1000);
