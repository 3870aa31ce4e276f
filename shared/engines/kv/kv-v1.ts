/**
 * KV version 1: one unversioned secret per path, the whole request body as its data, as
 * Vault's KV v1 stores it. Reads carry a lease duration that is only a hint (the "ttl" or
 * "lease" field of the data, else the mount's default lease TTL); nothing is revoked.
 */
import { open, seal } from "../../crypto/envelope.ts";
import { CofferError, invalidRequest } from "../../errors.ts";
import { parseDuration } from "../../http/fields.ts";
import type { ItemKey } from "../../store/item-store.ts";
import type { Engine, EngineContext, EngineRequest, EngineResponse, JsonObject } from "../engine.ts";
import { notFoundResponse } from "../engine.ts";
import type { Mount } from "../mount.ts";
import { secretPathOf } from "./kv-request.ts";
import { encodeSecretData } from "./limits.ts";
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

export function createKvV1Engine({ mount, store, keyring }: EngineContext): Engine {
  const uuid = mount.uuid;
  const dataKey = (path: string): ItemKey => ({ pk: secretPk(uuid, path), sk: V1_DATA_SK });
  const binding = (path: string) => ({ mount: uuid, path, purpose: "kv-v1-data" });

  async function read(request: EngineRequest): Promise<EngineResponse> {
    const path = request.params.path ?? "";
    if (path === "" || path.endsWith("/")) return notFoundResponse();
    const item = await store.get(dataKey(secretPathOf(request)));
    if (!item) return notFoundResponse();
    if (!(item.envelope instanceof Uint8Array)) throw new CofferError("ERR_INTERNAL", "secret has no data");
    const data = JSON.parse(
      new TextDecoder().decode(await open(keyring, item.envelope, binding(path))),
    ) as JsonObject;
    return { data, leaseDuration: leaseSeconds(data, mount) };
  }

  async function write(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
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

  async function remove(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    await store.write([
      { op: "delete", key: dataKey(path) },
      { op: "delete", key: keysKey(uuid, path) },
    ]);
    return {};
  }

  return {
    routes: [
      {
        pattern: /^(?<path>.*)$/,
        exists: async (request) => (await store.get(dataKey(secretPathOf(request)))) !== undefined,
        operations: {
          read,
          list: (request) => listFolder(store, uuid, request.params.path ?? ""),
          create: write,
          update: write,
          delete: remove,
        },
      },
    ],
    purge: () => purgeKvMount(store, uuid),
  };
}
