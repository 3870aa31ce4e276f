/**
 * The token store as the broker uses it: the records (token-store.ts) with their trees'
 * revocation (token-revocation.ts) and the token half of the revoker's sweep
 * (token-sweep.ts), and the revoker's sweep that runs both halves, tokens and leases, at
 * once within one budget.
 */
import type { LeaseManager } from "../../leases/lease-manager.ts";
import type { SweepReport } from "../../leases/sweep.ts";
import type { TokenRecord } from "./token-record.ts";
import {
  createTokenRevoker,
  type RevokeTokenOptions,
  type TokenRevocation,
  type TokenRevocationContext,
} from "./token-revocation.ts";
import type { TokenRecords } from "./token-store.ts";
import { sweepTokens, type TokenSweepReport } from "./token-sweep.ts";

export interface TokenStore extends TokenRecords {
  /** Revokes the token and its tree: every token it made, theirs, and all their leases. */
  revoke(record: TokenRecord, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Revokes the token and its leases; its children become orphans (auth/token/revoke-orphan). */
  revokeOrphan(record: TokenRecord, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Every token the auth mount with this accessor issued, with its tree. */
  revokeByAuthMount(mountAccessor: string, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Every token of an identity, with its tree. */
  revokeByEntity(entityId: string, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Revokes what is due in the token index, within the budget. */
  sweep(options: { budgetMs: number; sweepId?: string }): Promise<TokenSweepReport>;
}

export function withTrees(
  records: TokenRecords,
  context: Omit<TokenRevocationContext, "records">,
): TokenStore {
  const revoker = createTokenRevoker({ ...context, records });
  return {
    ...records,
    revoke: revoker.revoke,
    revokeOrphan: revoker.revokeOrphan,
    revokeByAuthMount: revoker.revokeByAuthMount,
    revokeByEntity: revoker.revokeByEntity,
    sweep: (options) =>
      sweepTokens({ store: context.store, revoker, now: context.now, log: context.log }, options),
  };
}

/** The lease manager whose sweep revokes due tokens too, at the same time and within the same budget. */
export function sweepingTokens(leases: LeaseManager, tokens: Pick<TokenStore, "sweep">): LeaseManager {
  return {
    ...leases,
    async sweep(options) {
      const [report, tokenReport] = await Promise.all([
        leases.sweep(options),
        tokens.sweep({ budgetMs: options.budgetMs }),
      ]);
      return combined(report, tokenReport);
    },
  };
}

function combined(report: SweepReport, tokens: TokenSweepReport): SweepReport {
  return {
    ...report,
    complete: report.complete && tokens.complete,
    failed: report.failed + tokens.failed,
    lag_ms_max: Math.max(report.lag_ms_max, tokens.lag_ms_max),
    tokens_due: tokens.due,
    tokens_revoked: tokens.revoked,
    tokens_busy: tokens.busy,
  };
}
