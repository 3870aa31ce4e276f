/**
 * Disabling a mount, for secrets engines (sys/mounts) and auth methods (sys/auth) alike.
 * As Vault's unmount does, the engine's purge (revoking its leases, deleting its data)
 * runs while the mount is still in the table: if it fails or the function times out, the
 * mount stays, and disabling again resumes it. Once the entry is gone nothing could: the
 * sweep cannot revoke a lease whose mount no longer exists. The purge runs once more after
 * the entry is removed, for what was written in between and for a mount the cached table
 * did not list yet.
 */
import type { Broker } from "../broker.ts";
import type { Mount } from "../engines/mount.ts";
import { normalizeMountPath } from "../mounts/mount-table.ts";

async function purgeMount(broker: Broker, mount: Mount): Promise<void> {
  if (!broker.engines.types[mount.type]) return;
  await (await broker.engineFor(mount)).purge?.();
}

/** Purges and removes the mount at `path`; returns the entry removed, if there was one. */
export async function disableMount(broker: Broker, path: string): Promise<Mount | undefined> {
  const mountPath = normalizeMountPath(path);
  const known = (await broker.mounts.list()).find((mount) => mount.path === mountPath);
  if (known) await purgeMount(broker, known);
  const removed = await broker.mounts.disable(path);
  if (removed) await purgeMount(broker, removed);
  return removed;
}
