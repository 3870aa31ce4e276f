/**
 * How transit keys live in the item store.
 *
 *   pk "transit/<mount uuid>"  sk "key/<name>"                  the key policy (small, read on the hot path)
 *                              sk "version/<name>/<10 digits>"   one per version: its material, sealed
 *                                                                (a signing key's private key too), and
 *                                                                a signing key's public key in clear
 *                              sk "config/keys"                  mount-wide settings (disable_upsert)
 *
 * Policies and versions sit under different prefixes, so listing keys reads policies only
 * and reading a policy never drags its versions along. Every change to a key is one
 * atomic write conditioned on the policy's revision; a version item repeats its key's id,
 * so a leftover of a deleted key is never taken for a newer key of the same name.
 *
 * Each process trusts a policy it read for at most POLICY_CACHE_MS: a rotation, a
 * configuration change (min_decryption_version included) or a deletion made through
 * another process takes effect here within that bound, and at once in the process that
 * made it.
 */
import { CofferError, isCofferError } from "../../errors.ts";
import type { Item, ItemKey, ItemStore, WriteOp } from "../../store/item-store.ts";
import { deletePartition, MAX_WRITE_OPS } from "../../store/item-store.ts";
import type { KeyPolicy } from "./key-policy.ts";
import { isKeyTypeName } from "./key-types.ts";
import type { MountCache } from "./mount-cache.ts";

export const POLICY_CACHE_MS = 5_000;

const POLICY_PREFIX = "key/";
const VERSION_PREFIX = "version/";
const CONFIG_SK = "config/keys";

export interface StoredVersion {
  version: number;
  keyId: string;
  /** Unix seconds. */
  createdAt: number;
  /** The version's 32-byte secret, sealed. */
  envelope: Uint8Array;
  /** Signing keys: the private key (PKCS #8), sealed. */
  privateKey?: Uint8Array;
  /** Signing keys: the public key (SubjectPublicKeyInfo, DER). Public, so in clear; the item MAC keeps it honest. */
  publicKey?: Uint8Array;
}

export interface MountSettings {
  disableUpsert: boolean;
}

export interface KeyStorage {
  /** The policy, from this process's cache when it is fresh enough; `fresh` reads the store. */
  policy(name: string, options?: { fresh?: boolean }): Promise<KeyPolicy | undefined>;
  /** Writes a new key and its first version; false when the name is already taken. */
  create(policy: KeyPolicy, first: StoredVersion): Promise<boolean>;
  /**
   * Replaces `before` with `after` (whose revision must be the next one) in one write with
   * `also`, on condition that nobody changed the key meanwhile; false when someone did.
   * Versions to drop are deleted in the same write when they fit, after it otherwise.
   */
  replace(
    before: KeyPolicy,
    after: KeyPolicy,
    also?: { put?: StoredVersion; drop?: number[] },
  ): Promise<boolean>;
  /** Deletes the key on condition of its revision; false when someone changed it meanwhile. */
  remove(policy: KeyPolicy): Promise<boolean>;
  version(name: string, version: number): Promise<StoredVersion | undefined>;
  /** The versions of the key `policy` describes that still exist, oldest first. */
  versions(policy: KeyPolicy): Promise<StoredVersion[]>;
  names(): Promise<string[]>;
  /** Every policy of the mount, read from the store. */
  policies(): Promise<KeyPolicy[]>;
  settings(): Promise<MountSettings>;
  saveSettings(settings: MountSettings): Promise<void>;
  /** Deletes everything the mount stored. */
  purge(): Promise<void>;
}

export function createKeyStorage(
  store: ItemStore,
  mountUuid: string,
  cache: MountCache,
  now: () => number,
): KeyStorage {
  const pk = `transit/${mountUuid}`;
  const policyKey = (name: string): ItemKey => ({ pk, sk: `${POLICY_PREFIX}${name}` });
  const versionKey = (name: string, version: number): ItemKey => ({
    pk,
    sk: `${VERSION_PREFIX}${name}/${String(version).padStart(10, "0")}`,
  });

  const remember = (policy: KeyPolicy) => cache.policies.set(policy.name, { policy, loadedAt: now() });

  async function load(name: string): Promise<KeyPolicy | undefined> {
    const item = await store.get(policyKey(name));
    const policy = item ? policyFromItem(item) : undefined;
    const cached = cache.policies.get(name)?.policy;
    // A read that started before a local change may finish after it: keep the newer view.
    if (policy && cached?.keyId === policy.keyId && cached.revision > policy.revision) return cached;
    if (policy) remember(policy);
    else cache.policies.delete(name);
    return policy;
  }

  function versionPut(name: string, stored: StoredVersion): WriteOp {
    // Unconditional: the policy's revision guards the write, and a leftover item of a
    // deleted key under this name (see remove) must be overwritten, not block the key.
    return {
      op: "put",
      item: {
        ...versionKey(name, stored.version),
        key_id: stored.keyId,
        version: stored.version,
        created: stored.createdAt,
        envelope: stored.envelope,
        ...(stored.privateKey ? { private_key: stored.privateKey } : {}),
        ...(stored.publicKey ? { public_key: stored.publicKey } : {}),
      },
    };
  }

  /** Runs `first`; then deletes `rest` in further writes (they are unreachable already). */
  async function writeThenSweep(first: WriteOp[], rest: ItemKey[]): Promise<boolean> {
    try {
      await store.write(first);
    } catch (error) {
      if (isCofferError(error, "ERR_CONDITION_FAILED")) return false;
      throw error;
    }
    for (let i = 0; i < rest.length; i += MAX_WRITE_OPS) {
      await store.write(rest.slice(i, i + MAX_WRITE_OPS).map((key) => ({ op: "delete" as const, key })));
    }
    return true;
  }

  async function queryAll(prefix: string): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk, prefix, cursor });
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  }

  return {
    async policy(name, options = {}) {
      const cached = cache.policies.get(name);
      if (!options.fresh && cached && now() - cached.loadedAt < POLICY_CACHE_MS) return cached.policy;
      if (options.fresh) return load(name);
      let pending = cache.loading.get(name);
      if (!pending) {
        pending = load(name).finally(() => cache.loading.delete(name));
        cache.loading.set(name, pending);
      }
      return pending;
    },

    async create(policy, first) {
      try {
        await store.write([
          { op: "put", item: policyItem(policyKey(policy.name), policy), condition: { exists: false } },
          versionPut(policy.name, first),
        ]);
      } catch (error) {
        if (isCofferError(error, "ERR_CONDITION_FAILED")) return false;
        throw error;
      }
      remember(policy);
      return true;
    },

    async replace(before, after, also = {}) {
      if (
        after.revision !== before.revision + 1 ||
        after.name !== before.name ||
        after.keyId !== before.keyId
      ) {
        throw new CofferError(
          "ERR_INTERNAL",
          "a key policy change must keep the key and take the next revision",
        );
      }
      const first: WriteOp[] = [
        {
          op: "put",
          item: policyItem(policyKey(after.name), after),
          condition: { attribute: "revision", equals: before.revision },
        },
      ];
      if (also.put) first.push(versionPut(after.name, also.put));
      const drops = (also.drop ?? []).map((version) => versionKey(after.name, version));
      const inline = drops.slice(0, MAX_WRITE_OPS - first.length);
      first.push(...inline.map((key) => ({ op: "delete" as const, key })));
      const written = await writeThenSweep(first, drops.slice(inline.length));
      if (written) remember(after);
      else cache.policies.delete(after.name);
      return written;
    },

    async remove(policy) {
      // Every item under the name, leftovers of earlier keys included.
      const versions = (await queryAll(`${VERSION_PREFIX}${policy.name}/`)).map(({ pk, sk }) => ({ pk, sk }));
      const first: WriteOp[] = [
        {
          op: "delete",
          key: policyKey(policy.name),
          condition: { attribute: "revision", equals: policy.revision },
        },
      ];
      const inline = versions.slice(0, MAX_WRITE_OPS - 1);
      first.push(...inline.map((key) => ({ op: "delete" as const, key })));
      const removed = await writeThenSweep(first, versions.slice(inline.length));
      cache.policies.delete(policy.name);
      return removed;
    },

    async version(name, version) {
      const item = await store.get(versionKey(name, version));
      return item ? versionFromItem(item) : undefined;
    },

    async versions(policy) {
      const items = await queryAll(`${VERSION_PREFIX}${policy.name}/`);
      return items
        .map(versionFromItem)
        .filter(
          (stored) =>
            stored.keyId === policy.keyId &&
            stored.version >= Math.max(1, policy.minAvailableVersion) &&
            stored.version <= policy.latestVersion,
        );
    },

    async names() {
      return (await queryAll(POLICY_PREFIX)).map((item) => item.sk.slice(POLICY_PREFIX.length)).sort();
    },

    async policies() {
      return (await queryAll(POLICY_PREFIX)).map(policyFromItem);
    },

    async settings() {
      const item = await store.get({ pk, sk: CONFIG_SK });
      return { disableUpsert: item?.disable_upsert === true };
    },

    async saveSettings(settings) {
      await store.write([{ op: "put", item: { pk, sk: CONFIG_SK, disable_upsert: settings.disableUpsert } }]);
    },

    async purge() {
      await deletePartition(store, pk);
      cache.policies.clear();
      cache.versions.clear();
    },
  };
}

function policyItem(key: ItemKey, policy: KeyPolicy): Item {
  return {
    ...key,
    name: policy.name,
    key_id: policy.keyId,
    type: policy.type,
    derived: policy.derived,
    convergent_encryption: policy.convergent,
    deletion_allowed: policy.deletionAllowed,
    min_decryption_version: policy.minDecryptionVersion,
    min_encryption_version: policy.minEncryptionVersion,
    min_available_version: policy.minAvailableVersion,
    latest_version: policy.latestVersion,
    latest_created: policy.latestCreatedAt,
    auto_rotate_period: policy.autoRotatePeriod,
    revision: policy.revision,
  };
}

function policyFromItem(item: Item): KeyPolicy {
  const integer = (name: string) => {
    const value = item[name];
    if (typeof value !== "number" || !Number.isSafeInteger(value)) throw malformed(item);
    return value;
  };
  const flag = (name: string) => {
    const value = item[name];
    if (typeof value !== "boolean") throw malformed(item);
    return value;
  };
  if (typeof item.name !== "string" || typeof item.key_id !== "string" || !isKeyTypeName(item.type)) {
    throw malformed(item);
  }
  return {
    name: item.name,
    keyId: item.key_id,
    type: item.type,
    derived: flag("derived"),
    convergent: flag("convergent_encryption"),
    deletionAllowed: flag("deletion_allowed"),
    minDecryptionVersion: integer("min_decryption_version"),
    minEncryptionVersion: integer("min_encryption_version"),
    minAvailableVersion: integer("min_available_version"),
    latestVersion: integer("latest_version"),
    latestCreatedAt: integer("latest_created"),
    autoRotatePeriod: integer("auto_rotate_period"),
    revision: integer("revision"),
  };
}

function versionFromItem(item: Item): StoredVersion {
  const { version, key_id: keyId, created, envelope, private_key: privateKey, public_key: publicKey } = item;
  const optionalBytes = (value: unknown) => value === undefined || value instanceof Uint8Array;
  if (
    typeof version !== "number" ||
    typeof keyId !== "string" ||
    typeof created !== "number" ||
    !(envelope instanceof Uint8Array) ||
    !optionalBytes(privateKey) ||
    !optionalBytes(publicKey)
  ) {
    throw malformed(item);
  }
  const stored: StoredVersion = { version, keyId, createdAt: created, envelope };
  if (privateKey instanceof Uint8Array) stored.privateKey = privateKey;
  if (publicKey instanceof Uint8Array) stored.publicKey = publicKey;
  return stored;
}

function malformed(item: Item): CofferError {
  return new CofferError("ERR_INTERNAL", `transit item ${item.sk} is malformed`);
}
