/**
 * Removals larger than one atomic write: pruning far past max_versions, and the state an
 * interrupted request leaves (a tombstone, orphaned versions), finished by the next writer
 * or by the mount's periodic clean-up, without ever touching a secret created again at the
 * same path.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  cleanupKey,
  cleanupPk,
  metadataItem,
  metaKey,
  newMetadata,
  secretPk,
  versionKey,
} from "../../../shared/engines/kv/storage.ts";
import type { WriteOp } from "../../../shared/store/item-store.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { put } from "./put.ts";

let kv: Deployment;
let uuid: string;

/** The secret/ mount's periodic work, as the revoker runs it. */
async function sweepKv(deadline = Number.POSITIVE_INFINITY) {
  const mount = (await kv.broker.mounts.resolve("secret/x"))!.mount;
  return (await kv.broker.engineFor(mount)).periodic!(deadline);
}

beforeEach(async () => {
  kv = await openDeployment();
  uuid = await kv.mountUuid();
});

const sortKeys = async (path: string) => (await kv.items(secretPk(uuid, path))).map((item) => item.sk);

/** Version items as a request leaves them: never read, so any bytes do. */
async function putVersionItems(path: string, from: number, to: number) {
  for (let start = from; start <= to; start += 100) {
    const ops: WriteOp[] = [];
    for (let version = start; version <= Math.min(to, start + 99); version++) {
      ops.push({ op: "put", item: { ...versionKey(uuid, path, version), envelope: new Uint8Array(8) } });
    }
    await kv.broker.store.write(ops);
  }
}

/** What an interrupted delete of a large secret leaves: a tombstone, its marker, the items. */
async function interruptedDelete(path: string, versions: number) {
  await putVersionItems(path, 1, versions);
  await kv.broker.store.write([
    { op: "put", item: metadataItem(metaKey(uuid, path), { tombstone: true, revision: "t-1" }) },
    { op: "put", item: { ...cleanupKey(uuid, path), revision: "t-1" } },
  ]);
}

describe("pruning past one atomic write", () => {
  it("removes every pruned version in the same request", async () => {
    await kv.call("POST", "secret/metadata/wide", { max_versions: 300 });
    for (let i = 1; i <= 150; i++) await put(kv, "wide", { i });
    await kv.call("POST", "secret/metadata/wide", { max_versions: 1 });
    const reply = await kv.call("POST", "secret/data/wide", { data: { i: 151 } });
    expect(reply.status).toBe(200);
    expect(reply.body.warnings).toBeNull();
    expect(await sortKeys("wide")).toEqual(["v/0000000151", "~meta"]);
    expect(await kv.items(cleanupPk(uuid))).toEqual([]);
    expect((await kv.call("GET", "secret/metadata/wide")).body.data).toMatchObject({
      oldest_version: 151,
      current_version: 151,
    });
  });
});

describe("the periodic clean-up", () => {
  it("costs nothing on a quiet store", async () => {
    await put(kv, "quiet", { a: 1 });
    expect(await sweepKv()).toEqual({ done: 0, failed: 0, complete: true });
  });

  it("finishes an interrupted delete: every item goes, and the secret stays gone", async () => {
    await interruptedDelete("half", 250);
    expect((await kv.call("GET", "secret/data/half")).status).toBe(404);
    expect((await kv.call("GET", "secret/metadata/half")).status).toBe(404);
    expect(await sweepKv()).toEqual({ done: 1, failed: 0, complete: true });
    expect(await sortKeys("half")).toEqual([]);
    expect(await kv.items(cleanupPk(uuid))).toEqual([]);
  });

  it("finishes interrupted pruning, keeping the live versions", async () => {
    // A write that pruned versions 1-139 from the metadata but stopped before deleting them.
    await putVersionItems("pruned", 1, 140);
    const metadata = newMetadata(new Date().toISOString());
    metadata.revision = "r-1";
    metadata.current_version = 140;
    metadata.oldest_version = 140;
    metadata.versions["140"] = { created_time: metadata.created_time, deletion_time: "", destroyed: false };
    await kv.broker.store.write([
      { op: "put", item: metadataItem(metaKey(uuid, "pruned"), metadata) },
      { op: "put", item: { ...cleanupKey(uuid, "pruned"), revision: "r-1" } },
    ]);
    expect(await sweepKv()).toEqual({ done: 1, failed: 0, complete: true });
    expect(await sortKeys("pruned")).toEqual(["v/0000000140", "~meta"]);
    expect(await kv.items(cleanupPk(uuid))).toEqual([]);
    expect(await put(kv, "pruned", { next: 141 })).toBe(141);
    expect((await kv.call("GET", "secret/data/pruned")).body.data.data).toEqual({ next: 141 });
  });

  it("stops at its deadline and says so", async () => {
    await interruptedDelete("late", 3);
    expect(await sweepKv(kv.broker.now() - 1)).toEqual({
      done: 0,
      failed: 0,
      complete: false,
    });
    expect(await kv.items(cleanupPk(uuid))).toHaveLength(1);
  });
});

describe("a secret created again over an interrupted delete", () => {
  it("is written only after the old versions are gone, starting at version 1", async () => {
    await interruptedDelete("again", 120);
    expect(await put(kv, "again", { fresh: true })).toBe(1);
    expect(await sortKeys("again")).toEqual(["v/0000000001", "~meta"]);
    expect((await kv.call("GET", "secret/data/again")).body.data.data).toEqual({ fresh: true });
    expect((await kv.call("LIST", "secret/metadata/")).body.data.keys).toEqual(["again"]);
  });

  it("is never touched by a sweep racing the writer", async () => {
    await interruptedDelete("race", 300);
    const [version] = await Promise.all([put(kv, "race", { fresh: true }), sweepKv(), sweepKv()]);
    expect(version).toBe(1);
    await sweepKv();
    expect(await sortKeys("race")).toEqual(["v/0000000001", "~meta"]);
    expect((await kv.call("GET", "secret/data/race")).body.data.data).toEqual({ fresh: true });
  });
});
