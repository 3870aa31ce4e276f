/**
 * How a database mount lives in the item store: one partition per mount.
 *
 *   pk "database/<mount uuid>"   sk "config/<name>"   a connection (everything but its version sealed)
 *                                sk "role/<name>"     one item per role
 */
import { type ItemKey, type ItemStore, listSortKeys } from "../../store/item-store.ts";

export const databasePartition = (mountUuid: string) => `database/${mountUuid}`;
export const CONFIG_PREFIX = "config/";
export const ROLE_PREFIX = "role/";

export const configKey = (mountUuid: string, name: string): ItemKey => ({
  pk: databasePartition(mountUuid),
  sk: `${CONFIG_PREFIX}${name}`,
});

export const roleKey = (mountUuid: string, name: string): ItemKey => ({
  pk: databasePartition(mountUuid),
  sk: `${ROLE_PREFIX}${name}`,
});

/** The names of a mount's connections or roles, sorted. */
export const listNames = (store: ItemStore, mountUuid: string, prefix: string): Promise<string[]> =>
  listSortKeys(store, databasePartition(mountUuid), prefix);
