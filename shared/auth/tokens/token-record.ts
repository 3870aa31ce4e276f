/**
 * A broker token as stored: its item, the index items that go with it, and the conditions
 * every change of a token is written under.
 */
import type { Caller } from "../../engines/engine.ts";
import type { ProvenIdentity } from "../../engines/proven-identity.ts";
import { LATEST_DUE } from "../../leases/lease-keys.ts";
import type { PolicyIdentity } from "../../policy/acl.ts";
import type { Condition, Item, ItemKey, WriteOp } from "../../store/item-store.ts";
import {
  accessorKey,
  childKey,
  entityIndexKey,
  mountIndexKey,
  tokenIndexKey,
  tokenKey,
} from "./token-keys.ts";

/** "active": usable. "revoking": its revocation has started; it is unusable and nothing attaches to it. */
export type TokenState = "active" | "revoking";

/** What a revocation does with the token's children: revokes them too, or makes them orphans. */
export type RevokeMode = "tree" | "orphan";

/** `numUses` of a token whose last use has been taken: unusable, revoked after that request. */
export const SPENT = -1;

/** The due time of a token that never expires: it sorts after every other in the token index. */
export const NEVER = LATEST_DUE;

export interface TokenRecord {
  /** The HMAC of the token: its storage key, never shown to anyone. */
  hmac: string;
  /** A public handle to the token (lookup and revoke without holding it), as in Vault. */
  accessor: string;
  policies: string[];
  displayName: string;
  /** Free-form data of the token's maker, shown by lookup and in the audit log; grants nothing. */
  meta: Record<string, string>;
  /** Where the token came from: "auth/token/root", "auth/kubernetes/login", "auth/token/create/ci", ... */
  path: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds; null for tokens that never expire (root). */
  expiresAt: number | null;
  /** Renewals never push expiry past this (epoch ms); null when unbounded (periodic, root). */
  maxExpiresAt: number | null;
  /** The TTL the token was created with, in seconds (0 when it never expires). */
  creationTtl: number;
  /** The TTL the last creation or renewal granted, in seconds: what a renewal without increment grants again. */
  ttl: number;
  /** The explicit maximum TTL it was created with, in seconds; 0 when none was set. */
  explicitMaxTtl: number;
  /** A periodic token's period in seconds: each renewal grants exactly this. 0 otherwise. */
  period: number;
  /** Uses left: 0 for unlimited, SPENT once the last one is taken. */
  numUses: number;
  /** Epoch milliseconds of the last renewal; null before the first. */
  lastRenewedAt: number | null;
  renewable: boolean;
  /** The accessor of the token that made it; "" for an orphan. */
  parent: string;
  /** The token role it was created against; "" for none. */
  role: string;
  /** Set by a login, inherited by children; absent on tokens tied to no identity (root, orphans). */
  identity?: ProvenIdentity;
  state: TokenState;
  /** While revoking: whether its children are revoked too or made orphans. */
  revokeMode: RevokeMode;
  /** Every change increments it and is conditioned on it; 0 for a token stored before revisions. */
  revision: number;
  /** When the revoker should next act on the token: its entry's time in the token index. */
  dueAt: number;
  /** Revocation passes that could not finish because of a lease, since the revocation started. */
  attempts: number;
}

/** Whether a token may be used now: not revoked, not expired, not spent. */
export const usable = (record: TokenRecord, now: number) =>
  record.state === "active" &&
  record.numUses !== SPENT &&
  (record.expiresAt === null || record.expiresAt > now);

/** What templated policies may know about the token's holder: its proven identity only. */
export function policyIdentityOf(holder: { identity?: ProvenIdentity }): PolicyIdentity {
  if (!holder.identity) return { aliases: {} };
  const { mountAccessor, aliasName, metadata, entityId } = holder.identity;
  return {
    aliases: { [mountAccessor]: metadata },
    aliasNames: { [mountAccessor]: aliasName },
    entityId: entityId || undefined,
  };
}

/** What an engine learns of the token's holder: never the token, its HMAC or its `meta`. */
export function callerOf(record: TokenRecord): Caller {
  return {
    accessor: record.accessor,
    policies: record.policies,
    displayName: record.displayName,
    ...(record.identity ? { identity: record.identity } : {}),
  };
}

export function tokenToItem(record: TokenRecord): Item {
  return {
    ...tokenKey(record.hmac),
    accessor: record.accessor,
    policies: record.policies,
    display_name: record.displayName,
    meta: record.meta,
    path: record.path,
    issued_at: record.issuedAt,
    expires_at_ms: record.expiresAt,
    max_expires_at_ms: record.maxExpiresAt,
    creation_ttl: record.creationTtl,
    ttl: record.ttl,
    explicit_max_ttl: record.explicitMaxTtl,
    period: record.period,
    num_uses: record.numUses,
    last_renewed_at: record.lastRenewedAt,
    renewable: record.renewable,
    parent: record.parent,
    role: record.role,
    entity_id: record.identity?.entityId ?? "",
    ...(record.identity
      ? {
          identity: {
            mount_accessor: record.identity.mountAccessor,
            alias_name: record.identity.aliasName,
            metadata: record.identity.metadata,
          },
        }
      : {}),
    state: record.state,
    revoke_mode: record.revokeMode,
    revision: record.revision,
    due_at: record.dueAt,
    attempts: record.attempts,
  };
}

function identityFromItem(value: unknown, entityId: unknown): ProvenIdentity | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const identity = value as Record<string, unknown>;
  return {
    entityId: String(entityId ?? ""),
    mountAccessor: String(identity.mount_accessor),
    aliasName: String(identity.alias_name),
    metadata: (identity.metadata as Record<string, string>) ?? {},
  };
}

const numberOr = (value: unknown, otherwise: number) =>
  value === undefined || value === null ? otherwise : Number(value);

/** A token item as a record. Items written before token trees lack the newer attributes: they read as live orphans. */
export function tokenFromItem(item: Item): TokenRecord {
  const identity = identityFromItem(item.identity, item.entity_id);
  const expiresAt = item.expires_at_ms === null ? null : Number(item.expires_at_ms);
  const creationTtl = Number(item.creation_ttl ?? 0);
  return {
    hmac: item.pk.slice("token/".length),
    accessor: String(item.accessor),
    policies: (item.policies as string[]) ?? [],
    displayName: String(item.display_name ?? ""),
    meta: (item.meta as Record<string, string>) ?? {},
    path: String(item.path ?? ""),
    issuedAt: Number(item.issued_at),
    expiresAt,
    maxExpiresAt: item.max_expires_at_ms === null ? null : Number(item.max_expires_at_ms),
    creationTtl,
    ttl: numberOr(item.ttl, creationTtl),
    explicitMaxTtl: numberOr(item.explicit_max_ttl, 0),
    period: numberOr(item.period, 0),
    numUses: numberOr(item.num_uses, 0),
    lastRenewedAt:
      item.last_renewed_at === undefined || item.last_renewed_at === null
        ? null
        : Number(item.last_renewed_at),
    renewable: item.renewable === true,
    parent: String(item.parent ?? ""),
    role: String(item.role ?? ""),
    ...(identity ? { identity } : {}),
    state: item.state === "revoking" ? "revoking" : "active",
    revokeMode: item.revoke_mode === "orphan" ? "orphan" : "tree",
    revision: numberOr(item.revision, 0),
    dueAt: numberOr(item.due_at, expiresAt ?? NEVER),
    attempts: numberOr(item.attempts, 0),
  };
}

/** The token's entry in the token index, at its due time. */
export function tokenIndexItem(record: TokenRecord): Item {
  return { ...tokenIndexKey(record.accessor, record.dueAt), token_hmac: record.hmac, state: record.state };
}

/** The index items that live and die with the token (the accessor item and the token index aside). */
export function treeIndexKeys(record: TokenRecord): ItemKey[] {
  const keys: ItemKey[] = [];
  if (record.parent) keys.push(childKey(record.parent, record.accessor));
  if (record.identity) {
    keys.push(mountIndexKey(record.identity.mountAccessor, record.hmac));
    if (record.identity.entityId) keys.push(entityIndexKey(record.identity.entityId, record.accessor));
  }
  return keys;
}

/** The condition of every change to a stored token: nobody changed it since it was read. */
export const unchanged = (record: TokenRecord): Condition =>
  record.revision > 0
    ? { attribute: "revision", equals: record.revision }
    : { attribute: "accessor", equals: record.accessor };

/** Holds while the token is live: nobody has started revoking it. */
export const stillLive = (record: Pick<TokenRecord, "accessor" | "hmac">): WriteOp => ({
  op: "check",
  key: accessorKey(record.accessor),
  condition: { attribute: "token_hmac", equals: record.hmac },
});

/**
 * The writes that replace `before` with `after`, a live token changed (renewed, used):
 * the token conditioned on its revision and on still being live, its index entry moved
 * when its due time changed. `writeId` marks the write, so that a writer whose answer was
 * lost can tell its own write from another's that wrote the same values.
 */
export function replaceToken(before: TokenRecord, after: TokenRecord, writeId: string): WriteOp[] {
  const ops: WriteOp[] = [
    { op: "put", item: { ...tokenToItem(after), write_id: writeId }, condition: unchanged(before) },
    stillLive(before),
  ];
  if (before.dueAt !== after.dueAt)
    ops.push({ op: "delete", key: tokenIndexKey(before.accessor, before.dueAt) });
  // A token stored before the token index gets its entry with its first change.
  if (before.dueAt !== after.dueAt || before.revision === 0)
    ops.push({ op: "put", item: tokenIndexItem(after) });
  return ops;
}
