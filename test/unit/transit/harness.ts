/**
 * A broker on real adapters (in-memory SQLite, the local key provider) with a transit
 * mount, driven through the HTTP app. Calls to the key provider and reads of the store are
 * counted at their boundaries: each is a KMS request or a DynamoDB round trip in
 * production.
 */
import { expect } from "vitest";
import { createApp } from "../../../shared/app.ts";
import { type Broker, createBroker } from "../../../shared/broker.ts";
import type { EncryptionContext, KeyProvider } from "../../../shared/crypto/key-provider.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { ENGINES } from "../../../shared/registry.ts";
import type { Item, ItemKey, ItemStore, QueryInput, WriteOp } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { initialize } from "../../../shared/sys/init.ts";
import { allItems } from "../../support/store-items.ts";

export interface Counters {
  unwrap: number;
  generate: number;
  reads: number;
  writes: number;
  /** What each read asked for: "pk sk" of a get, "pk prefix*" of a query. */
  readKeys: string[];
}

/** Policies that tell create from update on encrypt, in Vault's policy language. */
const POLICIES: Record<string, string> = {
  "transit-create": 'path "transit/encrypt/*" { capabilities = ["create"] }',
  "transit-update": 'path "transit/encrypt/*" { capabilities = ["update"] }',
};

function countingProvider(inner: KeyProvider, counters: Counters): KeyProvider {
  return {
    kind: inner.kind,
    generateDataKey(context: EncryptionContext) {
      counters.generate++;
      return inner.generateDataKey(context);
    },
    unwrap(wrapped: Uint8Array, context: EncryptionContext) {
      counters.unwrap++;
      return inner.unwrap(wrapped, context);
    },
  };
}

function countingStore(inner: ItemStore, counters: Counters): ItemStore {
  return {
    get(key: ItemKey) {
      counters.reads++;
      counters.readKeys.push(`${key.pk} ${key.sk}`);
      return inner.get(key);
    },
    batchGet(keys: readonly ItemKey[]) {
      counters.reads++;
      counters.readKeys.push(...keys.map((key) => `${key.pk} ${key.sk}`));
      return inner.batchGet(keys);
    },
    query(input: QueryInput) {
      counters.reads++;
      counters.readKeys.push(`${input.pk} ${input.prefix ?? ""}*`);
      return inner.query(input);
    },
    write(ops: readonly WriteOp[]) {
      counters.writes++;
      return inner.write(ops);
    },
    close: () => inner.close(),
  };
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected field by field
  body: any;
}

export interface Process {
  broker: Broker;
  counters: Counters;
  call(method: string, path: string, body?: unknown, token?: string): Promise<Reply>;
}

export interface Harness {
  store: ItemStore;
  rootKey: Uint8Array;
  rootToken: string;
  clock: { now: number };
  /** The first process; `process()` starts another on the same store and root key. */
  main: Process;
  process(): Promise<Process>;
  call: Process["call"];
  /** Every item of every transit mount, for proving what was (not) written. */
  dump(): Promise<Item[]>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const store = openSqliteStore({ path: ":memory:" });
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const clock = { now: Date.UTC(2030, 0, 1) };
  let rootToken = "";

  async function process(): Promise<Process> {
    const counters: Counters = { unwrap: 0, generate: 0, reads: 0, writes: 0, readKeys: [] };
    const broker = await createBroker({
      store: countingStore(store, counters),
      storage: "sqlite",
      keyProvider: countingProvider(createLocalKeyProvider(rootKey), counters),
      engines: ENGINES,
      auditWriters: [],
      now: () => clock.now,
    });
    const app = createApp(broker, { logError: () => {} });
    return {
      broker,
      counters,
      async call(method, path, body, token = rootToken) {
        const headers: Record<string, string> = { "X-Vault-Token": token };
        let payload: string | undefined;
        if (body !== undefined) {
          headers["Content-Type"] = "application/json";
          payload = typeof body === "string" ? body : JSON.stringify(body);
        }
        const response = await app.request(`/v1/${path}`, { method, headers, body: payload });
        const text = await response.text();
        return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
      },
    };
  }

  const main = await process();
  rootToken = (await initialize(main.broker)).rootToken;
  await main.broker.mounts.enable({ path: "transit/", type: "transit" });
  for (const [name, text] of Object.entries(POLICIES)) await main.broker.policies.write(name, text);

  return {
    store,
    rootKey,
    get rootToken() {
      return rootToken;
    },
    clock,
    main,
    process,
    call: main.call,
    async dump() {
      const items: Item[] = [];
      for (const mount of await main.broker.mounts.list()) {
        items.push(...(await allItems(store, `transit/${mount.uuid}`)));
      }
      return items;
    },
    close: () => store.close(),
  };
}

/** A token of the broker holding `policies`. */
export async function tokenWith(broker: Broker, policies: string[]): Promise<string> {
  const { token } = await broker.tokens.create({
    policies,
    displayName: "test",
    path: "auth/token/create",
    ttl: 3600,
  });
  return token;
}

export const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
export const unb64 = (text: string) => Buffer.from(text, "base64").toString("utf8");

/** Expects a 200 and returns the answer's data. */
// biome-ignore lint/suspicious/noExplicitAny: answers are inspected field by field
export async function dataOf(h: Harness, method: string, path: string, body?: unknown): Promise<any> {
  const reply = await h.call(method, path, body);
  expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(200);
  return reply.body.data;
}

/** Expects `status` (400 unless told) with exactly the error `message`, and no transit item changed. */
export async function expectRefusal(
  h: Harness,
  method: string,
  path: string,
  body: unknown,
  message: string | RegExp,
  status = 400,
): Promise<void> {
  const before = await h.dump();
  const reply = await h.call(method, path, body);
  expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(status);
  if (typeof message === "string") expect(reply.body.errors).toEqual([message]);
  else expect(reply.body.errors.join(" ")).toMatch(message);
  expect(await h.dump()).toEqual(before);
}
