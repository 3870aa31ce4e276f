/**
 * Where a kubernetes auth mount keeps its data: one partition per mount (by its uuid, so
 * a mount enabled again at the same path starts empty).
 *
 *   pk "kubernetes/<mount uuid>"  sk "config"         the mount's configuration
 *                                 sk "role/<name>"    one per role
 */
import type { ItemKey } from "../../store/item-store.ts";

export const mountPartition = (mountUuid: string) => `kubernetes/${mountUuid}`;
export const configKey = (mountUuid: string): ItemKey => ({ pk: mountPartition(mountUuid), sk: "config" });
export const ROLE_PREFIX = "role/";
export const roleKey = (mountUuid: string, name: string): ItemKey => ({
  pk: mountPartition(mountUuid),
  sk: `${ROLE_PREFIX}${name}`,
});
