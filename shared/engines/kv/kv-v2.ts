/**
 * KV version 2: versioned key/value secrets with Vault's paths and JSON shapes.
 * Secret data is sealed per version (shared/crypto/envelope.ts) with a binding to the
 * mount, path and version, so a ciphertext copied anywhere else fails to open.
 */
import type { Broker } from "../../broker.ts";
import { open, seal } from "../../crypto/envelope.ts";
import { CofferError, invalidRequest, isCofferError, payloadTooLarge } from "../../errors.ts";
import { optionalInteger, optionalObject, rejectUnknownFields } from "../../http/fields.ts";
import type { Mount } from "../../mounts/mount-table.ts";
import type { Item, WriteOp } from "../../store/item-store.ts";
import type { Engine, EngineRequest, EngineResponse, JsonObject } from "../engine.ts";
import {
  keysPk,
  metadataFromItem,
  metadataItem,
  metaKey,
  newMetadata,
  type SecretMetadata,
  secretPk,
  type VersionState,
  versionKey,
} from "./storage.ts";

/** Largest secret (its JSON) accepted: leaves room in DynamoDB's 400 KB item for the envelope. */
export const MAX_SECRET_BYTES = 256 * 1024;
/** Longest secret path, in UTF-8 bytes. */
export const MAX_SECRET_PATH_BYTES = 512;
export const DEFAULT_MAX_VERSIONS = 10;
/** Unconditional writes that lose a race retry this many times before giving up. */
const WRITE_ATTEMPTS = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function secretPath(request: EngineRequest): string {
  const path = request.params.path ?? "";
  if (path === "" || path.endsWith("/")) throw invalidRequest("invalid secret path: it must name a secret, not a folder");
  if (encoder.encode(path).length > MAX_SECRET_PATH_BYTES) {
    throw payloadTooLarge(`secret path exceeds the limit of ${MAX_SECRET_PATH_BYTES} bytes`);
  }
  return path;
}

function isDeleted(state: VersionState, now: number): boolean {
  return state.deletion_time !== "" && Date.parse(state.deletion_time) <= now;
}

function versionMetadata(metadata: SecretMetadata, version: number, now: number): JsonObject {
  const state = effectiveState(metadata, version, now);
  return {
    created_time: state.created_time,
    custom_metadata: Object.keys(metadata.custom_metadata).length > 0 ? metadata.custom_metadata : null,
    deletion_time: state.deletion_time,
    destroyed: state.destroyed,
    version,
  };
}

/** A version's state with delete_version_after applied: it reads as deleted once due. */
function effectiveState(metadata: SecretMetadata, version: number, now: number): VersionState {
  const state = metadata.versions[String(version)];
  if (!state) throw new CofferError("ERR_INTERNAL", "version missing from metadata");
  if (state.deletion_time === "" && metadata.delete_version_after > 0) {
    const due = Date.parse(state.created_time) + metadata.delete_version_after * 1000;
    if (due <= now) return { ...state, deletion_time: new Date(due).toISOString() };
  }
  return state;
}

function describeMetadata(metadata: SecretMetadata, maxVersions: number): JsonObject {
  return {
    cas_required: metadata.cas_required,
    created_time: metadata.created_time,
    current_version: metadata.current_version,
    custom_metadata: Object.keys(metadata.custom_metadata).length > 0 ? metadata.custom_metadata : null,
    delete_version_after: `${metadata.delete_version_after}s`,
    max_versions: metadata.max_versions || maxVersions,
    oldest_version: metadata.oldest_version,
    updated_time: metadata.updated_time,
    versions: metadata.versions,
  };
}

export function createKvV2Engine(mount: Mount, broker: Broker): Engine {
  const { store, keyring } = broker;
  const uuid = mount.uuid;
  const binding = (path: string, version: number) => ({
    mount: uuid,
    path,
    version: String(version),
    purpose: "kv-v2-data",
  });
  const nowIso = () => new Date(broker.now()).toISOString();

  async function readMetadata(path: string): Promise<SecretMetadata | undefined> {
    const item = await store.get(metaKey(uuid, path));
    return item ? metadataFromItem(item) : undefined;
  }

  /** The metadata put of a change, conditioned on nobody having changed it meanwhile. */
  function putMetadata(path: string, before: SecretMetadata | undefined, after: SecretMetadata): WriteOp {
    return {
      op: "put",
      item: metadataItem(metaKey(uuid, path), { ...after, revision: (before?.revision ?? 0) + 1 }),
      condition: before ? { attribute: "revision", equals: before.revision } : { exists: false },
    };
  }

  async function openVersion(path: string, version: number, item: Item | undefined): Promise<JsonObject> {
    const envelope = item?.envelope;
    if (!(envelope instanceof Uint8Array)) throw new CofferError("ERR_INTERNAL", "secret version has no data");
    const plaintext = await open(keyring, envelope, binding(path, version));
    return JSON.parse(decoder.decode(plaintext)) as JsonObject;
  }

  async function readData(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPath(request);
    const requested = optionalInteger(request.data, "version", { min: 0 });
    let metadata: SecretMetadata | undefined;
    let versionItem: Item | undefined;
    if (!requested) {
      const page = await store.query({ pk: secretPk(uuid, path), descending: true, limit: 2 });
      const [meta, newest] = page.items;
      metadata = meta ? metadataFromItem(meta) : undefined;
      versionItem = newest;
    } else {
      const [meta, item] = await store.batchGet([metaKey(uuid, path), versionKey(uuid, path, requested)]);
      metadata = meta ? metadataFromItem(meta) : undefined;
      versionItem = item;
    }
    const version = requested || metadata?.current_version || 0;
    if (!metadata || !metadata.versions[String(version)]) return { status: 404, raw: { errors: [] } };
    const now = broker.now();
    const state = effectiveState(metadata, version, now);
    const described = versionMetadata(metadata, version, now);
    if (state.destroyed || isDeleted(state, now)) return { status: 404, data: { data: null, metadata: described } };
    return { data: { data: await openVersion(path, version, versionItem), metadata: described } };
  }

  async function writeData(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPath(request);
    rejectUnknownFields(request.data, ["data", "options", "version"]);
    const data = optionalObject(request.data, "data");
    if (!data) throw invalidRequest('no data provided: the body must have a "data" object');
    const cas = optionalInteger(optionalObject(request.data, "options") ?? {}, "cas", { min: 0 });
    const plaintext = encoder.encode(JSON.stringify(data));
    if (plaintext.length > MAX_SECRET_BYTES) {
      throw payloadTooLarge(`secret data exceeds the limit of ${MAX_SECRET_BYTES} bytes`);
    }

    for (let attempt = 1; ; attempt++) {
      const before = await readMetadata(path);
      if (before?.cas_required && cas === undefined) {
        throw invalidRequest("check-and-set parameter required for this call");
      }
      if (cas !== undefined && cas !== (before?.current_version ?? 0)) {
        throw invalidRequest("check-and-set parameter did not match the current version");
      }
      const now = nowIso();
      const version = (before?.current_version ?? 0) + 1;
      const after: SecretMetadata = structuredClone(before ?? newMetadata(now));
      after.current_version = version;
      after.updated_time = now;
      after.versions[String(version)] = { created_time: now, deletion_time: "", destroyed: false };
      if (after.oldest_version === 0) after.oldest_version = version;

      const ops: WriteOp[] = [
        {
          op: "put",
          item: { ...versionKey(uuid, path, version), envelope: await seal(keyring, plaintext, binding(path, version)) },
          condition: { exists: false },
        },
      ];
      // Versions beyond max_versions go in the same write: never more than the limit stored.
      const maxVersions = after.max_versions || DEFAULT_MAX_VERSIONS;
      while (version - after.oldest_version + 1 > maxVersions) {
        ops.push({ op: "delete", key: versionKey(uuid, path, after.oldest_version) });
        delete after.versions[String(after.oldest_version)];
        after.oldest_version += 1;
      }
      ops.push(putMetadata(path, before, after));
      if (!before) ops.push({ op: "put", item: { pk: keysPk(uuid), sk: path } });
      try {
        await store.write(ops);
        return { data: versionMetadata(after, version, broker.now()) };
      } catch (error) {
        if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
        // Someone else wrote first. With cas, that is the caller's conflict to resolve.
        if (cas !== undefined) throw invalidRequest("check-and-set parameter did not match the current version");
        if (attempt >= WRITE_ATTEMPTS) {
          throw new CofferError("ERR_UPSTREAM_UNAVAILABLE", "too many concurrent writes to this secret, retry");
        }
      }
    }
  }

  /** Applies `change` to the metadata with optimistic concurrency, retrying lost races. */
  async function updateMetadata(path: string, change: (metadata: SecretMetadata) => void): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const before = await readMetadata(path);
      if (!before) return false;
      const after = structuredClone(before);
      change(after);
      after.updated_time = nowIso();
      try {
        await store.write([putMetadata(path, before, after)]);
        return true;
      } catch (error) {
        if (!isCofferError(error, "ERR_CONDITION_FAILED") || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }

  async function deleteLatest(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPath(request);
    await updateMetadata(path, (metadata) => {
      const state = metadata.versions[String(metadata.current_version)];
      if (state && state.deletion_time === "") state.deletion_time = nowIso();
    });
    return {};
  }

  async function readSecretMetadata(request: EngineRequest): Promise<EngineResponse> {
    const metadata = await readMetadata(secretPath(request));
    if (!metadata) return { status: 404, raw: { errors: [] } };
    return { data: describeMetadata(metadata, DEFAULT_MAX_VERSIONS) };
  }

  async function listKeys(request: EngineRequest): Promise<EngineResponse> {
    const folder = request.params.path ?? "";
    if (folder !== "" && !folder.endsWith("/")) {
      // Vault lists "metadata/app" and "metadata/app/" alike.
      return listKeys({ ...request, params: { path: `${folder}/` } });
    }
    const keys = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.query({ pk: keysPk(uuid), prefix: folder, cursor });
      for (const item of page.items) {
        const rest = item.sk.slice(folder.length);
        const slash = rest.indexOf("/");
        keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      cursor = page.cursor;
    } while (cursor);
    if (keys.size === 0) return { status: 404, raw: { errors: [] } };
    return { data: { keys: [...keys].sort() } };
  }

  const secretExists = async (request: EngineRequest) =>
    (await store.get(metaKey(uuid, request.params.path ?? ""))) !== undefined;

  return {
    routes: [
      {
        pattern: /^data\/(?<path>.*)$/,
        exists: secretExists,
        operations: { read: readData, create: writeData, update: writeData, delete: deleteLatest },
      },
      {
        pattern: /^metadata\/?(?<path>.*)$/,
        operations: { read: readSecretMetadata, list: listKeys },
      },
    ],

    async purge() {
      let cursor: string | undefined;
      do {
        const page = await store.query({ pk: keysPk(uuid), cursor, limit: 25 });
        for (const { sk: path } of page.items) {
          for (;;) {
            const versions = await store.query({ pk: secretPk(uuid, path), limit: 50 });
            if (versions.items.length === 0) break;
            await store.write(versions.items.map((item) => ({ op: "delete" as const, key: { pk: item.pk, sk: item.sk } })));
          }
          await store.write([{ op: "delete", key: { pk: keysPk(uuid), sk: path } }]);
        }
        cursor = page.cursor;
      } while (cursor);
    },
  };
}
