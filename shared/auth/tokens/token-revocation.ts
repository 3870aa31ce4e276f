/**
 * Revoking a token revokes its tree: every token it made, theirs, and every lease any of
 * them obtained. No process holds the tree: it lives in the store (each child indexed
 * under its parent's accessor, each lease under its token's), and a revocation walks it a
 * page at a time, so a tree of any size is revoked by as many passes as it takes.
 *
 *   1. Mark: one atomic write sets the token's state to "revoking", replaces the liveness
 *      attribute of its accessor item (nothing can attach a child or a lease to it from
 *      then on, in any process) and makes its token index entry due now. From this write
 *      on the token is unusable, and the revoker's sweep will finish whatever this pass
 *      does not.
 *   2. Walk: each child is marked in turn and walked the same way (or, for revoke-orphan,
 *      made an orphan); the token's leases are revoked through the lease manager.
 *   3. Finish: once the token has no child and no live lease left, one atomic write
 *      deletes it with every index item.
 *
 * Each step is idempotent and conditioned on what it read, so passes may race (a request
 * and a sweep, two sweeps) and a pass may die anywhere: the marks it wrote are due in the
 * token index, and the next sweep resumes from them. A pass stops starting new tokens at
 * its deadline; a token whose leases could not all be revoked (an engine failing, another
 * revoker holding one) stays marked, due again after a backoff.
 */
import type { AuditLog } from "../../audit/audit-log.ts";
import { CofferError, isCofferError } from "../../errors.ts";
import { type Limited, limitConcurrency } from "../../leases/concurrency-limit.ts";
import type { RevokeOptions, RevokeSummary } from "../../leases/lease-manager.ts";
import { describeError, retryDelay, writeIfUnchanged } from "../../leases/revocation.ts";
import type { Log } from "../../log.ts";
import type { Item, ItemStore, WriteOp } from "../../store/item-store.ts";
import {
  accessorKey,
  childKey,
  childrenPartition,
  entityTokensPartition,
  mountTokensPartition,
  tokenIndexKey,
  tokenKey,
} from "./token-keys.ts";
import {
  type RevokeMode,
  SPENT,
  type TokenRecord,
  tokenFromItem,
  tokenIndexItem,
  tokenToItem,
  treeIndexKeys,
  unchanged,
} from "./token-record.ts";
import type { TokenRecords } from "./token-store.ts";

/** How long a revocation asked for by a request walks the tree before answering. */
export const REQUEST_REVOKE_BUDGET_MS = 5_000;
/** Children read (and walked at once) per page. */
const CHILDREN_PAGE = 100;
/** Tokens whose leases are revoked at once in one pass (each revokes up to 8 leases at a time). */
const LEASE_REVOCATIONS = 4;
/** Token writes (marks, orphanings, deletions) in flight at once in one pass. */
const TOKEN_WRITES = 16;
/** Trees walked at once from one index (a sweep's due tokens, an auth mount's logins). */
const TREES = 16;
const CHANGE_ATTEMPTS = 4;

/** What revoking tokens leaves: whether everything was seen ended, and what was not. */
export interface TokenRevocation {
  /** Every token of the trees and every lease of theirs was seen ended (or made an orphan). */
  complete: boolean;
  /** Tokens deleted by this pass. */
  revoked: number;
  /** Leases whose engine failed: they stay marked, and the revoker retries them. */
  failed: { id: string; error: string }[];
  /** Leases another revoker was still revoking when this pass stopped waiting. */
  pending: string[];
}

export interface RevokeTokenOptions {
  /** Ties the audit records of one request or sweep together. */
  requestId?: string;
  /** Epoch ms after which no token is started; REQUEST_REVOKE_BUDGET_MS from now unless given. */
  deadline?: number;
  /** false: only mark the tokens (unusable at once) and leave their trees to the revoker. */
  walk?: boolean;
}

/** The lease manager, as token revocation uses it. */
export interface TokenLeases {
  revokeByToken(accessor: string, options?: RevokeOptions): Promise<RevokeSummary>;
}

export interface TokenRevocationContext {
  store: ItemStore;
  records: TokenRecords;
  leases: TokenLeases;
  audit: AuditLog;
  now: () => number;
  log: Log;
}

/** One pass of revocation: its deadline, its limits, and what it saw. */
export interface Pass {
  requestId: string;
  deadline: number;
  /** Top-level walks: a tree started from an index holds one until it is done. */
  trees: Limited;
  writes: Limited;
  leaseRevocations: Limited;
  /**
   * The walks in flight, by accessor: a token reached twice in one pass (through its
   * parent and through an index, say) is walked once. Only what is in flight is kept.
   */
  walking: Map<string, Promise<boolean>>;
  outcome: TokenRevocation;
}

export interface TokenRevoker {
  /** Marks the token, then walks its tree within the pass's deadline. */
  revoke(record: TokenRecord, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Marks the token, makes its children orphans, and revokes it and its leases alone. */
  revokeOrphan(record: TokenRecord, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Every token an auth mount issued, with its tree. */
  revokeByAuthMount(mountAccessor: string, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Every token of an identity (the entity's logins and the tokens they made), with its tree. */
  revokeByEntity(entityId: string, options?: RevokeTokenOptions): Promise<TokenRevocation>;
  /** Resumes the revocation of a token the sweep found due, or starts it (expired, spent); true when it is gone. */
  resume(record: TokenRecord, pass: Pass): Promise<boolean>;
  /** A pass for the sweep: one deadline and one set of limits for every token it resumes. */
  pass(options: RevokeTokenOptions): Pass;
  /** Runs `task` under `limit` unless the pass's deadline came first; undefined when it did not run. */
  inTime<T>(p: Pass, limit: Limited, task: () => Promise<T>): Promise<T | undefined>;
}

/** The writes that move a token to `after`, conditioned on `before` being what is stored. */
function moveToken(before: TokenRecord, after: TokenRecord): WriteOp[] {
  const ops: WriteOp[] = [{ op: "put", item: tokenToItem(after), condition: unchanged(before) }];
  const from = tokenIndexKey(before.accessor, before.dueAt);
  const to = tokenIndexItem(after);
  if (from.sk !== to.sk || from.pk !== to.pk) ops.push({ op: "delete", key: from });
  ops.push({ op: "put", item: to });
  return ops;
}

export function createTokenRevoker(context: TokenRevocationContext): TokenRevoker {
  const { store, records, leases, audit, now, log } = context;

  const pass = (options: RevokeTokenOptions): Pass => ({
    requestId: options.requestId ?? crypto.randomUUID(),
    deadline: options.deadline ?? now() + REQUEST_REVOKE_BUDGET_MS,
    trees: limitConcurrency(TREES),
    writes: limitConcurrency(TOKEN_WRITES),
    leaseRevocations: limitConcurrency(LEASE_REVOCATIONS),
    walking: new Map(),
    outcome: { complete: true, revoked: 0, failed: [], pending: [] },
  });

  const unfinished = (p: Pass) => {
    p.outcome.complete = false;
    return false;
  };

  /**
   * Runs `task` under `limit` unless the pass's deadline has come by the time its turn
   * does: work queued behind the limit must not start late. Undefined when it did not run.
   */
  async function inTime<T>(p: Pass, limit: Limited, task: () => Promise<T>): Promise<T | undefined> {
    return limit(async () => (now() >= p.deadline ? undefined : task()));
  }

  /**
   * Marks the token as being revoked; returns it as stored then, or undefined when it is
   * gone. A token already marked is returned as it is, except that a revocation of its
   * tree overrides an orphaning one: the tree wins.
   */
  async function mark(record: TokenRecord, mode: RevokeMode): Promise<TokenRecord | undefined> {
    let current: TokenRecord | undefined = record;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS && current; attempt++) {
      records.forget(current.hmac);
      let next: TokenRecord;
      let ops: WriteOp[];
      if (current.state === "revoking") {
        if (!(mode === "tree" && current.revokeMode === "orphan")) return current;
        next = { ...current, revokeMode: "tree", revision: current.revision + 1 };
        ops = moveToken(current, next);
      } else {
        next = {
          ...current,
          state: "revoking",
          revokeMode: mode,
          revision: current.revision + 1,
          dueAt: now(),
          attempts: 0,
        };
        ops = [
          ...moveToken(current, next),
          // From here on nothing attaches to the token: children and leases check this item.
          {
            op: "put",
            item: { ...accessorKey(current.accessor), revoked_token_hmac: current.hmac },
            condition: { attribute: "token_hmac", equals: current.hmac },
          },
        ];
      }
      if (await writeIfUnchanged(store, ops)) {
        records.forget(current.hmac);
        return next;
      }
      current = await records.read(record.hmac);
    }
    if (!current) return undefined;
    throw new CofferError("ERR_CONFLICT", "the token kept changing while it was being revoked; try again");
  }

  /** Deletes a marked token with every index item; false when it changed (read it again). */
  async function finish(record: TokenRecord, p: Pass): Promise<boolean> {
    const ops: WriteOp[] = [
      { op: "delete", key: tokenKey(record.hmac), condition: unchanged(record) },
      { op: "delete", key: accessorKey(record.accessor) },
      { op: "delete", key: tokenIndexKey(record.accessor, record.dueAt) },
      ...treeIndexKeys(record).map((key): WriteOp => ({ op: "delete", key })),
    ];
    if (!(await writeIfUnchanged(store, ops))) return (await records.read(record.hmac)) === undefined;
    p.outcome.revoked++;
    await recordRevocation(record, p);
    return true;
  }

  /** One audit record per token deleted, whoever revoked it; a record that cannot be written is logged. */
  async function recordRevocation(record: TokenRecord, p: Pass): Promise<void> {
    try {
      await audit.record({
        requestId: p.requestId,
        operation: "update",
        path: record.revokeMode === "orphan" ? "auth/token/revoke-orphan" : "auth/token/revoke-accessor",
        mountType: "token",
        status: 204,
        accessor: record.accessor,
        policies: record.policies,
        displayName: record.displayName,
        responseData: {
          expired: record.expiresAt !== null && record.expiresAt <= now(),
          spent: record.numUses === SPENT,
          orphan: record.parent === "",
        },
      });
    } catch (error) {
      log("error", "audit record of a token revocation failed", { error: describeError(error) });
    }
  }

  /** A marked token that cannot be finished now: due again after a backoff. */
  async function postpone(record: TokenRecord): Promise<void> {
    const attempts = record.attempts + 1;
    const next = { ...record, revision: record.revision + 1, attempts, dueAt: now() + retryDelay(attempts) };
    // Should another pass have changed it first, that pass scheduled it.
    await writeIfUnchanged(store, moveToken(record, next));
  }

  /** Makes a child of a token being revoked an orphan, as revoke-orphan does. */
  async function makeOrphan(child: TokenRecord, parentAccessor: string): Promise<void> {
    let current: TokenRecord | undefined = child;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      const entry: WriteOp = { op: "delete", key: childKey(parentAccessor, child.accessor) };
      if (!current || current.parent !== parentAccessor) {
        await store.write([entry]);
        return;
      }
      const next = { ...current, parent: "", revision: current.revision + 1 };
      records.forget(current.hmac);
      if (
        await writeIfUnchanged(store, [
          { op: "put", item: tokenToItem(next), condition: unchanged(current) },
          entry,
        ])
      )
        return;
      current = await records.read(child.hmac);
    }
    throw new CofferError("ERR_CONFLICT", "a child token kept changing while it was being made an orphan");
  }

  /**
   * The children of the token with this accessor, a page at a time: each marked and
   * walked (or made an orphan). "done" when none is left unfinished, "none" when there
   * was none at all.
   */
  async function walkChildren(
    parentAccessor: string,
    mode: RevokeMode,
    p: Pass,
  ): Promise<"done" | "none" | "unfinished"> {
    let done = true;
    let seen = 0;
    let cursor: string | undefined;
    do {
      if (now() >= p.deadline) {
        unfinished(p);
        return "unfinished";
      }
      const page = await store.query({ pk: childrenPartition(parentAccessor), limit: CHILDREN_PAGE, cursor });
      cursor = page.cursor;
      seen += page.items.length;
      const items = await store.batchGet(page.items.map((entry) => tokenKey(String(entry.token_hmac))));
      const results = await Promise.all(
        page.items.map(async (entry, i): Promise<boolean> => {
          const item = items[i];
          if (!item) return vanished(entry, p);
          const child = tokenFromItem(item);
          if (mode === "orphan") {
            const orphaned = await inTime(p, p.writes, async () => {
              await makeOrphan(child, parentAccessor);
              return true;
            });
            return orphaned ?? unfinished(p);
          }
          const marked = await inTime(p, p.writes, async () => (await mark(child, "tree")) ?? "gone");
          if (marked === undefined) return unfinished(p);
          return marked === "gone" ? true : walk(marked, p);
        }),
      );
      if (results.includes(false)) done = false;
    } while (cursor);
    return !done ? "unfinished" : seen === 0 ? "none" : "done";
  }

  /**
   * A child entry whose token is gone (only a manual edit of the table, or an item that
   * failed its MAC, leaves one): its own children and leases are revoked by its accessor,
   * then the entry goes.
   */
  async function vanished(entry: Item, p: Pass): Promise<boolean> {
    const accessor = entry.sk;
    const childrenDone = (await walkChildren(accessor, "tree", p)) !== "unfinished";
    const leaseOutcome = await inTime(p, p.leaseRevocations, () =>
      leases.revokeByToken(accessor, { requestId: p.requestId, waitMs: Math.max(0, p.deadline - now()) }),
    );
    if (!leaseOutcome) return unfinished(p);
    p.outcome.failed.push(...leaseOutcome.failed);
    p.outcome.pending.push(...leaseOutcome.pending);
    if (!childrenDone || leaseOutcome.failed.length > 0 || leaseOutcome.pending.length > 0)
      return unfinished(p);
    await store
      .write([
        { op: "delete", key: { pk: entry.pk, sk: entry.sk } },
        { op: "check", key: tokenKey(String(entry.token_hmac)), condition: { exists: false } },
      ])
      .catch((error) => {
        if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
      });
    return true;
  }

  /** Walks a marked token's tree and finishes it; true when it is gone. */
  function walk(record: TokenRecord, p: Pass): Promise<boolean> {
    const running = p.walking.get(record.accessor);
    if (running) return running;
    const walked = walkOnce(record, p).finally(() => p.walking.delete(record.accessor));
    p.walking.set(record.accessor, walked);
    return walked;
  }

  async function walkOnce(record: TokenRecord, p: Pass): Promise<boolean> {
    if (now() >= p.deadline) return unfinished(p);
    const children = await walkChildren(record.accessor, record.revokeMode, p);
    const leaseOutcome = await inTime(p, p.leaseRevocations, () =>
      leases.revokeByToken(record.accessor, {
        requestId: p.requestId,
        waitMs: Math.max(0, p.deadline - now()),
      }),
    );
    if (!leaseOutcome) return unfinished(p);
    p.outcome.failed.push(...leaseOutcome.failed);
    p.outcome.pending.push(...leaseOutcome.pending);
    if (leaseOutcome.failed.length > 0 || leaseOutcome.pending.length > 0) {
      await p.writes(() => postpone(record));
      return unfinished(p);
    }
    if (children === "unfinished") return unfinished(p);
    let current: TokenRecord | undefined = record;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
      if (!current) return true;
      // Children another pass is still finishing keep the token: it goes once they are gone.
      const left =
        children === "none"
          ? []
          : (await store.query({ pk: childrenPartition(record.accessor), limit: 1 })).items;
      if (left.length > 0) return unfinished(p);
      const target = current;
      if (await p.writes(() => finish(target, p))) return true;
      current = await records.read(record.hmac);
    }
    return unfinished(p);
  }

  async function revokeMarked(record: TokenRecord, mode: RevokeMode, options: RevokeTokenOptions) {
    const p = pass(options);
    const marked = await mark(record, mode);
    if (marked) await walk(marked, p);
    return p.outcome;
  }

  /** Revokes the tree of every token an index partition names, a page at a time. */
  async function revokeIndexed(
    pk: string,
    hmacOf: (entry: Item) => string,
    options: RevokeTokenOptions,
  ): Promise<TokenRevocation> {
    const p = pass(options);
    let cursor: string | undefined;
    do {
      if (now() >= p.deadline) {
        unfinished(p);
        break;
      }
      const page = await store.query({ pk, limit: CHILDREN_PAGE, cursor });
      cursor = page.cursor;
      const items = await store.batchGet(page.items.map((entry) => tokenKey(hmacOf(entry))));
      await Promise.all(
        page.items.map(async (entry, i) => {
          const item = items[i];
          if (!item) {
            // The token is gone; its entry went with it unless the table was edited.
            await store.write([{ op: "delete", key: { pk: entry.pk, sk: entry.sk } }]);
            return;
          }
          const started = await inTime(p, p.trees, async () => {
            const marked = await p.writes(() => mark(tokenFromItem(item), "tree"));
            if (marked && options.walk === false) unfinished(p);
            else if (marked) await walk(marked, p);
            return true;
          });
          if (!started) unfinished(p);
        }),
      );
    } while (cursor);
    return p.outcome;
  }

  return {
    revoke: (record, options = {}) => revokeMarked(record, "tree", options),
    revokeOrphan: (record, options = {}) => revokeMarked(record, "orphan", options),
    revokeByAuthMount: (mountAccessor, options = {}) =>
      revokeIndexed(mountTokensPartition(mountAccessor), (entry) => entry.sk, options),
    revokeByEntity: (entityId, options = {}) =>
      revokeIndexed(entityTokensPartition(entityId), (entry) => String(entry.token_hmac), options),
    async resume(record, p) {
      // A revocation under way keeps its mode; an expired or spent token starts one of its tree.
      const marked = record.state === "revoking" ? record : await p.writes(() => mark(record, "tree"));
      return marked ? walk(marked, p) : true;
    },
    pass,
    inTime,
  };
}
