/**
 * Broker tokens. A token is 256 random bits shown to its holder once; the store keeps only
 * its HMAC (keyed from the keyring), so a copy of the table yields no usable token.
 *
 * Each process caches looked-up tokens for at most TOKEN_CACHE_MS: a token revoked in
 * one Lambda instance is refused by every other within that bound (and at once by the
 * instance that revoked it). Expiry is checked on every use, cached or not.
 *
 * A token issued by an auth mount (a login) carries the identity it proved (its proven
 * identity, which its children inherit) and is indexed under that mount, so disabling the
 * mount revokes every token it issued.
 */
import { toBase64Url } from "../../crypto/encoding.ts";
import type { Caller } from "../../engines/engine.ts";
import type { ProvenIdentity } from "../../engines/proven-identity.ts";
import { CofferError, permissionDenied } from "../../errors.ts";
import type { PolicyIdentity } from "../../policy/acl.ts";
import type { Item, ItemStore, WriteOp } from "../../store/item-store.ts";
import { TTL_ATTRIBUTE } from "../../store/ttl.ts";

export const TOKEN_CACHE_MS = 5_000;
const TOKEN_CACHE_MAX_ENTRIES = 10_000;
const TOKEN_PREFIX = "cof.";
/** TTL of a token created without one (Vault's default of 32 days). */
export const DEFAULT_TOKEN_TTL_S = 768 * 3600;
/** No token outlives this without an explicit max TTL (Vault's default system max). */
export const MAX_TOKEN_TTL_S = 768 * 3600;
/** Records stay findable this long after expiry (clear errors), then TTL housekeeping takes them. */
const RETENTION_AFTER_EXPIRY_S = 86_400;

export interface TokenRecord {
  /** The HMAC of the token: its storage key, never shown to anyone. */
  hmac: string;
  /** A public handle to the token (lookup and revoke without holding it), as in Vault. */
  accessor: string;
  policies: string[];
  displayName: string;
  /** Free-form data of the token's maker, shown by lookup and in the audit log; grants nothing. */
  meta: Record<string, string>;
  /** Where the token came from: "auth/token/root", "auth/kubernetes/login", ... */
  path: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  /** Epoch milliseconds; null for tokens that never expire (root). */
  expiresAt: number | null;
  /** Renewals never push expiry past this (epoch ms); null when unbounded. */
  maxExpiresAt: number | null;
  /** The TTL the token was created with, in seconds (0 when it never expires). */
  creationTtl: number;
  renewable: boolean;
  /** Set by a login, inherited by children; absent on tokens tied to no identity (root). */
  identity?: ProvenIdentity;
}

export interface CreateTokenInput {
  policies: string[];
  displayName: string;
  path: string;
  meta?: Record<string, string>;
  /** Seconds; 0 = never expires (root tokens only). */
  ttl: number;
  /** Seconds; 0 = no cap beyond ttl renewals. */
  maxTtl?: number;
  renewable?: boolean;
  identity?: ProvenIdentity;
  /** A caller-chosen token value, for `coffer dev --root-token` only. */
  token?: string;
}

export interface TokenStore {
  /** `alsoWrite` joins the token's own atomic write: both land or neither does. */
  create(
    input: CreateTokenInput,
    alsoWrite?: readonly WriteOp[],
  ): Promise<{ token: string; record: TokenRecord }>;
  /** The live record for a token, or undefined when it is unknown, revoked or expired. */
  lookup(token: string): Promise<TokenRecord | undefined>;
  lookupByAccessor(accessor: string): Promise<TokenRecord | undefined>;
  /** The one place every revocation goes through (self, by token, by accessor, by mount). */
  revoke(record: TokenRecord): Promise<void>;
  /** Revokes every token issued by the auth mount with this accessor; returns how many. */
  revokeByAuthMount(mountAccessor: string): Promise<number>;
  /**
   * Sets expiry to now + increment (seconds), capped by maxExpiresAt. An increment of 0 or
   * none means the token's own TTL, as in Vault: its clients send `"increment": 0` by default.
   */
  renew(record: TokenRecord, incrementSeconds?: number): Promise<TokenRecord>;
}

export interface TokenStoreOptions {
  store: ItemStore;
  /** HMAC of a token value, hex. */
  hash: (token: string) => Promise<string>;
  now?: () => number;
}

const tokenKey = (hmac: string) => ({ pk: `token/${hmac}`, sk: "token" });
const accessorKey = (accessor: string) => ({ pk: `accessor/${accessor}`, sk: "accessor" });
const mountIndexKey = (mountAccessor: string, hmac: string) => ({
  pk: `auth-tokens/${mountAccessor}`,
  sk: hmac,
});

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

export function generateToken(): string {
  return TOKEN_PREFIX + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function toItem(record: TokenRecord): Item {
  const retainUntil =
    record.expiresAt === null ? null : Math.ceil(record.expiresAt / 1000) + RETENTION_AFTER_EXPIRY_S;
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
    renewable: record.renewable,
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
    ...(retainUntil === null ? {} : { [TTL_ATTRIBUTE]: retainUntil }),
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

function fromItem(item: Item): TokenRecord {
  const identity = identityFromItem(item.identity, item.entity_id);
  return {
    hmac: item.pk.slice("token/".length),
    accessor: String(item.accessor),
    policies: (item.policies as string[]) ?? [],
    displayName: String(item.display_name ?? ""),
    meta: (item.meta as Record<string, string>) ?? {},
    path: String(item.path ?? ""),
    issuedAt: Number(item.issued_at),
    expiresAt: item.expires_at_ms === null ? null : Number(item.expires_at_ms),
    maxExpiresAt: item.max_expires_at_ms === null ? null : Number(item.max_expires_at_ms),
    creationTtl: Number(item.creation_ttl ?? 0),
    renewable: item.renewable === true,
    ...(identity ? { identity } : {}),
  };
}

export function createTokenStore({ store, hash, now = Date.now }: TokenStoreOptions): TokenStore {
  const cache = new Map<string, { record: TokenRecord; cachedAt: number }>();

  const live = (record: TokenRecord | undefined) =>
    record && (record.expiresAt === null || record.expiresAt > now()) ? record : undefined;

  function remember(record: TokenRecord) {
    if (cache.size >= TOKEN_CACHE_MAX_ENTRIES) cache.clear();
    cache.set(record.hmac, { record, cachedAt: now() });
  }

  async function fetchByHmac(hmac: string): Promise<TokenRecord | undefined> {
    const cached = cache.get(hmac);
    if (cached && now() - cached.cachedAt < TOKEN_CACHE_MS) return cached.record;
    const item = await store.get(tokenKey(hmac));
    if (!item) {
      cache.delete(hmac);
      return undefined;
    }
    const record = fromItem(item);
    remember(record);
    return record;
  }

  return {
    async create(input, alsoWrite = []) {
      const token = input.token ?? generateToken();
      const issuedAt = now();
      const record: TokenRecord = {
        hmac: await hash(token),
        accessor: toBase64Url(crypto.getRandomValues(new Uint8Array(18))),
        policies: [...new Set(input.policies)].sort(),
        displayName: input.displayName,
        meta: input.meta ?? {},
        path: input.path,
        issuedAt,
        expiresAt:
          input.ttl > 0
            ? issuedAt + Math.min(input.ttl, input.maxTtl || Number.POSITIVE_INFINITY) * 1000
            : null,
        maxExpiresAt: input.maxTtl ? issuedAt + input.maxTtl * 1000 : null,
        creationTtl: input.ttl,
        renewable: input.renewable ?? input.ttl > 0,
        ...(input.identity ? { identity: input.identity } : {}),
      };
      const item = toItem(record);
      const retainUntil = item[TTL_ATTRIBUTE];
      await store.write([
        { op: "put", item, condition: { exists: false } },
        {
          op: "put",
          item: { ...accessorKey(record.accessor), token_hmac: record.hmac },
          condition: { exists: false },
        },
        ...(record.identity
          ? [
              {
                op: "put" as const,
                item: {
                  ...mountIndexKey(record.identity.mountAccessor, record.hmac),
                  ...(retainUntil === undefined ? {} : { [TTL_ATTRIBUTE]: retainUntil }),
                },
              },
            ]
          : []),
        ...alsoWrite,
      ]);
      return { token, record };
    },

    async lookup(token) {
      if (token.length === 0 || token.length > 512) return undefined;
      return live(await fetchByHmac(await hash(token)));
    },

    async lookupByAccessor(accessor) {
      if (accessor.length === 0 || accessor.length > 128) return undefined;
      const pointer = await store.get(accessorKey(accessor));
      if (!pointer) return undefined;
      return live(await fetchByHmac(String(pointer.token_hmac)));
    },

    async revoke(record) {
      cache.delete(record.hmac);
      await store.write([
        { op: "delete", key: tokenKey(record.hmac) },
        { op: "delete", key: accessorKey(record.accessor) },
        ...(record.identity
          ? [{ op: "delete" as const, key: mountIndexKey(record.identity.mountAccessor, record.hmac) }]
          : []),
      ]);
    },

    async revokeByAuthMount(mountAccessor) {
      let revoked = 0;
      // Revoking deletes index entries, so each pass restarts from the first page.
      for (;;) {
        const page = await store.query({ pk: `auth-tokens/${mountAccessor}`, limit: 100 });
        if (page.items.length === 0) return revoked;
        for (const entry of page.items) {
          const item = await store.get(tokenKey(entry.sk));
          if (item) {
            await this.revoke(fromItem(item));
            revoked++;
          } else {
            // The token is gone already (expired and swept); drop its stale index entry.
            await store.write([{ op: "delete", key: { pk: entry.pk, sk: entry.sk } }]);
          }
        }
      }
    },

    async renew(record, incrementSeconds) {
      if (!record.renewable || record.expiresAt === null) {
        throw new CofferError("ERR_INVALID_REQUEST", "token is not renewable");
      }
      // A token that expires was never meant to live past the system max (one stored without a
      // maximum, as root tokens with a TTL once were, included).
      const maxExpiresAt = record.maxExpiresAt ?? record.issuedAt + MAX_TOKEN_TTL_S * 1000;
      const expiresAt = Math.min(now() + (incrementSeconds || record.creationTtl) * 1000, maxExpiresAt);
      const renewed = { ...record, expiresAt };
      try {
        const item = toItem(renewed);
        await store.write([
          { op: "put", item, condition: { attribute: "accessor", equals: record.accessor } },
          // The mount index lives as long as the token, so disabling the mount still finds it.
          ...(renewed.identity
            ? [
                {
                  op: "put" as const,
                  item: {
                    ...mountIndexKey(renewed.identity.mountAccessor, renewed.hmac),
                    ...(item[TTL_ATTRIBUTE] === undefined ? {} : { [TTL_ATTRIBUTE]: item[TTL_ATTRIBUTE] }),
                  },
                },
              ]
            : []),
        ]);
      } catch (error) {
        if (error instanceof CofferError && error.code === "ERR_CONDITION_FAILED") {
          throw permissionDenied();
        }
        throw error;
      }
      remember(renewed);
      return renewed;
    },
  };
}
