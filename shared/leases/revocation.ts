/**
 * Revoking one lease, exactly once however many revokers race for it:
 *
 *   1. claim: a conditional write (on the lease's revision) marks the lease as taken by this
 *      revoker until now + CLAIM_MS and moves its due time in the expiry index to no later
 *      than that; whoever loses the race leaves the lease alone;
 *   2. the engine's revoke runs (bounded by REVOKE_TIMEOUT_MS, well inside the claim);
 *   3. the lease and all its index items go in one write conditioned on the claimed
 *      revision, or, when the engine asked for a clean-up call later, the lease is kept
 *      invisible with its expiry index moved to that time; or, when the engine failed, the
 *      failure is recorded on the lease with the next attempt backed off.
 *
 * A revoker that dies between 1 and 3, or fails to write step 3, or is slowed past its
 * claim (a store that stalls), leaves a claimed lease, due when the claim runs out: the
 * next sweep after that takes it and calls the engine again (lease types must be
 * idempotent). So a revocation is exactly once when every revoker finishes within its
 * claim, and at least once otherwise; a lease is never half-revoked: it is either whole,
 * with its indexes, or entirely gone. Nothing but a revoker writes a claimed lease
 * (renewals and queuing leave it alone), so only a revoker that outlived its claim can
 * lose step 3.
 *
 * A write whose answer was lost (the connection reset after the store applied it) is
 * retried by the SDK and then fails its condition: every write here therefore reads the
 * lease again when its condition fails, and recognises its own write by what it wrote.
 */
import type { AuditLog } from "../audit/audit-log.ts";
import { open } from "../crypto/envelope.ts";
import type { Keyring } from "../crypto/keyring.ts";
import type { JsonObject } from "../engines/engine.ts";
import type { LeaseType, LeaseTypes, LeaseView } from "../engines/lease-type.ts";
import { CofferError, isCofferError } from "../errors.ts";
import type { Log } from "../log.ts";
import type { Item, ItemStore, WriteOp } from "../store/item-store.ts";
import { type Lease, leaseDataBinding, leaseFromItem, leaseToItem } from "./lease.ts";
import { expiryKey, indexKeys, leaseKey } from "./lease-keys.ts";

/** How long a claim keeps other revokers away. Longer than any engine call may take. */
export const CLAIM_MS = 120_000;
/** An engine revoke that takes longer counts as failed (and is retried). */
export const REVOKE_TIMEOUT_MS = 30_000;
/** The first retry after a failed revocation; each further failure doubles it, up to the cap. */
export const RETRY_BASE_MS = 30_000;
export const RETRY_CAP_MS = 3_600_000;
const MAX_ERROR_CHARS = 500;

export interface LeaseContext {
  store: ItemStore;
  keyring: Keyring;
  audit: AuditLog;
  /** Finds the type of a lease through the engine that issued it (the broker hands it in). */
  resolveType: (lease: Lease) => Promise<LeaseType>;
  now: () => number;
  log: Log;
}

export interface RevocationRequest {
  /** Who is revoking: the claim is theirs. One id per sweep or per API request. */
  worker: string;
  /** Ties the audit records of one sweep or request together. */
  requestId: string;
  /** Remove the lease even when the engine fails (sys/leases/revoke-force). */
  force?: boolean;
  /** Someone asked for it (not the expiry): a failure leaves the lease marked for revocation. */
  explicit?: boolean;
  /** Lease types to use instead of looking them up (an engine revoking its own leases on purge). */
  types?: LeaseTypes;
}

export type RevocationResult =
  /** The lease and its indexes are gone. */
  | { status: "revoked"; lease: Lease }
  /** The credential is ended; the engine is called again at `followUpAt` to clean up. */
  | { status: "revoked-early"; lease: Lease; followUpAt: number }
  /** The engine failed; the lease stays and is retried at `nextAttemptAt`. */
  | { status: "failed"; lease: Lease; error: string; nextAttemptAt: number }
  /** Another revoker holds the lease, or it changed under us: nothing was done. */
  | { status: "busy"; lease: Lease };

export const retryDelay = (attempts: number) =>
  Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(30, Math.max(0, attempts - 1)));

/** A message fit for logs and audit: no stack, bounded, and only what the error itself says. */
export function describeError(error: unknown): string {
  const text = isCofferError(error)
    ? error.message
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}

/** Whether two versions of a lease agree on everything a revocation or a renewal writes. */
export function sameLease(a: Lease, b: Lease): boolean {
  const written = (lease: Lease) =>
    JSON.stringify([
      lease.revision,
      lease.claim,
      lease.state,
      lease.dueAt,
      lease.expiresAt,
      lease.lastRenewedAt,
      lease.revokedAt,
      lease.revokeRequested,
      lease.attempts,
      lease.lastError,
    ]);
  return written(a) === written(b);
}

/**
 * The writes that replace `before` with `after`: the lease conditioned on the revision it
 * had, and its expiry index item moved when the due time changed.
 */
export function replaceLease(before: Lease, after: Lease): WriteOp[] {
  const ops: WriteOp[] = [
    { op: "put", item: leaseToItem(after), condition: { attribute: "revision", equals: before.revision } },
  ];
  if (before.dueAt !== after.dueAt) {
    ops.push({ op: "delete", key: expiryKey(before.id, before.dueAt) });
    ops.push({ op: "put", item: expiryKey(after.id, after.dueAt) as Item });
  }
  return ops;
}

export function deleteLease(lease: Lease): WriteOp[] {
  return [
    { op: "delete", key: leaseKey(lease.id), condition: { attribute: "revision", equals: lease.revision } },
    ...indexKeys(lease).map((key): WriteOp => ({ op: "delete", key })),
  ];
}

/** Applies a conditional write; false when the condition failed (someone else changed the lease). */
export async function writeIfUnchanged(store: ItemStore, ops: readonly WriteOp[]): Promise<boolean> {
  try {
    await store.write(ops);
    return true;
  } catch (error) {
    if (isCofferError(error, "ERR_CONDITION_FAILED")) return false;
    throw error;
  }
}

/**
 * Writes `ops`, which turn the lease into `after` (undefined: delete it). True when the
 * store now holds exactly that: written now, or by an earlier attempt of this very write
 * whose answer was lost. False when someone else changed the lease first.
 */
export async function writeLease(
  store: ItemStore,
  id: string,
  ops: readonly WriteOp[],
  after: Lease | undefined,
): Promise<boolean> {
  if (await writeIfUnchanged(store, ops)) return true;
  const item = await store.get(leaseKey(id));
  if (!item) return after === undefined;
  return after !== undefined && sameLease(leaseFromItem(item), after);
}

/** The lease as its type sees it, with its revoke data opened. */
export async function openLease(context: Pick<LeaseContext, "keyring">, lease: Lease): Promise<LeaseView> {
  const plaintext = await open(context.keyring, lease.sealedData, leaseDataBinding(lease.id));
  return {
    id: lease.id,
    data: JSON.parse(new TextDecoder().decode(plaintext)) as JsonObject,
    issuedAt: lease.issuedAt,
    expiresAt: lease.expiresAt,
    revokedAt: lease.revokedAt,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CofferError("ERR_UPSTREAM_UNAVAILABLE", `the engine did not revoke within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function typeOf(context: LeaseContext, lease: Lease, request: RevocationRequest): Promise<LeaseType> {
  const own = request.types?.[lease.type];
  return own ?? context.resolveType(lease);
}

export async function revokeLease(
  context: LeaseContext,
  lease: Lease,
  request: RevocationRequest,
): Promise<RevocationResult> {
  const { store, now } = context;
  const startedAt = now();
  if (lease.claim && lease.claim.until > startedAt && lease.claim.by !== request.worker) {
    return { status: "busy", lease };
  }
  const until = startedAt + CLAIM_MS;
  const claimed: Lease = {
    ...lease,
    revision: lease.revision + 1,
    claim: { by: request.worker, until },
    // Whatever happens to this revoker, the sweep after the claim runs out takes the lease.
    dueAt: Math.min(lease.dueAt, until),
    revokeRequested: lease.revokeRequested || request.explicit === true,
  };
  if (!(await writeLease(store, lease.id, replaceLease(lease, claimed), claimed))) {
    return { status: "busy", lease };
  }

  const phase = lease.revokedAt !== null ? "clean-up" : startedAt >= lease.expiresAt ? "expired" : "early";
  let outcome: Awaited<ReturnType<LeaseType["revoke"]>>;
  let failure: unknown;
  try {
    const [type, view] = await Promise.all([typeOf(context, lease, request), openLease(context, lease)]);
    outcome = await withTimeout(type.revoke(view, now()), REVOKE_TIMEOUT_MS);
  } catch (error) {
    failure = error;
  }

  const finishedAt = now();
  if (outcome?.warning) context.log("warn", outcome.warning, { lease_id: lease.id, phase });
  const audit = (status: number, fields: Record<string, number | boolean>, error?: string) =>
    recordRevocation(context, request, lease, status, { ...fields, ...outcome?.audit }, error, phase);

  if (failure !== undefined && !request.force) {
    const error = describeError(failure);
    const attempts = lease.attempts + 1;
    const nextAttemptAt = finishedAt + retryDelay(attempts);
    const failed: Lease = {
      ...claimed,
      revision: claimed.revision + 1,
      claim: null,
      attempts,
      lastError: error,
      dueAt: nextAttemptAt,
    };
    const recorded = await writeLease(store, lease.id, replaceLease(claimed, failed), failed);
    context.log("warn", "lease revocation failed", {
      lease_id: lease.id,
      phase,
      attempts,
      next_attempt_at: new Date(nextAttemptAt).toISOString(),
      error,
      recorded,
    });
    await audit(502, { attempts, retry_in_seconds: Math.round((nextAttemptAt - finishedAt) / 1000) }, error);
    return { status: "failed", lease: recorded ? failed : lease, error, nextAttemptAt };
  }

  // A forced revocation removes the lease at once: a clean-up it asks for is not waited for.
  const followUpAt = failure === undefined && !request.force ? outcome?.followUpAt : undefined;
  if (followUpAt !== undefined && followUpAt > finishedAt) {
    const revoked: Lease = {
      ...claimed,
      revision: claimed.revision + 1,
      claim: null,
      state: "revoked",
      revokedAt: finishedAt,
      revokeRequested: false,
      attempts: 0,
      lastError: "",
      dueAt: followUpAt,
    };
    if (!(await writeLease(store, lease.id, replaceLease(claimed, revoked), revoked))) {
      context.log("error", "lease claim lost during revocation", { lease_id: lease.id, phase });
      return { status: "busy", lease };
    }
    await audit(202, { clean_up_in_seconds: Math.round((followUpAt - finishedAt) / 1000) });
    return { status: "revoked-early", lease: revoked, followUpAt };
  }

  if (!(await writeLease(store, lease.id, deleteLease(claimed), undefined))) {
    context.log("error", "lease claim lost during revocation", { lease_id: lease.id, phase });
    return { status: "busy", lease };
  }
  if (failure !== undefined) {
    const error = describeError(failure);
    context.log("warn", "lease removed by force although its engine failed", { lease_id: lease.id, error });
    await audit(200, { forced: true }, `engine revocation failed, lease removed by force: ${error}`);
  } else {
    const lagMs = phase === "expired" ? Math.max(0, finishedAt - lease.expiresAt) : 0;
    await audit(204, { lag_seconds: Math.round(lagMs / 1000), attempts: lease.attempts + 1 });
  }
  return { status: "revoked", lease: claimed };
}

/**
 * One audit record per revocation by the lease manager, whatever triggered it (a sweep, an
 * API call, a token's revocation). It never fails the revocation, which has already
 * happened: a record that cannot be written is reported in the log instead.
 */
async function recordRevocation(
  context: LeaseContext,
  request: RevocationRequest,
  lease: Lease,
  status: number,
  fields: Record<string, number | boolean>,
  error: string | undefined,
  phase: string,
): Promise<void> {
  try {
    await context.audit.record({
      requestId: request.requestId,
      operation: "revoke",
      path: `sys/leases/revoke/${lease.id}`,
      mountType: lease.mount.type,
      status,
      error,
      responseData: {
        ...fields,
        expired: phase === "expired",
        early: phase === "early",
        clean_up: phase === "clean-up",
        expire_time_unix: Math.floor(lease.expiresAt / 1000),
      },
    });
  } catch (auditError) {
    context.log("error", "audit record of a lease revocation failed", {
      lease_id: lease.id,
      status,
      error: describeError(auditError),
    });
  }
}
