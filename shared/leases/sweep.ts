/**
 * One sweep of the expiry index: every shard is read up to the sweep's start time in
 * parallel, a page at a time; each page's leases come in one batch read; each due lease is
 * revoked through its engine (shared/leases/revocation.ts), a bounded number at once.
 * The sweep stops starting work when its time budget runs out and reports that it did not
 * finish: what is left is still in the index, and the next sweep takes it from there.
 *
 * Correctness never depends on DynamoDB's TTL: the index is the only schedule.
 */

import type { Item } from "../store/item-store.ts";
import { limitConcurrency } from "./concurrency-limit.ts";
import { type Lease, leaseFromItem } from "./lease.ts";
import { dueSortKey, EXPIRY_SHARDS, expiryPartition, leaseKey, parseExpirySortKey } from "./lease-keys.ts";
import {
  describeError,
  type LeaseContext,
  type RevocationResult,
  revokeLease,
  writeIfUnchanged,
} from "./revocation.ts";

export const SWEEP_PAGE_SIZE = 100;
export const SWEEP_CONCURRENCY = 32;

export interface SweepOptions {
  /** Milliseconds from now after which no new revocation starts. */
  budgetMs: number;
  /** Revocations in flight at once across all shards. */
  concurrency?: number;
  pageSize?: number;
}

/** Counts and lag of one sweep, as the structured log fields the revoker emits. */
export interface SweepReport {
  sweep_id: string;
  started_at: string;
  duration_ms: number;
  /** False when the budget ran out first: the next sweep continues. */
  complete: boolean;
  /** Index entries due when the sweep looked. */
  due: number;
  /** Leases revoked and removed (expired, retried, or cleaned up after an early revocation). */
  revoked: number;
  /** Leases whose engine ended the credential but asked to be called again later. */
  revoked_early: number;
  /** Engine failures, each recorded on its lease with a backed-off retry time. */
  failed: number;
  /** Leases another revoker held, or that changed while this sweep looked. */
  busy: number;
  /** Index entries that pointed at no lease (removed). */
  orphans: number;
  /** Revocation lag (revoked at - expired at) over the leases revoked for their expiry (and tokens, for the max). */
  lag_ms_max: number;
  lag_ms_mean: number;
  /** Token index entries due (expired, spent, or revocations to continue). */
  tokens_due: number;
  /** Tokens revoked, each with its tree. */
  tokens_revoked: number;
  /** Tokens another revoker moved or holds. */
  tokens_busy: number;
}

export async function sweepLeases(context: LeaseContext, options: SweepOptions): Promise<SweepReport> {
  const { store, now } = context;
  const sweepId = crypto.randomUUID();
  const startedAt = now();
  const deadline = startedAt + options.budgetMs;
  const limit = limitConcurrency(options.concurrency ?? SWEEP_CONCURRENCY);
  const pageSize = options.pageSize ?? SWEEP_PAGE_SIZE;
  // Everything due at or before the start: "<due>/<id>" <= "<start + 1>" exactly when due <= start.
  const upTo = dueSortKey(startedAt + 1);
  const report: SweepReport = {
    sweep_id: sweepId,
    started_at: new Date(startedAt).toISOString(),
    duration_ms: 0,
    complete: true,
    due: 0,
    revoked: 0,
    revoked_early: 0,
    failed: 0,
    busy: 0,
    orphans: 0,
    lag_ms_max: 0,
    lag_ms_mean: 0,
    tokens_due: 0,
    tokens_revoked: 0,
    tokens_busy: 0,
  };
  let lagTotal = 0;
  let lagCount = 0;
  const outOfTime = () => {
    if (now() < deadline) return false;
    report.complete = false;
    return true;
  };

  function count(result: RevocationResult) {
    if (result.status === "revoked") {
      report.revoked++;
      const expired = result.lease.revokedAt === null;
      if (expired) {
        const lag = Math.max(0, now() - result.lease.expiresAt);
        report.lag_ms_max = Math.max(report.lag_ms_max, lag);
        lagTotal += lag;
        lagCount++;
      }
    } else if (result.status === "revoked-early") report.revoked_early++;
    else if (result.status === "failed") report.failed++;
    else report.busy++;
  }

  async function handle(index: Item, item: Item | undefined, dueAt: number): Promise<void> {
    if (!item) {
      // Cannot happen through the lease manager (leases and indexes change together);
      // a leftover from a manual edit is removed, checked against a lease appearing.
      const removed = await writeIfUnchanged(store, [
        { op: "check", key: leaseKey(parseExpirySortKey(index.sk).id), condition: { exists: false } },
        { op: "delete", key: { pk: index.pk, sk: index.sk } },
      ]);
      if (removed) report.orphans++;
      return;
    }
    const lease: Lease = leaseFromItem(item);
    if (lease.dueAt !== dueAt || lease.dueAt > startedAt) {
      // The lease moved (renewed, or retried by another revoker) since the index was read.
      report.busy++;
      return;
    }
    count(await revokeLease(context, lease, { worker: sweepId, requestId: sweepId }));
  }

  async function sweepShard(shard: number): Promise<void> {
    let cursor: string | undefined;
    do {
      if (outOfTime()) return;
      const page = await store.query({ pk: expiryPartition(shard), to: upTo, limit: pageSize, cursor });
      cursor = page.cursor;
      if (page.items.length === 0) continue;
      report.due += page.items.length;
      const entries = page.items.map((index) => ({ index, ...parseExpirySortKey(index.sk) }));
      const items = await store.batchGet(entries.map((entry) => leaseKey(entry.id)));
      await Promise.all(
        entries.map((entry, i) =>
          limit(async () => {
            if (outOfTime()) return;
            try {
              await handle(entry.index, items[i], entry.dueAt);
            } catch (error) {
              // A store failure on one lease must not stop the others; the lease stays due.
              report.failed++;
              context.log("error", "lease sweep step failed", {
                lease_id: entry.id,
                sweep_id: sweepId,
                error: describeError(error),
              });
            }
          }),
        ),
      );
    } while (cursor);
  }

  await Promise.all(
    Array.from({ length: EXPIRY_SHARDS }, async (_, shard) => {
      try {
        await sweepShard(shard);
      } catch (error) {
        // The shard's due leases stay in the index for the next sweep.
        report.complete = false;
        context.log("error", "lease sweep could not read a shard", {
          shard,
          sweep_id: sweepId,
          error: describeError(error),
        });
      }
    }),
  );
  report.duration_ms = now() - startedAt;
  report.lag_ms_mean = lagCount === 0 ? 0 : Math.round(lagTotal / lagCount);
  return report;
}
