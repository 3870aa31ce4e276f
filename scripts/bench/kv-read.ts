/**
 * Section 1 and 2: a warm authenticated KV read through the real app (token check, policy,
 * store read, decrypt, envelope, audit) against the irreducible work (the same store read
 * and one AES-GCM decrypt), and the KMS calls the broker makes. The baseline reads the raw
 * store: verifying each item's MAC is the broker's work, not the store's.
 */
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { secretPk } from "../../shared/engines/kv/storage.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { initialize } from "../../shared/sys/init.ts";
import { round, type Sample, sample } from "./measure.ts";

const SECRET = {
  username: "app",
  password: "correct-horse-battery-staple",
  host: "db.internal.example",
  port: "5432",
  database: "orders",
};

export interface KvReadResult {
  store: string;
  app: Sample;
  baseline: Sample;
  /** app p50 / baseline p50. */
  overheadP50: number;
  overheadP99: number;
}

/** `raw` is the store under `broker`, opened again without the broker's authentication. */
export async function benchKvRead(
  broker: Broker,
  raw: ItemStore,
  store: string,
  reads: number,
): Promise<KvReadResult> {
  const { rootToken } = await initialize(broker);
  const app = createApp(broker);
  const headers = { "X-Vault-Token": rootToken };
  const write = await app.request("/v1/secret/data/bench/db", {
    method: "POST",
    headers,
    body: JSON.stringify({ data: SECRET }),
  });
  if (write.status !== 200) throw new Error(`bench write failed: ${write.status}`);

  const appSample = await sample(reads, async () => {
    const response = await app.request("/v1/secret/data/bench/db", { headers });
    if (response.status !== 200) throw new Error(`bench read failed: ${response.status}`);
    await response.json();
  });

  const resolved = await broker.mounts.resolve("secret/data/bench/db");
  if (!resolved) throw new Error("no secret/ mount");
  const key = await crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    "AES-GCM",
    false,
    ["encrypt", "decrypt"],
  );
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    key,
    new TextEncoder().encode(JSON.stringify(SECRET)),
  );
  const pk = secretPk(resolved.mount.uuid, "bench/db");
  const baseline = await sample(reads, async () => {
    await raw.query({ pk, descending: true, limit: 2 });
    await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, ciphertext);
  });

  return {
    store,
    app: appSample,
    baseline,
    overheadP50: round(appSample.p50Ms / baseline.p50Ms),
    overheadP99: round(appSample.p99Ms / baseline.p99Ms),
  };
}
