/**
 * KV v2 under contention, on every store: dozens of writers, each its own broker (as many
 * Lambda instances would be) over one store, race to write one path with check-and-set.
 * Exactly one wins each version, no version is lost or duplicated, and readers racing them never
 * see a version without its data. Destroying and deleting more versions than one
 * transaction holds works on both. SQLite runs on a real file; DynamoDB on moto.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysPk, secretPk } from "../../shared/engines/kv/storage.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { openDeployment, type Process } from "../support/deployment.ts";
import type { Reply } from "../support/http.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";

/**
 * Writers racing on one path. Each version costs every writer still racing a lost attempt
 * and a re-read, so the requests grow with the square of the writers; moto serves them
 * one at a time (see below), at a few milliseconds each: 50 writers took a minute there,
 * against two seconds on SQLite, which keeps all 50.
 */
const WRITERS = { sqlite: 50, dynamodb: 20 } as const;
const PATH = "race/target";

const CAS_MISMATCH = "check-and-set parameter did not match the current version";

/** Writes once with cas, re-reading the current version after every lost race; returns the version won. */
async function casWriter(
  kv: Process,
  id: number,
  writers: number,
): Promise<{ version: number; attempts: number }> {
  let current = 0;
  for (let attempts = 1; attempts <= 10 * writers; attempts++) {
    const reply = await kv.call("POST", `secret/data/${PATH}`, {
      data: { writer: id },
      options: { cas: current },
    });
    if (reply.status === 200) return { version: reply.body.data.version, attempts };
    // A lost race (400) or a store that asked to retry (503): learn the current version again.
    if (!(reply.status === 400 && reply.body.errors[0] === CAS_MISMATCH) && reply.status !== 503) {
      throw new Error(`writer ${id}: unexpected ${reply.status} ${JSON.stringify(reply.body)}`);
    }
    // Back off as a well-behaved client does, so each round has fewer contenders.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(400, 10 * 2 ** attempts)));
    const metadata = await kv.call("GET", `secret/metadata/${PATH}`);
    current = metadata.status === 404 ? 0 : metadata.body.data.current_version;
  }
  throw new Error(`writer ${id} never won a version`);
}

/** Reads the latest version until told to stop; every answer must be whole. */
async function reader(kv: Process, done: () => boolean): Promise<number> {
  let reads = 0;
  while (!done()) {
    // Paced, so readers load the store less than the writers they watch (and a read that
    // finds nothing, never leaving the microtask queue, cannot starve them).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reply: Reply = await kv.call("GET", `secret/data/${PATH}`);
    reads += 1;
    if (reply.status === 404 && reply.body.errors) continue;
    expect(reply.status).toBe(200);
    expect(reply.body.data.data).toEqual({ writer: expect.any(Number) });
    expect(reply.body.data.metadata.version).toBeGreaterThanOrEqual(1);
  }
  return reads;
}

/** `database` makes a new, empty database and returns how to open a store over it. */
type Database = () => Promise<() => Promise<ItemStore>>;

function concurrencyContract(database: Database, storage: keyof typeof WRITERS) {
  const writers = WRITERS[storage];
  it(`${writers} cas writers on one path: one winner per version, none lost or duplicated`, async () => {
    const openStore = await database();
    const first = await openDeployment({ store: await openStore(), storage });
    await first.call("POST", "secret/config", { max_versions: 2 * writers });
    const brokers: Process[] = [first];
    for (let i = 1; i < writers; i++) brokers.push(await first.process({ store: await openStore() }));

    let finished = false;
    const readers = Promise.all([0, 1, 2].map((i) => reader(brokers[i * 7]!, () => finished)));
    const results = await Promise.all(brokers.map((kv, id) => casWriter(kv, id, writers)));
    finished = true;
    expect((await readers).every((reads) => reads > 0)).toBe(true);

    const won = results.map((result) => result.version).sort((a, b) => a - b);
    expect(won).toEqual(Array.from({ length: writers }, (_, i) => i + 1));
    expect(results.some((result) => result.attempts > 1)).toBe(true);

    const metadata = (await first.call("GET", `secret/metadata/${PATH}`)).body.data;
    expect(metadata.current_version).toBe(writers);
    expect(Object.keys(metadata.versions)).toHaveLength(writers);
    // Each version holds the data of the writer that was told it won it.
    for (const [id, result] of results.entries()) {
      const read = await first.call("GET", `secret/data/${PATH}?version=${result.version}`);
      expect(read.body.data.data).toEqual({ writer: id });
    }
  }, 480_000);

  it("destroys and deletes more versions than one atomic write holds, leaving no ciphertext", async () => {
    const kv = await openDeployment({ store: await (await database())(), storage });
    const uuid = await kv.mountUuid();
    const path = "wide/secret";
    const sortKeys = async () => (await kv.items(secretPk(uuid, path))).map((item) => item.sk);
    await kv.call("POST", `secret/metadata/${path}`, { max_versions: 200 });
    for (let i = 1; i <= 110; i++) {
      expect((await kv.call("POST", `secret/data/${path}`, { data: { i } })).status).toBe(200);
    }
    const doomed = Array.from({ length: 105 }, (_, i) => i + 1);
    expect((await kv.call("POST", `secret/destroy/${path}`, { versions: doomed })).status).toBe(204);
    expect(await sortKeys()).toHaveLength(6);
    const destroyed = await kv.call("GET", `secret/data/${path}?version=105`);
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata.destroyed).toBe(true);
    expect((await kv.call("GET", `secret/data/${path}?version=106`)).body.data.data).toEqual({ i: 106 });

    expect((await kv.call("DELETE", `secret/metadata/${path}`)).status).toBe(204);
    expect(await sortKeys()).toEqual([]);
    expect(await kv.items(keysPk(uuid))).not.toContainEqual(expect.objectContaining({ sk: path }));
    expect((await kv.call("POST", `secret/data/${path}`, { data: { again: true } })).body.data.version).toBe(
      1,
    );
  }, 120_000);
}

describe("KV v2 concurrency on SQLite (a real file)", () => {
  let dir: string;
  const stores: ItemStore[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "coffer-kv-race-"));
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  concurrencyContract(async () => {
    const path = join(dir, `${crypto.randomUUID()}.db`);
    return async () => {
      const store = openSqliteStore({ path });
      stores.push(store);
      return store;
    };
  }, "sqlite");
});

const describeAws = motoAvailable() ? describe : describe.skip;

describeAws("KV v2 concurrency on DynamoDB (moto)", () => {
  const moto = useMoto();

  // moto applies a transaction without a lock and, when one fails, puts back a copy of the
  // table taken when it began, undoing what concurrent requests wrote meanwhile. DynamoDB
  // isolates transactions (serializably); sending moto one request at a time gives it that
  // isolation, so the test holds Coffer to the guarantee DynamoDB makes, not to moto's races.
  let wire: Promise<unknown> = Promise.resolve();
  const client = () => {
    const dynamo = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: moto.credentials,
      maxAttempts: 3,
    });
    dynamo.middlewareStack.add(
      (next) => (args) => {
        const turn = wire.then(() => next(args));
        wire = turn.catch(() => {});
        return turn;
      },
      { step: "deserialize", name: "motoOneRequestAtATime" },
    );
    return dynamo;
  };

  concurrencyContract(async () => {
    const tableName = `coffer-kv-${crypto.randomUUID()}`;
    await createTable(client(), tableName);
    return async () => createDynamoDbStore({ client: client(), tableName });
  }, "dynamodb");
});
