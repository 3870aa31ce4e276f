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
  it("is lowercase hex of HMAC-SHA256 under the HKDF-derived key", async () => {
    const keyring = await openKeyring(store, provider);
    const key = await deriveHmacKey(keyring, "token");
    const hash = hmacHex(key, "hvs.example");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    // The same HMAC computed independently through Web Crypto.
    const reference = await crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(0),
        info: new TextEncoder().encode("coffer/hmac/token"),
      },
      await keyring.get(1),
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign"],
    );
    const expected = new Uint8Array(
      await crypto.subtle.sign("HMAC", reference, new TextEncoder().encode("hvs.example")),
    );
    expect(hash).toBe(Array.from(expected, (b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("works on a brand-new keyring by creating version 1", async () => {
    const keyring = await openKeyring(store, provider);
    await deriveHmacKey(keyring, "token");
    expect(await keyring.versions()).toEqual([1]);
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
