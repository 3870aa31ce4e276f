/**
 * How a KV v2 secret lives in the item store.
 *
 *   pk "kv/<mount uuid>/<path>"   sk "v/0000000001" ...  one item per version: the envelope
 *                                 sk "~meta"            the secret's metadata and version states
 *   pk "kvkeys/<mount uuid>"      sk "<path>"           one item per secret, for LIST
 *
 * "~" sorts after "v/", so one descending query of two items returns the metadata and the
 * newest version together: a read of the latest version is one round trip.
 *
 * Metadata carries a revision number that every change increments and every change is
 * conditioned on, so concurrent writers never lose each other's updates.
 */
import type { AttributeValue, Item, ItemKey } from "../../store/item-store.ts";

export const META_SK = "~meta";
export const versionSk = (version: number) => `v/${String(version).padStart(10, "0")}`;
export const secretPk = (mountUuid: string, path: string) => `kv/${mountUuid}/${path}`;
export const keysPk = (mountUuid: string) => `kvkeys/${mountUuid}`;
export const metaKey = (mountUuid: string, path: string): ItemKey => ({ pk: secretPk(mountUuid, path), sk: META_SK });
export const versionKey = (mountUuid: string, path: string, version: number): ItemKey => ({
  pk: secretPk(mountUuid, path),
  sk: versionSk(version),
});

export interface VersionState {
  created_time: string;
  /** "" while the version is live. */
  deletion_time: string;
  destroyed: boolean;
}

export interface SecretMetadata {
  revision: number;
  current_version: number;
  oldest_version: number;
  /** 0 = the mount's setting. */
  max_versions: number;
  cas_required: boolean;
  /** Seconds; 0 = never. */
  delete_version_after: number;
  custom_metadata: Record<string, string>;
  created_time: string;
  updated_time: string;
  versions: Record<string, VersionState>;
}

export function newMetadata(now: string): SecretMetadata {
  return {
    revision: 0,
    current_version: 0,
    oldest_version: 0,
    max_versions: 0,
    cas_required: false,
    delete_version_after: 0,
    custom_metadata: {},
    created_time: now,
    updated_time: now,
    versions: {},
  };
}

export function metadataFromItem(item: Item): SecretMetadata {
  return {
    revision: Number(item.revision),
    current_version: Number(item.current_version),
    oldest_version: Number(item.oldest_version),
    max_versions: Number(item.max_versions ?? 0),
    cas_required: item.cas_required === true,
    delete_version_after: Number(item.delete_version_after ?? 0),
    custom_metadata: (item.custom_metadata ?? {}) as Record<string, string>,
    created_time: String(item.created_time),
    updated_time: String(item.updated_time),
    versions: (item.versions ?? {}) as unknown as Record<string, VersionState>,
  };
}

export function metadataItem(key: ItemKey, metadata: SecretMetadata): Item {
  return { ...key, ...(metadata as unknown as Record<string, AttributeValue>) };
}
