/**
 * A lease: one dynamic credential the broker handed out, with everything needed to end it
 * on time or earlier. The engine's revoke data is sealed (shared/crypto/envelope.ts) with
 * a binding to the lease id, so a copy of the table reveals nothing of it and an edited
 * item fails to open instead of steering a revocation elsewhere.
 */
import type { AttributeValue, Item } from "../store/item-store.ts";
import { leaseKey } from "./lease-keys.ts";

/**
 * "active": the credential is live. "revoked": the engine ended it early but asked to be
 * called once more, after the credential's own expiry, to clean up what revocation left
 * (the AWS engine's deny entries); such a lease is invisible to lookups.
 */
export type LeaseState = "active" | "revoked";

/** Who obtained the lease: the caller's token and its proven identity, kept generic. */
export interface LeaseIdentity {
  /** The token's accessor: revoking the token revokes its leases. */
  accessor: string;
  /** The proven identity's entity; empty for tokens tied to no identity (root). */
  entityId: string;
  displayName: string;
  /** The proven identity's alias metadata (service_account_namespace, ...); never the token's `meta`. */
  metadata: Record<string, string>;
}

export interface LeaseMount {
  path: string;
  uuid: string;
  type: string;
}

export interface Lease {
  id: string;
  /** The lease type that revokes it, registered by the engine that issued it. */
  type: string;
  mount: LeaseMount;
  identity: LeaseIdentity;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
  lastRenewedAt: number | null;
  renewable: boolean;
  /** Renewals never push expiry past this (epoch ms); null when only the type limits it. */
  maxExpiresAt: number | null;
  /** The engine's revoke data, sealed. */
  sealedData: Uint8Array;
  state: LeaseState;
  /** When the engine ended the credential early; null while it has not. */
  revokedAt: number | null;
  /** Someone asked for revocation that has not succeeded yet: it may no longer be renewed. */
  revokeRequested: boolean;
  /** When the revoker should next act on the lease: the expiry index's sort key. */
  dueAt: number;
  /** Every change increments it and is conditioned on it: the basis of claims. */
  revision: number;
  /** A revoker working on the lease, until `until` (epoch ms). */
  claim: { by: string; until: number } | null;
  /** Failed revocation attempts since the last success. */
  attempts: number;
  /** Why the last attempt failed (never secret material). */
  lastError: string;
}

/** The binding of a lease's sealed data: it opens only on this lease. */
export const leaseDataBinding = (id: string) => ({ purpose: "lease-data", lease: id });

export function leaseToItem(lease: Lease): Item {
  return {
    ...leaseKey(lease.id),
    type: lease.type,
    mount: { ...lease.mount },
    identity: { ...lease.identity, metadata: { ...lease.identity.metadata } },
    issued_at: lease.issuedAt,
    expires_at_ms: lease.expiresAt,
    last_renewed_at: lease.lastRenewedAt,
    renewable: lease.renewable,
    max_expires_at_ms: lease.maxExpiresAt,
    data: lease.sealedData,
    state: lease.state,
    revoked_at: lease.revokedAt,
    revoke_requested: lease.revokeRequested,
    due_at: lease.dueAt,
    revision: lease.revision,
    claim: lease.claim ? { ...lease.claim } : null,
    attempts: lease.attempts,
    last_error: lease.lastError,
  };
}

const numberOrNull = (value: AttributeValue | undefined) =>
  value === null || value === undefined ? null : Number(value);

export function leaseFromItem(item: Item): Lease {
  const identity = (item.identity ?? {}) as Record<string, AttributeValue>;
  const mount = (item.mount ?? {}) as Record<string, AttributeValue>;
  const claim = item.claim as { by?: unknown; until?: unknown } | null | undefined;
  return {
    id: item.sk,
    type: String(item.type),
    mount: { path: String(mount.path), uuid: String(mount.uuid), type: String(mount.type) },
    identity: {
      accessor: String(identity.accessor ?? ""),
      entityId: String(identity.entityId ?? ""),
      displayName: String(identity.displayName ?? ""),
      // Leases written before carry `meta`, which mixed in the token's own: not read.
      metadata: (identity.metadata ?? {}) as Record<string, string>,
    },
    issuedAt: Number(item.issued_at),
    expiresAt: Number(item.expires_at_ms),
    lastRenewedAt: numberOrNull(item.last_renewed_at),
    renewable: item.renewable === true,
    maxExpiresAt: numberOrNull(item.max_expires_at_ms),
    sealedData: item.data as Uint8Array,
    state: item.state === "revoked" ? "revoked" : "active",
    revokedAt: numberOrNull(item.revoked_at),
    revokeRequested: item.revoke_requested === true,
    dueAt: Number(item.due_at),
    revision: Number(item.revision),
    claim: claim ? { by: String(claim.by), until: Number(claim.until) } : null,
    attempts: Number(item.attempts ?? 0),
    lastError: String(item.last_error ?? ""),
  };
}
