/**
 * Brokers for identity tests, on real adapters: SQLite in memory and a local root key.
 * Two brokers over one store and one key behave as two processes (two Lambda instances)
 * of the same deployment. Audit records are kept for assertions.
 */
import type { Hono } from "hono";
import { createApp } from "../../../shared/app.ts";
import { type Broker, createBroker, type EngineType } from "../../../shared/broker.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { ENGINES } from "../../../shared/registry.ts";
import type { RejectedItem } from "../../../shared/store/authenticated-store.ts";
import type { ItemScanner, ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize } from "../../../shared/sys/init.ts";

export interface TestDeployment {
  /** The raw store under every process's broker, as someone with access to the table sees it. */
  store: ItemStore & ItemScanner;
  rootKey: Uint8Array;
  clock: { now: number };
  /** Another process of the same deployment: same store and key, its own caches. */
  process(): Promise<TestProcess>;
  close(): Promise<void>;
}

export interface TestProcess {
  broker: Broker;
  app: Hono;
  audit: Record<string, unknown>[];
  /** Items this process found that did not verify. */
  rejected: RejectedItem[];
  /** A Vault API call: JSON body in, status and JSON body out. */
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<{
    status: number;
    // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON.
    body: any;
  }>;
}

export interface DeploymentOptions {
  realClock?: boolean;
  /** An SQLite file instead of memory, to inspect what reaches the disk. */
  databasePath?: string;
  /** Engines besides the product's (a test engine). */
  engines?: Readonly<Record<string, EngineType>>;
}

export async function testDeployment(options: DeploymentOptions = {}): Promise<TestDeployment> {
  const store = openSqliteStore({ path: options.databasePath ?? ":memory:" });
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const clock = { now: Date.now() };
  const now = options.realClock ? Date.now : () => clock.now;

  async function process(): Promise<TestProcess> {
    const audit: Record<string, unknown>[] = [];
    const rejected: RejectedItem[] = [];
    const broker = await createBroker({
      store,
      storage: "sqlite",
      keyProvider: createLocalKeyProvider(rootKey),
      engines: { ...ENGINES, types: { ...ENGINES.types, ...options.engines } },
      auditWriters: [(line) => void audit.push(JSON.parse(line))],
      now,
      log: () => {},
      onRejectedItem: (item) => void rejected.push(item),
    });
    const app = createApp(broker, { logError: () => {} });
    return {
      broker,
      app,
      audit,
      rejected,
      async call(method, path, { token, body } = {}) {
        const response = await app.request(`/v1/${path}`, {
          method,
          headers: token ? { "X-Vault-Token": token } : {},
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text === "" ? {} : JSON.parse(text) };
      },
    };
  }

  return { store, rootKey, clock, process, close: () => store.close() };
}

/** An initialized deployment and its first process, with the root token. */
export async function initializedDeployment(options: DeploymentOptions = {}) {
  const deployment = await testDeployment(options);
  const first = await deployment.process();
  const { rootToken } = await initialize(first.broker);
  return { deployment, api: first, rootToken };
}
