/**
 * One deployment of Coffer for tests, composed as the edges compose it, on real adapters:
 * a store (SQLite in memory unless one is given), a root key and the key provider over it,
 * the product's engines plus any a test adds, and a clock the test moves. The deployment
 * is initialized (a root token) unless told otherwise.
 *
 * Each process is a broker over that store and key with caches of its own, as each Lambda
 * instance is; the deployment itself is the first. A process keeps what it would send
 * elsewhere for the test to read: its audit records, its background log, the items that
 * failed to verify.
 */
import type { Hono } from "hono";
import { createApp } from "../../shared/app.ts";
import { type Broker, createBroker, type EngineType } from "../../shared/broker.ts";
import type { KeyProvider } from "../../shared/crypto/key-provider.ts";
import { createLocalKeyProvider } from "../../shared/crypto/local.ts";
import type { LogLevel } from "../../shared/log.ts";
import { ENGINES } from "../../shared/registry.ts";
import type { RejectedItem } from "../../shared/store/authenticated-store.ts";
import type { Item, ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { initialize } from "../../shared/sys/init.ts";
import { type ApiCall, apiCaller } from "./http.ts";
import { allItems } from "./store-items.ts";
import { runningClock, type TestClock } from "./test-clock.ts";

// biome-ignore lint/suspicious/noExplicitAny: audit records are checked field by field.
export type AuditRecord = any;

export interface LogEvent {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export interface DeploymentOptions {
  /** The table, as the adapter sees it; default SQLite in memory. */
  store?: ItemStore;
  /** The store's name for sys/health and the audit log; default "sqlite". */
  storage?: string;
  /** Default a random key. Deployments over one store must share it: the keyring lives in the store. */
  rootKey?: Uint8Array;
  /** Default a local key provider over rootKey (KMS on moto for the AWS composition). */
  keyProvider?: KeyProvider;
  /** Default real time plus what the test adds. */
  clock?: TestClock;
  /** Engines besides the product's (test engines), by type name. */
  engines?: Readonly<Record<string, EngineType>>;
  /** false leaves the store as it is: initialized elsewhere, or the subject of the test. */
  initialize?: boolean;
  auditHashNonStrings?: boolean;
}

export interface ProcessOptions {
  /** This process's view of the table: another connection, a counting or failing wrapper. */
  store?: ItemStore;
  keyProvider?: KeyProvider;
}

export interface Process {
  broker: Broker;
  app: Hono;
  /** The app, called with the root token unless another is given. */
  call: ApiCall;
  /** Every audit record written, parsed. */
  audit: AuditRecord[];
  /** While true, every audit write throws, as a full or unreachable audit device does. */
  auditFails: boolean;
  /** Sees each audit record as it is written, before the write returns. */
  onAudit?: (record: AuditRecord) => void;
  /** What background work (sweeps, revocations, periodic work) logged. */
  logs: LogEvent[];
  /** Items this process read that did not verify. */
  rejected: RejectedItem[];
}

export interface Deployment extends Process {
  /** The raw store under every process, as someone with access to the table sees it. */
  store: ItemStore;
  rootKey: Uint8Array;
  keyProvider: KeyProvider;
  clock: TestClock;
  /** Empty when the deployment was not initialized here. */
  rootToken: string;
  /** Another process of this deployment: same table and key, caches of its own. */
  process(options?: ProcessOptions): Promise<Process>;
  /** The uuid of the mount at `path` ("secret/"). */
  mountUuid(path?: string): Promise<string>;
  /** Every item of a partition as the broker reads it (verified), following cursors. */
  items(pk: string): Promise<Item[]>;
  /** A token holding these policies, each written first from its text. */
  tokenWith(policies: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export async function openDeployment(options: DeploymentOptions = {}): Promise<Deployment> {
  const store = options.store ?? openSqliteStore({ path: ":memory:" });
  const rootKey = options.rootKey ?? crypto.getRandomValues(new Uint8Array(32));
  const keyProvider = options.keyProvider ?? createLocalKeyProvider(rootKey);
  const clock = options.clock ?? runningClock();
  const engines = { ...ENGINES, types: { ...ENGINES.types, ...options.engines } };
  let rootToken = "";

  async function process(processOptions: ProcessOptions = {}): Promise<Process> {
    const broker = await createBroker({
      store: processOptions.store ?? store,
      storage: options.storage ?? "sqlite",
      keyProvider: processOptions.keyProvider ?? keyProvider,
      engines,
      auditWriters: [
        (line) => {
          if (opened.auditFails) throw new Error("audit device unavailable");
          const record = JSON.parse(line);
          opened.onAudit?.(record);
          opened.audit.push(record);
        },
      ],
      auditHashNonStrings: options.auditHashNonStrings,
      now: clock.now,
      log: (level, msg, fields) => void opened.logs.push({ level, msg, ...fields }),
      onRejectedItem: (item) => void opened.rejected.push(item),
    });
    const app = createApp(broker, { logError: () => {} });
    const opened: Process = {
      broker,
      app,
      // The root token is known once the first process has initialized the store.
      call: (method, path, body, token) => apiCaller(app, rootToken)(method, path, body, token),
      audit: [],
      auditFails: false,
      logs: [],
      rejected: [],
    };
    return opened;
  }

  const first = await process();
  if (options.initialize !== false) {
    rootToken = (await initialize(first.broker)).rootToken;
  }
  return Object.assign(first, {
    store,
    rootKey,
    keyProvider,
    clock,
    rootToken,
    process,
    async mountUuid(path = "secret/") {
      const mount = (await first.broker.mounts.list()).find((candidate) => candidate.path === path);
      if (!mount) throw new Error(`no mount at ${path}`);
      return mount.uuid;
    },
    items: (pk: string) => allItems(first.broker.store, pk),
    async tokenWith(policies: Record<string, string>) {
      for (const [name, text] of Object.entries(policies)) await first.broker.policies.write(name, text);
      const created = await first.broker.tokens.create({
        policies: Object.keys(policies),
        displayName: "test",
        path: "auth/token/create",
        ttl: 3600,
      });
      return created.token;
    },
    close: () => store.close(),
  });
}
