/**
 * The secret every read benchmark reads: `secret/data/bench/db`, five fields, written
 * through the app, with a root token and a token bound to a read-only policy, as a
 * workload would hold after a login.
 */
import { createApp } from "../../shared/app.ts";
import type { Broker } from "../../shared/broker.ts";
import { secretPk } from "../../shared/engines/kv/storage.ts";
import { initialize } from "../../shared/sys/init.ts";

export const BENCH_SECRET = {
  username: "app",
  password: "correct-horse-battery-staple",
  host: "db.internal.example",
  port: "5432",
  database: "orders",
};

export const SECRET_PATH = "bench/db";
export const SECRET_URL = `/v1/secret/data/${SECRET_PATH}`;

export interface KvFixture {
  rootToken: string;
  /** A token whose only policy reads secret/data/bench/*. */
  policyToken: string;
  mountUuid: string;
  /** The partition of the secret's items. */
  pk: string;
  /** What the envelope of version 1 is bound to (shared/engines/kv/versioned-store.ts). */
  binding: Record<string, string>;
}

/** Initializes `broker`'s store and writes the secret, the policy and its token. */
export async function writeKvFixture(broker: Broker): Promise<KvFixture> {
  const { rootToken } = await initialize(broker);
  const app = createApp(broker);
  const call = async (method: string, path: string, body: unknown) => {
    const response = await app.request(`/v1/${path}`, {
      method,
      headers: { "X-Vault-Token": rootToken },
      body: JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.status === 204
      ? undefined
      : ((await response.json()) as { data: Record<string, unknown> });
  };
  await call("POST", `secret/data/${SECRET_PATH}`, { data: BENCH_SECRET });
  await call("POST", "sys/policies/acl/bench-read", {
    policy: JSON.stringify({ path: { "secret/data/bench/*": { capabilities: ["read"] } } }),
  });
  const created = (await call("POST", "auth/token/create", {
    policies: ["bench-read"],
    ttl: "24h",
  })) as unknown as {
    auth: { client_token: string };
  };
  const resolved = await broker.mounts.resolve(`secret/data/${SECRET_PATH}`);
  if (!resolved) throw new Error("no secret/ mount");
  const mountUuid = resolved.mount.uuid;
  return {
    rootToken,
    policyToken: created.auth.client_token,
    mountUuid,
    pk: secretPk(mountUuid, SECRET_PATH),
    binding: { mount: mountUuid, path: SECRET_PATH, version: "1", purpose: "kv-v2-data" },
  };
}
