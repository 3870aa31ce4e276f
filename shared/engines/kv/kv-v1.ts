/**
 * KV version 1: one unversioned secret per path, the whole request body as its data, as
 * Vault's KV v1 stores it. Reads carry a lease duration that is only a hint (the "ttl" or
 * "lease" field of the data, else the mount's default lease TTL); nothing is revoked.
 */
import { open, seal } from "../../crypto/envelope.ts";
import { CofferError, invalidRequest } from "../../errors.ts";
import type { ItemKey } from "../../store/item-store.ts";
import {
  type Engine,
  type EngineContext,
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  notFoundResponse,
  route,
} from "../engine.ts";
import { parseDuration } from "../fields.ts";
import type { Mount } from "../mount.ts";
import { checkSecretPath, encodeSecretData } from "./limits.ts";
import { listFolder } from "./listing.ts";
import { purgeKvMount } from "./purge.ts";
import { keysKey, secretPk, V1_DATA_SK } from "./storage.ts";

/** Vault's system default lease TTL (768h), for mounts that set none. */
export const KV_V1_DEFAULT_LEASE_SECONDS = 2_764_800;

function leaseSeconds(data: JsonObject, mount: Mount): number {
  const fallback = mount.config.default_lease_ttl || KV_V1_DEFAULT_LEASE_SECONDS;
  const hint = data.ttl ?? data.lease;
  if (hint === undefined) return fallback;
  try {
    return parseDuration(hint, "ttl");
  } catch {
    // A hint the writer got wrong is ignored, as Vault ignores it.
    return fallback;
  }
}

type V1Request = EngineRequest<{ path: string }>;

export function createKvV1Engine({ mount, store, keyring }: EngineContext): Engine {
  const uuid = mount.uuid;
  const dataKey = (path: string): ItemKey => ({ pk: secretPk(uuid, path), sk: V1_DATA_SK });
  const binding = (path: string) => ({ mount: uuid, path, purpose: "kv-v1-data" });

  async function read(request: V1Request): Promise<EngineResponse> {
    const path = request.fields.path;
    if (path === "" || path.endsWith("/")) return notFoundResponse();
    const item = await store.get(dataKey(checkSecretPath(path)));
    if (!item) return notFoundResponse();
    if (!(item.envelope instanceof Uint8Array)) throw new CofferError("ERR_INTERNAL", "secret has no data");
    const data = JSON.parse(
      new TextDecoder().decode(await open(keyring, item.envelope, binding(path))),
    ) as JsonObject;
    return { data, leaseDuration: leaseSeconds(data, mount) };
  }

  async function write(request: V1Request): Promise<EngineResponse> {
    const path = checkSecretPath(request.fields.path);
    if (Object.keys(request.data).length === 0) {
      throw invalidRequest("missing data fields: the body must be a JSON object with at least one field");
    }
    const plaintext = encodeSecretData(request.data);
    await store.write([
      { op: "put", item: { ...dataKey(path), envelope: await seal(keyring, plaintext, binding(path)) } },
      { op: "put", item: { ...keysKey(uuid, path) } },
    ]);
    return {};
  }

  async function remove(request: V1Request): Promise<EngineResponse> {
    const path = checkSecretPath(request.fields.path);
    await store.write([
      { op: "delete", key: dataKey(path) },
      { op: "delete", key: keysKey(uuid, path) },
    ]);
    return {};
  }

  return {
    routes: [
      route({
        pattern: /^(?<path>.*)$/,
        fields: {
          path: { type: "string", path: true, description: "The secret's path, or the folder to list." },
        },
        // A KV v1 secret is the whole body, whatever its fields.
        takesArbitraryData: true,
        exists: async (request) =>
          (await store.get(dataKey(checkSecretPath(request.fields.path)))) !== undefined,
        operations: {
          read,
          list: (request) => listFolder(store, uuid, request.fields.path),
          create: write,
          update: write,
          delete: remove,
        },
      }),
    ],
    purge: () => purgeKvMount(store, uuid),
  };
}
