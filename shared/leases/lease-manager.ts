/**
 * The lease manager: issues leases for engines, answers lookups and listings, renews, and
 * revokes one lease, every lease under a prefix, of an identity or of a token, and sweeps
 * what is due. It knows nothing of any engine: revocation goes through lease types.
 */
import { toBase64Url } from "../crypto/encoding.ts";
import { seal } from "../crypto/envelope.ts";
import type { Caller, JsonObject } from "../engines/engine.ts";
import type { LeaseTypes } from "../engines/lease-type.ts";
import type { Mount } from "../engines/mount.ts";
import { CofferError, invalidRequest, isCofferError, permissionDenied } from "../errors.ts";
import type { MountTable } from "../mounts/mount-table.ts";
import type { Item, ItemKey, WriteOp } from "../store/item-store.ts";
import { limitConcurrency } from "./concurrency-limit.ts";
import { type Lease, type LeaseIdentity, leaseDataBinding, leaseFromItem, leaseToItem } from "./lease.ts";
import {
  firstSegment,
  identityPartition,
  indexKeys,
  leaseKey,
  leasePartition,
  tokenPartition,
} from "./lease-keys.ts";
import {
  type LeaseContext,
  openLease,
  type RevocationRequest,
  replaceLease,
  revokeLease,
  writeLease,
} from "./revocation.ts";
import { type SweepOptions, type SweepReport, sweepLeases } from "./sweep.ts";

/** Revocations in flight at once for one bulk request (prefix, identity, token). */
export const BULK_REVOKE_CONCURRENCY = 8;
/**
 * How long a synchronous revocation waits for another revoker that holds a lease (a sweep,
 * another request) to finish it, before answering that it is still in progress. Inside
 * the API function's 10 s timeout, with room for the revocation's own work.
 */
export const CLAIM_WAIT_MS = 5_000;
const WAIT_FIRST_MS = 50;
const WAIT_MAX_MS = 500;
const CHANGE_ATTEMPTS = 4;

export interface IssueLeaseInput {
  /** The full request path that produced the credential ("aws/creds/deploy"): the id's prefix. */
  path: string;
  /** The lease type, registered by the issuing engine, that revokes it. */
  type: string;
  mount: Mount;
  /** Who obtained it: the lease's identity, and revoking the caller's token revokes the lease. */
  caller: Caller | undefined;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Renewals never push expiry past this (epoch ms). */
  maxExpiresAt?: number | null;
  renewable: boolean;
  /** What the lease type needs to revoke the credential. Sealed at rest. */
  data: JsonObject;
}

export interface RevokeOptions {
  /** Ties audit records to the request that asked. */
  requestId?: string;
  /** false: only mark the leases due now and let the revoker do the work. Default true. */
  sync?: boolean;
  /** Remove the leases even when their engine fails (revoke-force). */
  force?: boolean;
  /** Lease types to use instead of looking them up (an engine revoking its own leases on purge). */
  types?: LeaseTypes;
  /** How long to wait for another revoker holding a lease; CLAIM_WAIT_MS unless given. */
  waitMs?: number;
}

export interface RevokeSummary {
  matched: number;
  /**
   * Seen ended: removed, or ended with a clean-up call scheduled (the credential is
   * unusable and that is recorded on the lease), by this request or by another revoker.
   */
  revoked: number;
  /** Marked for the revoker to carry out (sync: false). */
  queued: number;
  /** Engine failures: each stays marked for revocation and is retried with backoff. */
  failed: { id: string; error: string }[];
  /**
   * Held by another revoker that did not finish within the wait: the revocation is under
   * way, and if that revoker dies the sweep after its claim runs out takes the lease over.
   */
  pending: string[];
}

export interface LeaseManager {
  issue(input: IssueLeaseInput, alsoWrite?: readonly WriteOp[]): Promise<Lease>;
  /** The lease, unless it is unknown or already revoked. */
  lookup(id: string): Promise<Lease | undefined>;
  /** The next path segment of every live lease id under `prefix` (Vault's LIST shape). */
  list(prefix: string): Promise<string[]>;
  /** Sets expiry to now + increment (seconds; 0 = the lease's last TTL), capped by its max. */
  renew(id: string, incrementSeconds: number): Promise<Lease>;
  revoke(id: string, options?: RevokeOptions): Promise<RevokeSummary>;
  /**
   * Every lease under `prefix`. As in Vault, a prefix without a trailing slash that names a
   * lease revokes that lease alone; otherwise it is taken as a folder.
   */
  revokePrefix(prefix: string, options?: RevokeOptions): Promise<RevokeSummary>;
  /** Every lease obtained by the identity (entity id): a Coffer extension. */
  revokeByIdentity(entityId: string, options?: RevokeOptions): Promise<RevokeSummary>;
  /** Every lease obtained with the token. */
  revokeByToken(accessor: string, options?: RevokeOptions): Promise<RevokeSummary>;
  /**
   * Every lease of a mount, by force, for its purge when it is disabled. Throws while
   * another revoker still holds one of them: the mount must stay for a retry, since once it
   * is gone nothing could revoke that lease if its revoker died.
   */
  revokeMountLeases(mountPath: string, types: LeaseTypes): Promise<void>;
  sweep(options: SweepOptions): Promise<SweepReport>;
}

export interface LeaseManagerOptions extends LeaseContext {
  mounts: MountTable;
  /**
   * The check that holds while the token with this accessor is live, or undefined when it
   * is not: issuing and renewing a lease are conditioned on it in the same atomic write, so
   * no lease attaches to, or is renewed for, a token whose revocation has started.
   */
  tokenStanding?: (accessor: string) => Promise<WriteOp | undefined>;
}

const encoder = new TextEncoder();

function identityOf(caller: Caller | undefined): LeaseIdentity {
  if (!caller) return { accessor: "", entityId: "", displayName: "", metadata: {} };
  return {
    accessor: caller.accessor,
    // The proven identity only: revoke-identity must find exactly what the entity obtained.
    entityId: caller.identity?.entityId ?? "",
    displayName: caller.displayName,
    metadata: { ...caller.identity?.metadata },
  };
}

const emptySummary = (): RevokeSummary => ({ matched: 0, revoked: 0, queued: 0, failed: [], pending: [] });

function addTo(total: RevokeSummary, part: RevokeSummary): void {
  total.matched += part.matched;
  total.revoked += part.revoked;
  total.queued += part.queued;
  total.failed.push(...part.failed);
  total.pending.push(...part.pending);
}

/** A live claim of someone other than `worker`: a revocation under way elsewhere. */
const heldByOther = (lease: Lease, worker: string, now: number) =>
  lease.claim !== null && lease.claim.until > now && lease.claim.by !== worker;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tokenRevoked = () => invalidRequest("the token that obtained the lease has been revoked");

export function createLeaseManager(options: LeaseManagerOptions): LeaseManager {
  const context: LeaseContext = options;
  const { store, now } = options;

  /** The check that the lease's token is live, none for a lease without a token; `refused` when it is not. */
  async function standingOf(accessor: string, refused: () => Error): Promise<WriteOp[]> {
    if (accessor === "" || !options.tokenStanding) return [];
    const check = await options.tokenStanding(accessor);
    if (!check) throw refused();
    return [check];
  }

  async function get(id: string): Promise<Lease | undefined> {
    const item = await store.get(leaseKey(id));
    return item && leaseFromItem(item);
  }

  /** Every item of a partition (optionally under a sort key prefix), a page at a time. */
  async function* pages(pk: string, prefix?: string): AsyncGenerator<Item[]> {
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk, prefix, cursor });
      cursor = page.cursor;
      yield page.items;
    } while (cursor);
  }

  /**
   * Marks a lease for revocation now, for the revoker to carry out. A claimed lease is
   * already being revoked and is left alone: writing it would undo its revoker's work.
   */
  async function queue(lease: Lease): Promise<boolean> {
    let current: Lease | undefined = lease;
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS && current; attempt++) {
      if (current.state !== "active" || current.claim !== null) return true;
      const queued: Lease = {
        ...current,
        revision: current.revision + 1,
        revokeRequested: true,
        dueAt: Math.min(current.dueAt, now()),
      };
      if (await writeLease(store, lease.id, replaceLease(current, queued), queued)) return true;
      current = await get(lease.id);
    }
    return current === undefined;
  }

  /**
   * Revokes one lease and says so only once it has seen it ended: revoked by this request,
   * or gone, or ended early with its clean-up scheduled. A lease another revoker holds is
   * waited for until `deadline`, then reported pending; one whose holder died (the claim
   * ran out) is taken over.
   */
  async function revokeOne(
    lease: Lease,
    request: RevocationRequest,
    deadline: number,
  ): Promise<RevokeSummary> {
    const summary: RevokeSummary = { ...emptySummary(), matched: 1 };
    let current: Lease | undefined = lease;
    let changes = 0;
    for (let waits = 0; ; ) {
      if (!current || (current.state !== "active" && !request.force)) {
        summary.revoked++;
        return summary;
      }
      if (heldByOther(current, request.worker, now())) {
        if (now() >= deadline) {
          summary.pending.push(lease.id);
          return summary;
        }
        await pause(Math.min(WAIT_MAX_MS, WAIT_FIRST_MS * 2 ** waits++));
        current = await get(lease.id);
        continue;
      }
      const result = await revokeLease(context, current, request);
      if (result.status === "revoked" || result.status === "revoked-early") {
        summary.revoked++;
        return summary;
      }
      if (result.status === "failed") {
        summary.failed.push({ id: lease.id, error: result.error });
        return summary;
      }
      // The lease changed between our read and our claim: look again.
      if (++changes > CHANGE_ATTEMPTS) {
        summary.failed.push({ id: lease.id, error: "the lease kept changing; try again" });
        return summary;
      }
      current = await get(lease.id);
    }
  }

  async function queueOne(lease: Lease): Promise<RevokeSummary> {
    const summary: RevokeSummary = { ...emptySummary(), matched: 1 };
    if (await queue(lease)) summary.queued++;
    else summary.failed.push({ id: lease.id, error: "the lease kept changing; try again" });
    return summary;
  }

  async function revokeAll(leases: readonly Lease[], options: RevokeOptions): Promise<RevokeSummary> {
    const requestId = options.requestId ?? crypto.randomUUID();
    const request: RevocationRequest = {
      worker: `request-${requestId}`,
      requestId,
      force: options.force,
      explicit: true,
      types: options.types,
    };
    const deadline = now() + (options.waitMs ?? CLAIM_WAIT_MS);
    const limit = limitConcurrency(BULK_REVOKE_CONCURRENCY);
    const total = emptySummary();
    const parts = await Promise.all(
      leases.map((lease) =>
        limit(() => (options.sync === false ? queueOne(lease) : revokeOne(lease, request, deadline))),
      ),
    );
    for (const part of parts) addTo(total, part);
    return total;
  }

  const wanted = (lease: Lease, options: RevokeOptions) => lease.state === "active" || options.force === true;

  /** Revokes the leases an index partition points to, a page at a time. */
  async function revokeIndexed(pk: string, options: RevokeOptions): Promise<RevokeSummary> {
    const total = emptySummary();
    for await (const items of pages(pk)) {
      const keys: ItemKey[] = items.map((item) => leaseKey(item.sk));
      const leases = (await store.batchGet(keys))
        .filter((item): item is Item => item !== undefined)
        .map(leaseFromItem)
        .filter((lease) => wanted(lease, options));
      addTo(total, await revokeAll(leases, options));
    }
    return total;
  }

  async function listUnder(prefix: string): Promise<string[]> {
    const keys = new Set<string>();
    for await (const items of pages(leasePartition(prefix), prefix)) {
      for (const item of items) {
        if (item.state !== "active") continue;
        const rest = item.sk.slice(prefix.length);
        const slash = rest.indexOf("/");
        keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
    }
    return [...keys].sort();
  }

  const manager: LeaseManager = {
    async issue(input, alsoWrite = []) {
      const issuedAt = now();
      if (!(input.expiresAt > issuedAt))
        throw new CofferError("ERR_INTERNAL", "a lease must expire in the future");
      const id = `${input.path.replace(/\/+$/, "")}/${toBase64Url(crypto.getRandomValues(new Uint8Array(18)))}`;
      const sealedData = await seal(
        options.keyring,
        encoder.encode(JSON.stringify(input.data)),
        leaseDataBinding(id),
      );
      const lease: Lease = {
        id,
        type: input.type,
        mount: { path: input.mount.path, uuid: input.mount.uuid, type: input.mount.type },
        identity: identityOf(input.caller),
        issuedAt,
        expiresAt: input.expiresAt,
        lastRenewedAt: null,
        renewable: input.renewable,
        maxExpiresAt: input.maxExpiresAt ?? null,
        sealedData,
        state: "active",
        revokedAt: null,
        revokeRequested: false,
        dueAt: input.expiresAt,
        revision: 1,
        claim: null,
        attempts: 0,
        lastError: "",
      };
      const standing = await standingOf(lease.identity.accessor, permissionDenied);
      try {
        await store.write([
          { op: "put", item: leaseToItem(lease), condition: { exists: false } },
          ...indexKeys(lease).map((key): WriteOp => ({ op: "put", item: { ...key } })),
          ...standing,
          ...alsoWrite,
        ]);
      } catch (error) {
        // The token's revocation started since we looked: no lease attaches to it.
        if (isCofferError(error, "ERR_CONDITION_FAILED") && standing.length > 0) {
          await standingOf(lease.identity.accessor, permissionDenied);
        }
        throw error;
      }
      return lease;
    },

    async lookup(id) {
      const lease = await get(id);
      return lease?.state === "active" ? lease : undefined;
    },

    async list(prefix) {
      if (prefix !== "") return listUnder(prefix.endsWith("/") ? prefix : `${prefix}/`);
      const segments = new Set(
        (await options.mounts.list())
          .filter((mount) => !mount.builtin)
          .map((mount) => firstSegment(mount.path)),
      );
      const present = await Promise.all(
        [...segments].map(async (segment) =>
          (await listUnder(`${segment}/`)).length > 0 ? `${segment}/` : "",
        ),
      );
      return present.filter((key) => key !== "").sort();
    },

    async renew(id, incrementSeconds) {
      for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt++) {
        const lease = await get(id);
        const at = now();
        if (lease?.state !== "active" || lease.expiresAt <= at) throw invalidRequest("lease not found");
        if (!lease.renewable) throw invalidRequest("lease is not renewable");
        // A claim means a revoker may already have ended the credential: a renewal would
        // bring back a lease without it. Vault refuses to renew a revoked lease as well.
        if (lease.revokeRequested || lease.claim !== null) throw invalidRequest("lease is being revoked");
        const lastTtlMs = lease.expiresAt - (lease.lastRenewedAt ?? lease.issuedAt);
        let expiresAt = at + (incrementSeconds > 0 ? incrementSeconds * 1000 : lastTtlMs);
        if (lease.maxExpiresAt !== null) expiresAt = Math.min(expiresAt, lease.maxExpiresAt);
        // A lease dies with its token: once the token's revocation started, it is not renewed.
        const standing = await standingOf(lease.identity.accessor, tokenRevoked);
        const type = await context.resolveType(lease);
        await type.renew?.(await openLease(context, lease), Math.round((expiresAt - at) / 1000));
        const renewed: Lease = {
          ...lease,
          revision: lease.revision + 1,
          expiresAt,
          lastRenewedAt: at,
          dueAt: expiresAt,
        };
        if (await writeLease(store, id, [...replaceLease(lease, renewed), ...standing], renewed))
          return renewed;
        await standingOf(lease.identity.accessor, tokenRevoked);
      }
      throw new CofferError("ERR_CONFLICT", "the lease changed while it was being renewed; try again");
    },

    async revoke(id, revokeOptions = {}) {
      const lease = await get(id);
      if (!lease || !wanted(lease, revokeOptions)) return emptySummary();
      return revokeAll([lease], revokeOptions);
    },

    async revokePrefix(prefix, revokeOptions = {}) {
      if (prefix === "" || prefix === "/") throw invalidRequest("a prefix is required");
      if (!prefix.endsWith("/")) {
        const exact = await get(prefix);
        if (exact) return wanted(exact, revokeOptions) ? revokeAll([exact], revokeOptions) : emptySummary();
      }
      const folder = prefix.endsWith("/") ? prefix : `${prefix}/`;
      const total = emptySummary();
      for await (const items of pages(leasePartition(folder), folder)) {
        const leases = items.map(leaseFromItem).filter((lease) => wanted(lease, revokeOptions));
        addTo(total, await revokeAll(leases, revokeOptions));
      }
      return total;
    },

    revokeByIdentity(entityId, revokeOptions = {}) {
      if (entityId === "") throw invalidRequest("an entity id is required");
      return revokeIndexed(identityPartition(entityId), revokeOptions);
    },

    revokeByToken(accessor, revokeOptions = {}) {
      if (accessor === "") return Promise.resolve(emptySummary());
      return revokeIndexed(tokenPartition(accessor), revokeOptions);
    },

    async revokeMountLeases(mountPath, types) {
      const { pending } = await manager.revokePrefix(mountPath, { force: true, types });
      if (pending.length > 0) {
        throw new CofferError(
          "ERR_UPSTREAM_UNAVAILABLE",
          `${pending.length} leases of ${mountPath} are still being revoked by another request or the ` +
            `revoker; disable the mount again to finish: ${pending[0]}`,
        );
      }
    },

    sweep(sweepOptions) {
      return sweepLeases(context, sweepOptions);
    },
  };
  return manager;
}
