import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deriveHmacKey, hmacHex } from "../../../shared/crypto/hmac.ts";
import type { KeyProvider } from "../../../shared/crypto/key-provider.ts";
import { openKeyring } from "../../../shared/crypto/keyring.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import type { ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";

let store: ItemStore;
let provider: KeyProvider;

beforeEach(() => {
  store = openSqliteStore({ path: ":memory:" });
  provider = createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32)));
});
afterEach(async () => {
  await store.close();
});

describe("hmac", () => {
  it("is lowercase hex of HMAC-SHA256", async () => {
    const key = await deriveHmacKey(await openKeyring(store, provider), "token");
    expect(await hmacHex(key, "hvs.example")).toMatch(/^[0-9a-f]{64}$/);
    expect(key.extractable).toBe(false);
    expect(key.usages.sort()).toEqual(["sign", "verify"]);
  });

  it("works on a brand-new keyring by creating version 1", async () => {
    const keyring = await openKeyring(store, provider);
    await deriveHmacKey(keyring, "token");
    expect((await keyring.versions()).map((v) => v.version)).toEqual([1]);
  });

  it("stays the same across rotation and across processes", async () => {
    const keyring = await openKeyring(store, provider);
    const before = await hmacHex(await deriveHmacKey(keyring, "token"), "hvs.example");
    await keyring.rotate();
    await keyring.rotate();
    expect(await hmacHex(await deriveHmacKey(keyring, "token"), "hvs.example")).toBe(before);
    const otherProcess = await openKeyring(store, provider);
    expect(await hmacHex(await deriveHmacKey(otherProcess, "token"), "hvs.example")).toBe(before);
  });

  it("gives unrelated hashes per label and per value", async () => {
    const keyring = await openKeyring(store, provider);
    const token = await deriveHmacKey(keyring, "token");
    const audit = await deriveHmacKey(keyring, "audit");
    expect(await hmacHex(token, "v")).not.toBe(await hmacHex(audit, "v"));
    expect(await hmacHex(token, "v")).not.toBe(await hmacHex(token, "w"));
  });

  it("differs between deployments (another keyring)", async () => {
    const a = await deriveHmacKey(await openKeyring(store, provider), "token");
    const otherStore = openSqliteStore({ path: ":memory:" });
    try {
      const b = await deriveHmacKey(await openKeyring(otherStore, provider), "token");
      expect(await hmacHex(a, "v")).not.toBe(await hmacHex(b, "v"));
    } finally {
      await otherStore.close();
    }
  });
});
