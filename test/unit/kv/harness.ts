/**
 * A broker on real adapters (in-memory SQLite unless a store is given, a local root key,
 * the real policy store), initialized with a root token, and a caller for its HTTP app.
 */
import { createApp } from "../../../shared/app.ts";
import { type Broker, createBroker } from "../../../shared/broker.ts";
import type { KeyProvider } from "../../../shared/crypto/key-provider.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { ENGINES } from "../../../shared/registry.ts";
import type { Item, ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize, isInitialized } from "../../../shared/sys/init.ts";
import { allItems } from "../../support/store-items.ts";

export const ROOT_TOKEN = "kv-test-root";
export const MERGE_PATCH = { "Content-Type": "application/merge-patch+json" };

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON.
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

export interface KvHarness {
  broker: Broker;
  /** The raw store under the broker, for another broker over it; items go through broker.store. */
  store: ItemStore;
  /** The local root key, for another broker over the same store. */
  rootKey: Uint8Array;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** The uuid of the mount at `path` ("secret/"). */
  mountUuid(path?: string): Promise<string>;
  /** Every item in a partition as the broker reads it, following cursors. */
  items(pk: string): Promise<Item[]>;
  /** A token with these policies, written first from their HCL. */
  tokenWith(policies: Record<string, string>): Promise<string>;
  /** Moves the broker's clock. */
  advance(ms: number): void;
}

export async function kvHarness(
  options: { store?: ItemStore; rootKey?: Uint8Array; storage?: string; keyProvider?: KeyProvider } = {},
): Promise<KvHarness> {
  const store = options.store ?? openSqliteStore({ path: ":memory:" });
  const rootKey = options.rootKey ?? crypto.getRandomValues(new Uint8Array(32));
  let offset = 0;
  const now = () => Date.now() + offset;
  const broker = await createBroker({
    store,
    storage: options.storage ?? "sqlite",
    keyProvider: options.keyProvider ?? createLocalKeyProvider(rootKey),
    engines: ENGINES,
    auditWriters: [],
    now,
  });
  if (!(await isInitialized(broker))) await initialize(broker, { rootToken: ROOT_TOKEN });
  const app = createApp(broker, { logError: () => {} });

  async function call(method: string, path: string, call: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...call.headers };
    const token = call.token === undefined ? ROOT_TOKEN : call.token;
    if (token !== null) headers["X-Vault-Token"] = token;
    const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    if (body !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
    const response = await app.request(`/v1/${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  return {
    broker,
    store,
    rootKey,
    call,
    async mountUuid(path = "secret/") {
      const mount = (await broker.mounts.list()).find((candidate) => candidate.path === path);
      if (!mount) throw new Error(`no mount at ${path}`);
      return mount.uuid;
    },
    items: (pk) => allItems(broker.store, pk),
    async tokenWith(policies) {
      for (const [name, text] of Object.entries(policies)) await broker.policies.write(name, text);
      const created = await broker.tokens.create({
        policies: Object.keys(policies),
        displayName: "kv-test",
        path: "auth/token/create",
        ttl: 3600,
      });
      return created.token;
    },
    advance(ms) {
      offset += ms;
    },
  };
}

/** A real store that also counts the calls made to it, to hold the hot path to its promise. */
export function countingStore(store: ItemStore): { store: ItemStore; calls: string[] } {
  const calls: string[] = [];
  const counted: ItemStore = {
    get(key) {
      calls.push("get");
      return store.get(key);
    },
    batchGet(keys) {
      calls.push("batchGet");
      return store.batchGet(keys);
    },
    query(input) {
      calls.push("query");
      return store.query(input);
    },
    write(ops) {
      calls.push("write");
      return store.write(ops);
    },
    close: () => store.close(),
  };
  return { store: counted, calls };
}

/** Writes a version and returns its number. */
export async function put(kv: KvHarness, path: string, data: Record<string, unknown>, cas?: number) {
  const reply = await kv.call("POST", `secret/data/${path}`, {
    body: cas === undefined ? { data } : { data, options: { cas } },
  });
  if (reply.status !== 200) throw new Error(`write failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.data.version as number;
}
