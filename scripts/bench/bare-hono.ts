/**
 * The bare-Hono baseline: a Hono app that answers a KV v2 read with the work no broker can
 * skip — the same store query (metadata and newest version, one round trip), one
 * AES-256-GCM decryption, Vault's JSON envelope — and nothing else: no token, no policy,
 * no audit record, no MAC check. The broker's cost per request is the distance to this.
 * It decrypts as it is told: synchronously with node:crypto, as the broker does on Node,
 * or through Web Crypto, as the broker did before and does on edge runtimes.
 */
import { Hono } from "hono";
import { secretPk } from "../../shared/engines/kv/storage.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import type { BaselineEnvelope } from "./baseline-envelope.ts";

export type BaselineDecrypt = (envelope: BaselineEnvelope) => Uint8Array | Promise<Uint8Array>;

interface VersionState {
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

const PREFIX = "/v1/secret/data/";

export function createBareKvApp(
  store: ItemStore,
  mountUuid: string,
  envelope: BaselineEnvelope,
  decrypt: BaselineDecrypt,
): Hono {
  const decoder = new TextDecoder();
  const app = new Hono();
  app.get(`${PREFIX}*`, async (c) => {
    const path = c.req.path.slice(PREFIX.length);
    const { items } = await store.query({ pk: secretPk(mountUuid, path), descending: true, limit: 2 });
    const [meta] = items;
    if (meta?.sk !== "~meta") return c.json({ errors: [] }, 404);
    const version = Number(meta.current_version);
    const state = (meta.versions as unknown as Record<string, VersionState>)[String(version)];
    if (!state) return c.json({ errors: [] }, 404);
    const plaintext = await decrypt(envelope);
    c.header("Cache-Control", "no-store");
    return c.json({
      request_id: crypto.randomUUID(),
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: {
        data: JSON.parse(decoder.decode(plaintext)),
        metadata: {
          created_time: state.created_time,
          custom_metadata: null,
          deletion_time: state.deletion_time,
          destroyed: state.destroyed,
          version,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: "kv",
    });
  });
  return app;
}
