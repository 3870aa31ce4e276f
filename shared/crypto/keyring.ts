/**
 * The keyring: versioned 256-bit keys, each a data key from the KeyProvider, persisted
 * only in wrapped form as items `{pk: "keyring", sk: "v0000000001"}`. Versions are
 * numbered 1, 2, 3... without gaps and never deleted; rotation adds the next one.
 *
 * Nothing else reads or writes these items (the rest of the broker uses an authenticated
 * store whose MAC key derives from this keyring), so they carry only what the key provider
 * itself authenticates: the wrapped key, unwrapped under an encryption context naming its
 * version, and that version, which must match the sort key. A blob moved to another
 * version, or edited, fails to unwrap; a version cannot be added without the root key.
 *
 * Cost model (the design's promise): a process unwraps each version it actually uses
 * exactly once, on first use, so a cold start costs one provider call per version in use
 * and warm use costs none. Concurrent first uses share one call.
 */
import { CofferError, isCofferError } from "../errors.ts";
import type { Item, ItemStore } from "../store/item-store.ts";
import type { KeyProvider } from "./key-provider.ts";
import { type SymmetricCrypto, webSymmetricCrypto } from "./symmetric.ts";

export interface Keyring {
  /** What envelopes and HMAC keys are computed with: the key provider's choice. */
  readonly symmetric: SymmetricCrypto;
  /** The newest version, used for new writes. Creates version 1 on first use. */
  current(): Promise<{ version: number; key: CryptoKey }>;
  /** An HKDF base key for `version`. Throws ERR_DECRYPT_FAILED for a version that does not exist. */
  get(version: number): Promise<CryptoKey>;
  /** Adds a version and makes it current in this process; returns its number. */
  rotate(): Promise<number>;
  /** Every version in the store, oldest first. */
  versions(): Promise<number[]>;
}

export interface KeyringOptions {
  /** Milliseconds since the epoch; tests pin it. */
  now?: () => number;
}

/**
 * How long this process trusts its idea of the newest version. Another process may rotate;
 * until this bound passes, new writes here keep using the previous version, which stays
 * readable forever, so the only cost of the delay is that rotation takes effect for new
 * writes up to 60 s later in processes that did not perform it.
 */
export const NEWEST_VERSION_TTL_MS = 60_000;

const PK = "keyring";
const SK_PREFIX = "v";
// Envelopes carry the version as uint32; ten digits cover it and keep sort keys ordered.
const MAX_VERSION = 0xffff_ffff;

export const keyringSortKey = (version: number) => `${SK_PREFIX}${String(version).padStart(10, "0")}`;

export function keyringContext(version: number): Record<string, string> {
  return { app: "coffer", purpose: "keyring", version: String(version) };
}

interface StoredVersion {
  version: number;
  wrapped: Uint8Array;
}

export async function openKeyring(
  store: ItemStore,
  provider: KeyProvider,
  options: KeyringOptions = {},
): Promise<Keyring> {
  const now = options.now ?? Date.now;
  // One promise per version: concurrent callers share a single unwrap, and a failed one
  // is forgotten so the next caller retries (a throttled KMS call must not stick).
  const keys = new Map<number, Promise<CryptoKey>>();
  let newest: { version: number; checkedAt: number } | undefined;
  let refreshing: Promise<number> | undefined;

  function remember(version: number, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
    const existing = keys.get(version);
    if (existing) return existing;
    const pending = load();
    keys.set(version, pending);
    pending.catch(() => {
      if (keys.get(version) === pending) keys.delete(version);
    });
    return pending;
  }

  const unwrap = async (stored: StoredVersion) =>
    importBaseKey(await provider.unwrap(stored.wrapped, keyringContext(stored.version)));
  const unwrapStored = (stored: StoredVersion) => remember(stored.version, () => unwrap(stored));

  function noteNewest(version: number): void {
    if (!newest || version >= newest.version) newest = { version, checkedAt: now() };
  }

  /** Writes `version` if nobody has; returns whether this process wrote it. */
  async function create(version: number): Promise<boolean> {
    const dataKey = await provider.generateDataKey(keyringContext(version));
    const item: Item = { pk: PK, sk: keyringSortKey(version), version, wrapped: dataKey.wrapped };
    try {
      await store.write([{ op: "put", item, condition: { exists: false } }]);
    } catch (error) {
      dataKey.plaintext.fill(0);
      if (isCofferError(error, "ERR_CONDITION_FAILED")) return false;
      throw error;
    }
    // We already hold the plaintext: caching it spares the provider call an unwrap would cost.
    // Set, not remember: a lookup of this version that raced the write may have cached a miss.
    keys.set(version, importBaseKey(dataKey.plaintext));
    noteNewest(version);
    return true;
  }

  async function readNewest(): Promise<StoredVersion | undefined> {
    const page = await store.query({ pk: PK, prefix: SK_PREFIX, descending: true, limit: 1 });
    const item = page.items[0];
    return item ? parseItem(item) : undefined;
  }

  async function refreshNewest(): Promise<number> {
    let stored = await readNewest();
    if (!stored) {
      if (await create(1)) return 1;
      // Another process created version 1 first: use theirs.
      stored = await readNewest();
      if (!stored) throw new CofferError("ERR_INTERNAL", "keyring version 1 vanished after creation");
    }
    // The query already returned the wrapped key, so start unwrapping it now rather than
    // have current() fetch the item again; errors surface through get().
    void unwrapStored(stored).catch(() => {});
    noteNewest(stored.version);
    return newest!.version;
  }

  async function newestVersion(): Promise<number> {
    if (newest && now() - newest.checkedAt < NEWEST_VERSION_TTL_MS) return newest.version;
    if (!refreshing) {
      refreshing = refreshNewest().finally(() => {
        refreshing = undefined;
      });
    }
    return refreshing;
  }

  const keyring: Keyring = {
    symmetric: provider.symmetric ?? webSymmetricCrypto,

    async current() {
      const version = await newestVersion();
      return { version, key: await keyring.get(version) };
    },

    get(version) {
      if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
        return Promise.reject(unknownVersion());
      }
      return remember(version, async () => {
        const item = await store.get({ pk: PK, sk: keyringSortKey(version) });
        if (!item) throw unknownVersion();
        return unwrap(parseItem(item));
      });
    },

    async rotate() {
      // Read the store, not the cache: rotating from a stale view would only lose the race.
      const latest = await readNewest();
      const next = (latest?.version ?? 0) + 1;
      if (next > MAX_VERSION) throw new CofferError("ERR_INTERNAL", "keyring has no versions left");
      if (await create(next)) return next;
      // A concurrent rotation won: a version newer than the one we saw exists, which is
      // what the caller asked for, so adopt it rather than stack another on top.
      const winner = await readNewest();
      if (!winner) throw new CofferError("ERR_INTERNAL", "keyring version vanished after rotation");
      noteNewest(winner.version);
      return winner.version;
    },

    async versions() {
      const out: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.query({ pk: PK, prefix: SK_PREFIX, cursor });
        for (const item of page.items) out.push(parseItem(item).version);
        cursor = page.cursor;
      } while (cursor);
      return out;
    },
  };
  return keyring;
}

/** Non-extractable: the raw key never leaves Web Crypto once imported. */
async function importBaseKey(raw: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", new Uint8Array(raw), "HKDF", false, [
      "deriveKey",
      "deriveBits",
    ]);
  } finally {
    raw.fill(0);
  }
}

function parseItem(item: Item): StoredVersion {
  const { version, wrapped } = item;
  if (
    typeof version !== "number" ||
    item.sk !== keyringSortKey(version) ||
    !(wrapped instanceof Uint8Array)
  ) {
    throw new CofferError("ERR_INTERNAL", `keyring item ${item.sk} is malformed`);
  }
  return { version, wrapped };
}

function unknownVersion(): CofferError {
  return new CofferError("ERR_DECRYPT_FAILED", "unknown keyring version");
}
