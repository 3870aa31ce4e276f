/**
 * The token half of the revoker's sweep: every shard of the token index is read up to the
 * sweep's start in parallel, a page at a time, and each due token is revoked with its tree
 * (token-revocation.ts): one whose TTL ended or whose last use was taken, and one whose
 * revocation has started and is not finished (a request that ran out of time, a revoker
 * that died, a lease that failed and is due for a retry). Expiry is revocation: the tree
 * and the leases of an expired token go with it, within the same bound as expired leases.
 * The sweep stops starting tokens when its budget runs out; the rest stays due.
 */
import { dueSortKey } from "../../leases/lease-keys.ts";
import { describeError } from "../../leases/revocation.ts";
import type { Log } from "../../log.ts";
import type { ItemStore } from "../../store/item-store.ts";
import { parseTokenIndexSortKey, TOKEN_SHARDS, tokenIndexPartition, tokenKey } from "./token-keys.ts";
import { tokenFromItem, usable } from "./token-record.ts";
import type { TokenRevoker } from "./token-revocation.ts";

const PAGE_SIZE = 100;

export interface TokenSweepReport {
  /** False when the budget ran out first, or a revocation could not finish: the next sweep continues. */
  complete: boolean;
  /** Token index entries due when the sweep looked. */
  due: number;
  /** Tokens deleted (each with its tree's tokens, counted too). */
  revoked: number;
  /** Leases of due tokens whose engine failed; they and their tokens are retried with backoff. */
  failed: number;
  /** Entries that moved since the sweep read them, or whose revocation another revoker holds. */
  busy: number;
  /** Lag (revoked at - expired at) of the longest-expired token revoked for its expiry. */
  lag_ms_max: number;
}

export interface TokenSweepContext {
  store: ItemStore;
  revoker: TokenRevoker;
  now: () => number;
  log: Log;
}

export async function sweepTokens(
  { store, revoker, now, log }: TokenSweepContext,
  options: { budgetMs: number; sweepId?: string },
): Promise<TokenSweepReport> {
  const startedAt = now();
  const sweepId = options.sweepId ?? crypto.randomUUID();
  const p = revoker.pass({ requestId: sweepId, deadline: startedAt + options.budgetMs });
  const upTo = dueSortKey(startedAt + 1);
  const report: TokenSweepReport = { complete: true, due: 0, revoked: 0, failed: 0, busy: 0, lag_ms_max: 0 };

  async function sweepShard(shard: number): Promise<void> {
    let cursor: string | undefined;
    do {
      if (now() >= p.deadline) {
        report.complete = false;
        return;
      }
      const page = await store.query({ pk: tokenIndexPartition(shard), to: upTo, limit: PAGE_SIZE, cursor });
      cursor = page.cursor;
      report.due += page.items.length;
      const entries = page.items.map((entry) => ({ entry, ...parseTokenIndexSortKey(entry.sk) }));
      const items = await store.batchGet(entries.map(({ entry }) => tokenKey(String(entry.token_hmac))));
      await Promise.all(
        entries.map(async ({ entry, accessor, dueAt }, i) => {
          const item = items[i];
          try {
            if (!item) {
              // Only a manual edit of the table leaves one: the entry goes, checked against the token.
              await store
                .write([
                  { op: "delete", key: { pk: entry.pk, sk: entry.sk } },
                  { op: "check", key: tokenKey(String(entry.token_hmac)), condition: { exists: false } },
                ])
                .catch(() => {});
              return;
            }
            const record = tokenFromItem(item);
            if (
              record.accessor !== accessor ||
              record.dueAt !== dueAt ||
              (record.state === "active" && usable(record, now()))
            ) {
              // Renewed, postponed or resumed by another revoker since the index was read.
              report.busy++;
              return;
            }
            const expiredAt = record.state === "active" ? record.expiresAt : null;
            const done = await revoker.inTime(p, p.trees, () => revoker.resume(record, p));
            if (done === undefined) report.complete = false;
            if (done) {
              if (expiredAt !== null) report.lag_ms_max = Math.max(report.lag_ms_max, now() - expiredAt);
            }
          } catch (error) {
            // A store failure on one token must not stop the others; the token stays due.
            report.failed++;
            report.complete = false;
            log("error", "token sweep step failed", { sweep_id: sweepId, error: describeError(error) });
          }
        }),
      );
    } while (cursor);
  }

  await Promise.all(
    Array.from({ length: TOKEN_SHARDS }, async (_, shard) => {
      try {
        await sweepShard(shard);
      } catch (error) {
        report.complete = false;
        log("error", "token sweep could not read a shard", {
          shard,
          sweep_id: sweepId,
          error: describeError(error),
        });
      }
    }),
  );
  report.revoked = p.outcome.revoked;
  report.failed += p.outcome.failed.length;
  report.busy += p.outcome.pending.length;
  if (!p.outcome.complete) report.complete = false;
  return report;
}
