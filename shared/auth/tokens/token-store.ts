/**
 * Broker tokens. A token is 256 random bits shown to its holder once; the store keeps only
 * its HMAC (keyed from the keyring), so a copy of the table yields no usable token.
 *
 * Each process caches looked-up tokens for at most TOKEN_CACHE_MS: a token revoked in
 * one Lambda instance is refused by every other within that bound (and at once by the
 * instance that revoked it). Expiry is checked on every use, cached or not. Nothing can
 * attach to a revoked token in that window, though: a child or a lease is written under
 * the condition that its token is still live (token-keys.ts).
 *
 * A token made by another token is its child: it records its parent's accessor, is
 * indexed under it, never outlives the parent's maximum, and is revoked with it
 * (token-revocation.ts). A token issued by an auth mount (a login) is an orphan that
 * carries the identity it proved (its proven identity, which its children inherit) and is
 * indexed under that mount, so disabling the mount revokes every token it issued.
 */
import { toBase64Url } from "../../crypto/encoding.ts";
import type { ProvenIdentity } from "../../engines/proven-identity.ts";
import { CofferError, isCofferError, permissionDenied } from "../../errors.ts";
import { writeIfUnchanged } from "../../leases/revocation.ts";
import type { ItemStore, WriteOp } from "../../store/item-store.ts";
import {
  accessorKey,
  parseTokenIndexSortKey,
  TOKEN_SHARDS,
  tokenIndexPartition,
  tokenKey,
} from "./token-keys.ts";
import { renewalTtl } from "./token-lifetime.ts";
import {
  NEVER,
  replaceToken,
  SPENT,
  stillLive,
  type TokenRecord,
  tokenFromItem,
  tokenIndexItem,
  tokenToItem,
  treeIndexKeys,
  usable,
} from "./token-record.ts";

export { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "./token-lifetime.ts";
export { callerOf, policyIdentityOf, type TokenRecord } from "./token-record.ts";

export const TOKEN_CACHE_MS = 5_000;
const TOKEN_CACHE_MAX_ENTRIES = 10_000;
const TOKEN_PREFIX = "cof.";
const CHANGE_ATTEMPTS = 4;
/** Uses race whenever a use-limited token makes requests at once: each loser reads again and retries. */
const USE_ATTEMPTS = 16;

export interface CreateTokenInput {
  policies: string[];
  displayName: string;
  path: string;
  meta?: Record<string, string>;
  /** Seconds; 0 = never expires (root tokens only). */
  ttl: number;
  /** Seconds from creation that renewals never pass; 0 or absent = no cap (periodic, root). */
  maxTtl?: number;
  /** The explicit maximum asked for, in seconds, as lookups report it; 0 or absent for none. */
  explicitMaxTtl?: number;
  /** Seconds; a periodic token's period. */
  period?: number;
  /** Uses allowed; 0 or absent for unlimited. */
  numUses?: number;
  renewable?: boolean;
  /** The live token that makes this one, when it is its child (not an orphan). */
  parent?: TokenRecord;
  role?: string;
  identity?: ProvenIdentity;
  /** A caller-chosen token value, for `coffer dev --root-token` only. */
  token?: string;
}

export interface Renewal {
  record: TokenRecord;
  /** The TTL granted, in seconds: exactly what the auth block answers. */
  ttl: number;
  warnings: string[];
}

/** The token store's records; revocation (token-revocation.ts) is built on it. */
export interface TokenRecords {
  /**
   * Writes a new token, a child of `input.parent` if given: conditioned on the parent
   * still being live, and capped at its maximum. `alsoWrite` joins the token's own atomic
   * write: both land or neither does.
   */
  create(
    input: CreateTokenInput,
    alsoWrite?: readonly WriteOp[],
  ): Promise<{ token: string; record: TokenRecord }>;
  /** The usable record for a token, or undefined when it is unknown, revoked, spent or expired. */
  lookup(token: string): Promise<TokenRecord | undefined>;
  lookupByAccessor(accessor: string): Promise<TokenRecord | undefined>;
  /** The stored record, whatever its state (a revocation resumes from it), read from the store. */
  find(token: string): Promise<TokenRecord | undefined>;
  findByAccessor(accessor: string): Promise<TokenRecord | undefined>;
  /** The stored record by HMAC, read from the store. */
  read(hmac: string): Promise<TokenRecord | undefined>;
  /**
   * Renews as Vault does: for the increment (seconds; 0 or none grants the last TTL again,
   * as Vault's clients send `"increment": 0`), or a periodic token's period, never past
   * its maximum.
   */
  renew(record: TokenRecord, incrementSeconds?: number): Promise<Renewal>;
  /**
   * Takes one use of a use-limited token, atomically. The last one leaves it spent:
   * unusable from then on, and revoked after the request (or by the sweep). Throws 403
   * when no use is left. A token without a limit is returned as is, with no store call.
   */
  use(record: TokenRecord): Promise<TokenRecord>;
  /**
   * The check that holds while the token with this accessor is live, for a write that
   * attaches something to it (a lease); undefined when it is not live now.
   */
  standing(accessor: string): Promise<WriteOp | undefined>;
  /** The accessors of every usable token (LIST auth/token/accessors). */
  listAccessors(): Promise<string[]>;
  /** Drops a token from this process's cache (its revocation started here). */
  forget(hmac: string): void;
}

export interface TokenStoreOptions {
  store: ItemStore;
  /** HMAC of a token value, hex. */
  hash: (token: string) => Promise<string>;
  now?: () => number;
}

export function generateToken(): string {
  return TOKEN_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

export function createTokenStore({ store, hash, now = Date.now }: TokenStoreOptions): TokenRecords {
  const cache = new Map<string, { record: TokenRecord; cachedAt: number }>();

  const live = (record: TokenRecord | undefined) => (record && usable(record, now()) ? record : undefined);

  function remember(record: TokenRecord) {
    if (cache.size >= TOKEN_CACHE_MAX_ENTRIES) cache.clear();
    cache.set(record.hmac, { record, cachedAt: now() });
  }

  async function read(hmac: string): Promise<TokenRecord | undefined> {
    const item = await store.get(tokenKey(hmac));
    if (!item) {
      cache.delete(hmac);
      return undefined;
    }
    const record = tokenFromItem(item);
    remember(record);
    return record;
  }

  async function cachedOrRead(hmac: string): Promise<TokenRecord | undefined> {
    const cached = cache.get(hmac);
    if (cached && now() - cached.cachedAt < TOKEN_CACHE_MS) return cached.record;
    return read(hmac);
  }

  /** The HMAC the accessor item names, live or being revoked. */
  async function hmacOf(accessor: string): Promise<{ hmac: string; live: boolean } | undefined> {
    if (accessor.length === 0 || accessor.length > 128) return undefined;
    const pointer = await store.get(accessorKey(accessor));
    if (typeof pointer?.token_hmac === "string") return { hmac: pointer.token_hmac, live: true };
    if (typeof pointer?.revoked_token_hmac === "string")
      return { hmac: pointer.revoked_token_hmac, live: false };
    return undefined;
  }

  /**
   * Writes the change `change` makes to a fresh copy of the token, retrying when another
   * write came first. The change throws to refuse; undefined leaves the token as it is.
   */
  async function change(
    record: TokenRecord,
    next: (current: TokenRecord) => TokenRecord | undefined,
    attempts = CHANGE_ATTEMPTS,
  ): Promise<TokenRecord> {
    let current: TokenRecord | undefined = record;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (!current || !usable(current, now())) throw permissionDenied();
      const changed = next(current);
      if (!changed) return current;
      const writeId = crypto.randomUUID();
      if (await writeIfUnchanged(store, replaceToken(current, changed, writeId))) {
        remember(changed);
        return changed;
      }
      // Someone else changed it (or revoked it), or our own write landed and its answer was lost.
      const item = await store.get(tokenKey(record.hmac));
      if (item?.write_id === writeId) return tokenFromItem(item);
      current = item && tokenFromItem(item);
    }
    throw new CofferError("ERR_CONFLICT", "the token changed while it was being updated; try again");
  }

  return {
    async create(input, alsoWrite = []) {
      const token = input.token ?? generateToken();
      const issuedAt = now();
      const parent = input.parent;
      let maxExpiresAt = input.maxTtl ? issuedAt + input.maxTtl * 1000 : null;
      // A child never outlives its parent's maximum.
      if (parent?.maxExpiresAt != null)
        maxExpiresAt = Math.min(maxExpiresAt ?? parent.maxExpiresAt, parent.maxExpiresAt);
      const ttl =
        input.ttl > 0 && maxExpiresAt !== null
          ? Math.min(input.ttl, Math.floor((maxExpiresAt - issuedAt) / 1000))
          : input.ttl;
      if (input.ttl > 0 && ttl <= 0) throw permissionDenied();
      const expiresAt = ttl > 0 ? issuedAt + ttl * 1000 : null;
      const record: TokenRecord = {
        hmac: await hash(token),
        accessor: toBase64Url(crypto.getRandomValues(new Uint8Array(18))),
        policies: [...new Set(input.policies)].sort(),
        displayName: input.displayName,
        meta: input.meta ?? {},
        path: input.path,
        issuedAt,
        expiresAt,
        maxExpiresAt,
        creationTtl: ttl,
        ttl,
        explicitMaxTtl: input.explicitMaxTtl ?? 0,
        period: input.period ?? 0,
        numUses: input.numUses ?? 0,
        lastRenewedAt: null,
        renewable: (input.renewable ?? true) && ttl > 0,
        parent: parent?.accessor ?? "",
        role: input.role ?? "",
        ...(input.identity ? { identity: input.identity } : {}),
        state: "active",
        revokeMode: "tree",
        revision: 1,
        dueAt: expiresAt ?? NEVER,
        attempts: 0,
      };
      const ops: WriteOp[] = [
        { op: "put", item: tokenToItem(record), condition: { exists: false } },
        {
          op: "put",
          item: { ...accessorKey(record.accessor), token_hmac: record.hmac },
          condition: { exists: false },
        },
        { op: "put", item: tokenIndexItem(record) },
        ...treeIndexKeys(record).map(
          (key): WriteOp => ({ op: "put", item: { ...key, token_hmac: record.hmac } }),
        ),
        // No child attaches to a token whose revocation has started.
        ...(parent ? [stillLive(parent)] : []),
        ...alsoWrite,
      ];
      try {
        await store.write(ops);
      } catch (error) {
        if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
        // Our own write, applied with its answer lost, fails its condition when retried.
        const stored = await store.get(tokenKey(record.hmac));
        if (stored?.accessor !== record.accessor) {
          if (parent && !(await hmacOf(parent.accessor))?.live) throw permissionDenied();
          throw error;
        }
      }
      return { token, record };
    },

    async lookup(token) {
      if (token.length === 0 || token.length > 512) return undefined;
      return live(await cachedOrRead(await hash(token)));
    },

    async lookupByAccessor(accessor) {
      const pointer = await hmacOf(accessor);
      return pointer?.live ? live(await cachedOrRead(pointer.hmac)) : undefined;
    },

    async find(token) {
      if (token.length === 0 || token.length > 512) return undefined;
      return read(await hash(token));
    },

    async findByAccessor(accessor) {
      const pointer = await hmacOf(accessor);
      return pointer && read(pointer.hmac);
    },

    read,

    async renew(record, incrementSeconds = 0) {
      let granted = { ttl: 0, warnings: [] as string[] };
      const renewed = await change(record, (current) => {
        const at = now();
        granted = renewalTtl(current, incrementSeconds, at);
        const expiresAt = at + granted.ttl * 1000;
        return {
          ...current,
          revision: current.revision + 1,
          expiresAt,
          ttl: granted.ttl,
          lastRenewedAt: at,
          dueAt: expiresAt,
        };
      });
      return { record: renewed, ...granted };
    },

    async use(record) {
      if (record.numUses === 0) return record;
      // Always counted on a fresh copy: a cached one may be behind another process's uses.
      return change(
        (await read(record.hmac)) ?? record,
        (current) => {
          if (current.numUses === 0) return undefined;
          const spent = current.numUses === 1;
          return {
            ...current,
            revision: current.revision + 1,
            numUses: spent ? SPENT : current.numUses - 1,
            // A spent token is due at once: should this request die, the sweep revokes it.
            dueAt: spent ? Math.min(current.dueAt, now()) : current.dueAt,
          };
        },
        USE_ATTEMPTS,
      );
    },

    async standing(accessor) {
      const pointer = await hmacOf(accessor);
      return pointer?.live ? stillLive({ accessor, hmac: pointer.hmac }) : undefined;
    },

    async listAccessors() {
      const at = now();
      const shards = await Promise.all(
        Array.from({ length: TOKEN_SHARDS }, async (_, shard) => {
          const accessors: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.query({ pk: tokenIndexPartition(shard), cursor });
            for (const entry of page.items) {
              const { accessor, dueAt } = parseTokenIndexSortKey(entry.sk);
              // Due means expired, spent or being revoked: no longer usable.
              if (entry.state === "active" && dueAt > at) accessors.push(accessor);
            }
            cursor = page.cursor;
          } while (cursor);
          return accessors;
        }),
      );
      return shards.flat().sort();
    },

    forget(hmac) {
      cache.delete(hmac);
    },
  };
}
