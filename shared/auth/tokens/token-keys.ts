/**
 * Where tokens live in the item store. A token and its index items are written in one
 * atomic write and deleted in one, so no index points at a token that is gone (except
 * for the moment a revocation walks them, see token-revocation.ts) and no token is
 * missing from an index.
 *
 *   pk "token/<hmac>"                    sk "token"                   the token itself
 *   pk "accessor/<accessor>"             sk "accessor"                {token_hmac} while the token
 *                                                                     is live, {revoked_token_hmac}
 *                                                                     once its revocation started
 *   pk "token-exp/<shard>"               sk "<due ms, 15 digits>/<accessor>"   the token index
 *   pk "token-children/<parent accessor>" sk "<child accessor>"       the tree
 *   pk "auth-tokens/<mount accessor>"    sk "<hmac>"                  tokens of an auth mount
 *   pk "token-entity/<entity id>"        sk "<accessor>"              tokens of an identity
 *
 * The token index holds every token, sharded like the lease expiry index, by the time the
 * revoker should next act on it: its expiry while it is live (the far future for a token
 * that never expires), the time its revocation continues once that has started. The sweep
 * reads it up to now; LIST auth/token/accessors reads all of it.
 *
 * The accessor item is the token's liveness: every write that attaches something to a
 * token (a child, a lease) or changes a live token checks `token_hmac` on it in the same
 * atomic write, and marking a token for revocation replaces that attribute. So once a
 * revocation has started, nothing new can attach to the token, whichever process tries.
 */

import { dueSortKey, EXPIRY_SHARDS, shardOf } from "../../leases/lease-keys.ts";
import type { ItemKey } from "../../store/item-store.ts";

export const TOKEN_SHARDS = EXPIRY_SHARDS;

export const tokenKey = (hmac: string): ItemKey => ({ pk: `token/${hmac}`, sk: "token" });

export const accessorKey = (accessor: string): ItemKey => ({ pk: `accessor/${accessor}`, sk: "accessor" });

export const tokenIndexPartition = (shard: number) => `token-exp/${String(shard).padStart(2, "0")}`;

export const tokenIndexKey = (accessor: string, dueAt: number): ItemKey => ({
  pk: tokenIndexPartition(shardOf(accessor)),
  sk: `${dueSortKey(dueAt)}/${accessor}`,
});

const DUE_DIGITS = dueSortKey(0).length;

/** The accessor and due time a token index sort key names. */
export function parseTokenIndexSortKey(sk: string): { accessor: string; dueAt: number } {
  return { dueAt: Number(sk.slice(0, DUE_DIGITS)), accessor: sk.slice(DUE_DIGITS + 1) };
}

export const childrenPartition = (parentAccessor: string) => `token-children/${parentAccessor}`;

export const childKey = (parentAccessor: string, childAccessor: string): ItemKey => ({
  pk: childrenPartition(parentAccessor),
  sk: childAccessor,
});

export const mountTokensPartition = (mountAccessor: string) => `auth-tokens/${mountAccessor}`;

export const mountIndexKey = (mountAccessor: string, hmac: string): ItemKey => ({
  pk: mountTokensPartition(mountAccessor),
  sk: hmac,
});

export const entityTokensPartition = (entityId: string) => `token-entity/${entityId}`;

export const entityIndexKey = (entityId: string, accessor: string): ItemKey => ({
  pk: entityTokensPartition(entityId),
  sk: accessor,
});
