import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open, seal } from "../../../shared/crypto/envelope.ts";
import type { KeyProvider } from "../../../shared/crypto/key-provider.ts";
import { NEWEST_VERSION_TTL_MS, openKeyring } from "../../../shared/crypto/keyring.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { CofferError, isCofferError } from "../../../shared/errors.ts";
import type { ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { countingKeyProvider, newCounters } from "../../support/cost-counters.ts";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const binding = { mount: "secret", path: "app/db", version: "1", purpose: "kv" };

let store: ItemStore;
let root: KeyProvider;

beforeEach(() => {
  store = openSqliteStore({ path: ":memory:" });
  root = createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32)));
});
afterEach(async () => {
  await store.close();
});

/**
 * A fresh process: same store and root key, empty caches, its own count of provider calls
 * (each one a KMS request in production).
 */
async function coldStart(options?: { now?: () => number }) {
  const calls = newCounters();
  const keyring = await openKeyring(store, countingKeyProvider(root, calls), options);
  return { keyring, calls };
}

describe("keyring", () => {
  it("creates version 1 on first use and stores only what the provider authenticates", async () => {
    const { keyring, calls } = await coldStart();
    const { version, key } = await keyring.current();
    expect(version).toBe(1);
    expect(key.algorithm.name).toBe("HKDF");
    expect(key.extractable).toBe(false);
    expect(calls).toMatchObject({ generate: 1, unwrap: 0 });

    const item = await store.get({ pk: "keyring", sk: "v0000000001" });
    expect(item).toMatchObject({ version: 1 });
    expect(item?.wrapped).toBeInstanceOf(Uint8Array);
    // The wrapped key opens only under its version's encryption context, and the version
    // must match the sort key: no field is left that a writer without the root key could
    // change unnoticed.
    expect(Object.keys(item ?? {}).sort()).toEqual(["pk", "sk", "version", "wrapped"]);
  });

  it("opens without touching the provider or the store", async () => {
    const { calls } = await coldStart();
    expect(calls).toMatchObject({ generate: 0, unwrap: 0 });
    expect(await store.query({ pk: "keyring" })).toEqual({ items: [] });
  });

  it("lets two processes racing to create version 1 end up with one shared key", async () => {
    const [a, b] = await Promise.all([coldStart(), coldStart()]);
    const [fromA, fromB] = await Promise.all([a.keyring.current(), b.keyring.current()]);
    expect(fromA.version).toBe(1);
    expect(fromB.version).toBe(1);
    expect(await a.keyring.versions()).toHaveLength(1);
    const sealed = await seal(a.keyring, utf8.encode("shared"), binding);
    expect(text(await open(b.keyring, sealed, binding))).toBe("shared");
  });

  it("costs one provider call per version in use at cold start, and none when warm", async () => {
    const writer = await coldStart();
    const v1 = await seal(writer.keyring, utf8.encode("one"), binding);
    await writer.keyring.rotate();
    const v2 = await seal(writer.keyring, utf8.encode("two"), binding);
    await writer.keyring.rotate();
    expect(writer.calls).toMatchObject({ generate: 3, unwrap: 0 });

    const reader = await coldStart();
    // Concurrent first uses share one unwrap.
    await Promise.all(Array.from({ length: 5 }, () => open(reader.keyring, v1, binding)));
    expect(reader.calls).toMatchObject({ generate: 0, unwrap: 1 });
    for (let i = 0; i < 20; i++) await open(reader.keyring, v1, binding);
    expect(reader.calls.unwrap).toBe(1);
    await open(reader.keyring, v2, binding);
    await open(reader.keyring, v2, binding);
    // Version 3 exists but nobody here used it: never unwrapped.
    expect(reader.calls).toMatchObject({ generate: 0, unwrap: 2 });
  });

  it("costs one unwrap for a cold writer, shared with readers of the same version", async () => {
    const first = await coldStart();
    await first.keyring.current();
    await first.keyring.rotate();

    const writer = await coldStart();
    const sealed = await seal(writer.keyring, utf8.encode("x"), binding);
    await open(writer.keyring, sealed, binding);
    await writer.keyring.current();
    expect(writer.calls).toMatchObject({ generate: 0, unwrap: 1 });
  });

  it("rotates: new seals use the new version and old ones still open", async () => {
    const { keyring } = await coldStart();
    const old = await seal(keyring, utf8.encode("old"), binding);
    expect(await keyring.rotate()).toBe(2);
    expect((await keyring.current()).version).toBe(2);
    const fresh = await seal(keyring, utf8.encode("new"), binding);
    expect(new DataView(fresh.buffer, fresh.byteOffset).getUint32(1)).toBe(2);
    expect(text(await open(keyring, old, binding))).toBe("old");
    expect(text(await open(keyring, fresh, binding))).toBe("new");

    expect(await keyring.versions()).toEqual([1, 2]);
  });

  it("rotates an empty keyring to version 1", async () => {
    const { keyring } = await coldStart();
    expect(await keyring.rotate()).toBe(1);
    expect((await keyring.current()).version).toBe(1);
  });

  it("adds one version when two processes rotate at once", async () => {
    const a = await coldStart();
    await a.keyring.current();
    const b = await coldStart();
    const results = await Promise.all([a.keyring.rotate(), b.keyring.rotate()]);
    expect(results).toEqual([2, 2]);
    expect(await a.keyring.versions()).toEqual([1, 2]);
  });

  it("keeps its newest version at most 60 s after another process rotates", async () => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const now = () => clock;
    const a = await coldStart({ now });
    expect((await a.keyring.current()).version).toBe(1);

    const b = await coldStart();
    await b.keyring.rotate();
    const sealedByB = await seal(b.keyring, utf8.encode("from b"), binding);

    clock += NEWEST_VERSION_TTL_MS - 1;
    expect((await a.keyring.current()).version).toBe(1);
    // Reading the newer version does not wait for the bound.
    expect(text(await open(a.keyring, sealedByB, binding))).toBe("from b");
    clock += 1;
    expect((await a.keyring.current()).version).toBe(2);
    expect(NEWEST_VERSION_TTL_MS).toBe(60_000);
  });

  it.each([0, -1, 1.5, 3, 2 ** 32, Number.NaN])("refuses unknown version %s", async (version) => {
    const { keyring } = await coldStart();
    await keyring.rotate();
    await keyring.rotate();
    const error = await keyring.get(version).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CofferError);
    expect(error).toMatchObject({ code: "ERR_DECRYPT_FAILED", message: "unknown keyring version" });
  });

  it("refuses a wrapped key moved onto another version's item", async () => {
    const { keyring } = await coldStart();
    await keyring.rotate();
    await keyring.rotate();
    const one = await store.get({ pk: "keyring", sk: "v0000000001" });
    const two = await store.get({ pk: "keyring", sk: "v0000000002" });
    await store.write([{ op: "put", item: { ...two!, wrapped: one!.wrapped! } }]);

    const reader = await coldStart();
    await expect(reader.keyring.get(2)).rejects.toMatchObject({ code: "ERR_DECRYPT_FAILED" });
  });

  it("seals nothing under a newest version written without the root key", async () => {
    const { keyring } = await coldStart();
    await keyring.current();
    const one = await store.get({ pk: "keyring", sk: "v0000000001" });
    await store.write([{ op: "put", item: { ...one!, sk: "v0000000002", version: 2 } }]);

    const writer = await coldStart();
    await expect(seal(writer.keyring, utf8.encode("x"), binding)).rejects.toMatchObject({
      code: "ERR_DECRYPT_FAILED",
    });
  });

  it("retries an unwrap that failed instead of caching the failure", async () => {
    await (await coldStart()).keyring.current();
    let failNext = true;
    const flaky: KeyProvider = {
      kind: root.kind,
      generateDataKey: (context) => root.generateDataKey(context),
      unwrap(wrapped, context) {
        if (failNext) {
          failNext = false;
          return Promise.reject(
            new CofferError("ERR_UPSTREAM_UNAVAILABLE", "KMS is unavailable (Throttling)"),
          );
        }
        return root.unwrap(wrapped, context);
      },
    };
    const keyring = await openKeyring(store, flaky);
    const error = await keyring.get(1).catch((caught: unknown) => caught);
    expect(isCofferError(error, "ERR_UPSTREAM_UNAVAILABLE")).toBe(true);
    await expect(keyring.get(1)).resolves.toBeDefined();
  });

  it("cannot be opened under another root key", async () => {
    const { keyring } = await coldStart();
    const sealed = await seal(keyring, utf8.encode("secret"), binding);
    const stranger = await openKeyring(
      store,
      createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32))),
    );
    await expect(open(stranger, sealed, binding)).rejects.toMatchObject({ code: "ERR_DECRYPT_FAILED" });
  });
});
