/**
 * KV v2's persistence: reading a version with its metadata, and every change to a secret
 * as one atomic write conditioned on the metadata revision it read (storage.ts).
 *
 * - A new version, its metadata and the pruning of versions beyond max_versions land in
 *   one write: no reader ever sees a version number without its data.
 * - Destroying versions deletes their items in the same write that flags them.
 * - Deleting a secret whose items fit one write removes everything at once; a larger one
 *   is first replaced by a tombstone (readers see nothing from then on) and its items are
 *   removed in batches that each re-check the tombstone, so a secret created again at the
 *   same path is never touched. Pruning too large for one write leaves the rest to the
 *   same cleanup. Both record the secret under "kvclean/" in the write that leaves work
 *   behind, so an interrupted cleanup is finished by the next writer or by sweepKv.
 */
import { open, seal } from "../../crypto/envelope.ts";
import type { Keyring } from "../../crypto/keyring.ts";
import { CofferError, isCofferError } from "../../errors.ts";
import { type Item, type ItemStore, MAX_WRITE_OPS, type WriteOp } from "../../store/item-store.ts";
import type { JsonObject } from "../engine.ts";
import { cleanUpSecret } from "./cleanup.ts";
import { encodeSecretData } from "./limits.ts";
import { deletionTimeFor, effectiveMaxVersions, type KvConfig } from "./mount-config.ts";
import { createPathLock } from "./path-lock.ts";
import {
  cleanupKey,
  isGone,
  isTombstone,
  keysKey,
  type MetadataRecord,
  metadataFromItem,
  metadataItem,
  metaKey,
  newMetadata,
  newRevision,
  type SecretMetadata,
  secretPk,
  type Tombstone,
  unchangedSince,
  VERSION_PREFIX,
  versionKey,
  versionSk,
} from "./storage.ts";

/** Attempts of a change that keeps losing races to other processes, before a 503. */
const WRITE_ATTEMPTS = 10;
/** Reads that found metadata naming a version whose item a concurrent change removed. */
const READ_ATTEMPTS = 3;

export type VersionRead =
  | { kind: "missing"; metadata?: SecretMetadata; version?: number }
  | { kind: "gone"; metadata: SecretMetadata; version: number }
  | { kind: "live"; metadata: SecretMetadata; version: number; data: JsonObject };

export interface WriteInput {
  config: KvConfig;
  cas?: number;
  /** Patch the current version (which must exist and be readable) instead of replacing it. */
  patch?: boolean;
  /** The new version's data, given the current version's when patching. */
  next: (current: JsonObject | undefined) => JsonObject;
}

export type WriteResult =
  | { kind: "written"; metadata: SecretMetadata; version: number; warnings: string[] }
  | Exclude<VersionRead, { kind: "live" }>;

export interface VersionedStore {
  read(path: string, version?: number): Promise<VersionRead>;
  metadata(path: string): Promise<SecretMetadata | undefined>;
  exists(path: string): Promise<boolean>;
  write(path: string, input: WriteInput): Promise<WriteResult>;
  /**
   * Applies `change` to the metadata (a fresh one when `create` and there is none);
   * `change` returns false when there is nothing to write. Undefined when the secret
   * does not exist and `create` is false.
   */
  change(
    path: string,
    change: (metadata: SecretMetadata) => boolean,
    options?: { create?: boolean },
  ): Promise<SecretMetadata | undefined>;
  /** Flags the versions destroyed and deletes their data; returns the metadata after. */
  destroy(path: string, versions: readonly number[]): Promise<SecretMetadata | undefined>;
  /** Removes the metadata and every version. */
  remove(path: string): Promise<void>;
  /** Finishes the removals a secret has pending (see the module comment). */
  cleanUp(path: string): Promise<void>;
}

const conflictsExhausted = (cause: unknown) =>
  new CofferError("ERR_UPSTREAM_UNAVAILABLE", "too many concurrent changes to this secret, retry", [], {
    cause,
  });

/** Runs `attempt` again while it loses a conditional write to another process. */
async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let count = 1; ; count++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
      if (count >= WRITE_ATTEMPTS) throw conflictsExhausted(error);
      // Full jitter, so racing processes stop colliding in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 10 * 2 ** count)));
    }
  }
}

function checkCas(cas: number | undefined, config: KvConfig, metadata: SecretMetadata | undefined): void {
  if (cas === undefined) {
    if (config.cas_required || metadata?.cas_required) {
      throw new CofferError("ERR_CONFLICT", "check-and-set parameter required for this call");
    }
  } else if (cas !== (metadata?.current_version ?? 0)) {
    throw new CofferError("ERR_CONFLICT", "check-and-set parameter did not match the current version");
  }
}

/**
 * Drops versions beyond max_versions from the metadata, as Vault counts them, and returns
 * those whose items must go (destroyed versions have none left).
 */
function prune(metadata: SecretMetadata, config: KvConfig): number[] {
  const maxVersions = effectiveMaxVersions(metadata, config);
  if (metadata.current_version - metadata.oldest_version < maxVersions) return [];
  const cutoff = metadata.current_version - maxVersions;
  const doomed: number[] = [];
  for (const [key, state] of Object.entries(metadata.versions)) {
    if (Number(key) > cutoff) continue;
    if (!state.destroyed) doomed.push(Number(key));
    delete metadata.versions[key];
  }
  metadata.oldest_version = cutoff + 1;
  return doomed.sort((a, b) => a - b);
}

export function createVersionedStore(options: {
  store: ItemStore;
  keyring: Keyring;
  mountUuid: string;
  now: () => number;
}): VersionedStore {
  const { store, keyring, mountUuid: uuid, now } = options;
  const lock = createPathLock();
  const decoder = new TextDecoder();
  const binding = (path: string, version: number) => ({
    mount: uuid,
    path,
    version: String(version),
    purpose: "kv-v2-data",
  });

  async function record(path: string): Promise<MetadataRecord | undefined> {
    const item = await store.get(metaKey(uuid, path));
    return item ? metadataFromItem(item) : undefined;
  }

  async function liveRecord(path: string): Promise<SecretMetadata | undefined> {
    const found = await record(path);
    return isTombstone(found) ? undefined : found;
  }

  /** The live metadata, after finishing the removal a tombstone says is under way. */
  async function writableRecord(path: string): Promise<SecretMetadata | undefined> {
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const found = await record(path);
      if (!isTombstone(found)) return found;
      await cleanUpSecret(store, uuid, path);
    }
    throw new CofferError("ERR_UPSTREAM_UNAVAILABLE", "this secret is being deleted, retry");
  }

  async function openItem(
    path: string,
    version: number,
    item: Item | undefined,
  ): Promise<JsonObject | undefined> {
    const envelope = item?.envelope;
    if (!(envelope instanceof Uint8Array)) return undefined;
    const plaintext = await open(keyring, envelope, binding(path, version));
    return JSON.parse(decoder.decode(plaintext)) as JsonObject;
  }

  async function read(path: string, requested?: number): Promise<VersionRead> {
    for (let attempt = 1; ; attempt++) {
      let items: (Item | undefined)[];
      if (requested) {
        items = await store.batchGet([metaKey(uuid, path), versionKey(uuid, path, requested)]);
      } else {
        // The metadata and the newest version item in one round trip (storage.ts).
        items = (await store.query({ pk: secretPk(uuid, path), descending: true, limit: 2 })).items;
      }
      const [metaItem, newest] = items;
      const found = metaItem?.sk === metaKey(uuid, path).sk ? metadataFromItem(metaItem) : undefined;
      if (!found || isTombstone(found)) return { kind: "missing" };
      const version = requested || found.current_version;
      const state = found.versions[String(version)];
      if (!state) return { kind: "missing", metadata: found, version };
      if (isGone(state, now())) return { kind: "gone", metadata: found, version };
      const item =
        newest?.sk === versionSk(version) ? newest : await store.get(versionKey(uuid, path, version));
      const data = await openItem(path, version, item);
      if (data) return { kind: "live", metadata: found, version, data };
      // The metadata and the item came from two reads (or a query, which DynamoDB does not
      // isolate from transactions): a change landed between them. Read both again.
      if (attempt >= READ_ATTEMPTS) throw new CofferError("ERR_INTERNAL", "secret version has no data");
    }
  }

  async function write(path: string, input: WriteInput): Promise<WriteResult> {
    return lock(path, () =>
      retryingConflicts(async (): Promise<WriteResult> => {
        const before = await writableRecord(path);
        let current: JsonObject | undefined;
        if (input.patch) {
          const state = before?.versions[String(before.current_version)];
          if (!before || !state) return { kind: "missing" };
          checkCas(input.cas, input.config, before);
          if (isGone(state, now()))
            return { kind: "gone", metadata: before, version: before.current_version };
          current = await openItem(
            path,
            before.current_version,
            await store.get(versionKey(uuid, path, before.current_version)),
          );
          // Removed since the metadata was read: let the retry see why.
          if (!current)
            throw new CofferError("ERR_CONDITION_FAILED", "the current version changed while patching");
        } else {
          checkCas(input.cas, input.config, before);
        }
        const plaintext = encodeSecretData(input.next(current));

        const at = now();
        const iso = new Date(at).toISOString();
        const version = (before?.current_version ?? 0) + 1;
        const after = structuredClone(before ?? newMetadata(iso));
        after.revision = newRevision();
        after.current_version = version;
        after.updated_time = iso;
        after.versions[String(version)] = {
          created_time: iso,
          deletion_time: deletionTimeFor(at, after, input.config),
          destroyed: false,
        };
        const doomed = prune(after, input.config);

        const ops: WriteOp[] = [
          {
            op: "put",
            item: {
              ...versionKey(uuid, path, version),
              envelope: await seal(keyring, plaintext, binding(path, version)),
            },
            condition: { exists: false },
          },
          { op: "put", item: metadataItem(metaKey(uuid, path), after), condition: unchangedSince(before) },
        ];
        if (!before) ops.push({ op: "put", item: { ...keysKey(uuid, path) } });
        // One slot stays free for the cleanup marker.
        const room = MAX_WRITE_OPS - ops.length - 1;
        for (const old of doomed.slice(0, room)) ops.push({ op: "delete", key: versionKey(uuid, path, old) });
        const leftover = doomed.length > room;
        if (leftover) ops.push({ op: "put", item: { ...cleanupKey(uuid, path), revision: after.revision } });
        await store.write(ops);

        const warnings: string[] = [];
        if (leftover) {
          try {
            await cleanUpSecret(store, uuid, path);
          } catch {
            warnings.push("error occurred when cleaning up old versions, these will be cleaned up later");
          }
        }
        return { kind: "written", metadata: after, version, warnings };
      }),
    );
  }

  async function change(
    path: string,
    apply: (metadata: SecretMetadata) => boolean,
    options: { create?: boolean } = {},
  ): Promise<SecretMetadata | undefined> {
    return lock(path, () =>
      retryingConflicts(async () => {
        const before = options.create ? await writableRecord(path) : await liveRecord(path);
        if (!before && !options.create) return undefined;
        const after = structuredClone(before ?? newMetadata(new Date(now()).toISOString()));
        if (!apply(after)) return before;
        after.revision = newRevision();
        const ops: WriteOp[] = [
          { op: "put", item: metadataItem(metaKey(uuid, path), after), condition: unchangedSince(before) },
        ];
        if (!before) ops.push({ op: "put", item: { ...keysKey(uuid, path) } });
        await store.write(ops);
        return after;
      }),
    );
  }

  async function destroy(path: string, versions: readonly number[]): Promise<SecretMetadata | undefined> {
    const wanted = new Set(versions);
    return lock(path, async () => {
      for (;;) {
        const step = await retryingConflicts(async () => {
          const before = await liveRecord(path);
          if (!before) return { done: true, metadata: undefined };
          // Each write flags a batch and deletes its items together; one slot is the metadata.
          const batch = [...wanted]
            .filter((version) => before.versions[String(version)]?.destroyed === false)
            .slice(0, MAX_WRITE_OPS - 1);
          if (batch.length === 0) return { done: true, metadata: before };
          const after = structuredClone(before);
          after.revision = newRevision();
          for (const version of batch) after.versions[String(version)]!.destroyed = true;
          await store.write([
            { op: "put", item: metadataItem(metaKey(uuid, path), after), condition: unchangedSince(before) },
            ...batch.map((version): WriteOp => ({ op: "delete", key: versionKey(uuid, path, version) })),
          ]);
          for (const version of batch) wanted.delete(version);
          return { done: wanted.size === 0, metadata: after };
        });
        if (step.done) return step.metadata;
      }
    });
  }

  async function versionItemSortKeys(path: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk: secretPk(uuid, path), prefix: VERSION_PREFIX, cursor });
      keys.push(...page.items.map((item) => item.sk));
      cursor = page.cursor;
    } while (cursor);
    return keys;
  }

  async function remove(path: string): Promise<void> {
    await lock(path, () =>
      retryingConflicts(async () => {
        const found = await record(path);
        if (!found) return;
        if (isTombstone(found)) return cleanUpSecret(store, uuid, path);
        const pk = secretPk(uuid, path);
        const items = await versionItemSortKeys(path);
        const indexes: WriteOp[] = [
          { op: "delete", key: keysKey(uuid, path) },
          { op: "delete", key: cleanupKey(uuid, path) },
        ];
        if (items.length + indexes.length + 1 <= MAX_WRITE_OPS) {
          await store.write([
            { op: "delete", key: metaKey(uuid, path), condition: unchangedSince(found) },
            ...indexes,
            ...items.map((sk): WriteOp => ({ op: "delete", key: { pk, sk } })),
          ]);
          return;
        }
        const tombstone: Tombstone = { tombstone: true, revision: newRevision() };
        await store.write([
          { op: "put", item: metadataItem(metaKey(uuid, path), tombstone), condition: unchangedSince(found) },
          { op: "delete", key: keysKey(uuid, path) },
          { op: "put", item: { ...cleanupKey(uuid, path), revision: tombstone.revision } },
        ]);
        await cleanUpSecret(store, uuid, path);
      }),
    );
  }

  return {
    read,
    metadata: liveRecord,
    exists: async (path) => (await liveRecord(path)) !== undefined,
    write,
    change,
    destroy,
    remove,
    cleanUp: (path) => cleanUpSecret(store, uuid, path),
  };
}
