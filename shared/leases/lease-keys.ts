/**
 * Where leases live in the item store. A lease and its index items are written in one
 * atomic write and deleted in one, so no index ever points at a lease that is gone and no
 * lease is missing from an index.
 *
 *   pk "lease/<first segment of id>"     sk "<lease id>"                   the lease itself
 *   pk "lease-exp/<shard>"               sk "<due ms, 15 digits>/<lease id>"   expiry index
 *   pk "lease-identity/<entity id>"      sk "<lease id>"                   leases of an identity
 *   pk "lease-token/<token accessor>"    sk "<lease id>"                   leases of a token
 *
 * Lease ids are hierarchical ("aws/creds/deploy/<random>"), so the lease items double as
 * the prefix index: revoke-prefix and LIST are one prefix query on the partition of the
 * prefix's first segment. Prefixes always end at a segment boundary (see sys/leases), so
 * that segment is always known.
 *
 * The expiry index is spread over EXPIRY_SHARDS partitions by a hash of the lease id, so
 * neither issuing nor sweeping concentrates on one partition; a sweep queries every shard
 * up to now in parallel. Its sort key is the time the revoker should next act: the expiry,
 * or a retry time after a failed revocation, or a clean-up time after an early one.
 */
import type { ItemKey } from "../store/item-store.ts";

/** Fixed for the life of a table: changing it would strand index items in old shards. */
export const EXPIRY_SHARDS = 16;

const DUE_DIGITS = 15;

export const firstSegment = (id: string) => id.slice(0, Math.max(0, id.indexOf("/"))) || id;

export const leasePartition = (id: string) => `lease/${firstSegment(id)}`;

export const leaseKey = (id: string): ItemKey => ({ pk: leasePartition(id), sk: id });

/** FNV-1a over the UTF-16 code units: stable, cheap, and spread well enough for sharding. */
export function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % EXPIRY_SHARDS;
}

export const expiryPartition = (shard: number) => `lease-exp/${String(shard).padStart(2, "0")}`;

/** The year 33658: later times sort as this one. */
export const LATEST_DUE = 10 ** DUE_DIGITS - 1;

export const dueSortKey = (dueAt: number) =>
  String(Math.min(LATEST_DUE, Math.max(0, Math.floor(dueAt)))).padStart(DUE_DIGITS, "0");

export const expiryKey = (id: string, dueAt: number): ItemKey => ({
  pk: expiryPartition(shardOf(id)),
  sk: `${dueSortKey(dueAt)}/${id}`,
});

/** The lease id and due time an expiry index sort key names. */
export function parseExpirySortKey(sk: string): { id: string; dueAt: number } {
  return { dueAt: Number(sk.slice(0, DUE_DIGITS)), id: sk.slice(DUE_DIGITS + 1) };
}

export const identityPartition = (entityId: string) => `lease-identity/${entityId}`;

export const tokenPartition = (accessor: string) => `lease-token/${accessor}`;

/** Every index item of a lease, besides the lease item itself. */
export function indexKeys(lease: {
  id: string;
  dueAt: number;
  identity: { entityId: string; accessor: string };
}): ItemKey[] {
  const keys = [expiryKey(lease.id, lease.dueAt)];
  if (lease.identity.entityId) keys.push({ pk: identityPartition(lease.identity.entityId), sk: lease.id });
  if (lease.identity.accessor) keys.push({ pk: tokenPartition(lease.identity.accessor), sk: lease.id });
  return keys;
}
