import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Binding, ENVELOPE_OVERHEAD_BYTES, open, seal } from "../../../shared/crypto/envelope.ts";
import type { KeyProvider } from "../../../shared/crypto/key-provider.ts";
import { type Keyring, openKeyring } from "../../../shared/crypto/keyring.ts";
import { createLocalKeyProvider } from "../../../shared/crypto/local.ts";
import { nodeSymmetricCrypto } from "../../../shared/crypto/symmetric.node.ts";
import { webSymmetricCrypto } from "../../../shared/crypto/symmetric.ts";
import { CofferError } from "../../../shared/errors.ts";
import type { ItemStore } from "../../../shared/store/item-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";

const utf8 = new TextEncoder();
const SECRET = "correct horse battery staple";
const binding = { mount: "secret", path: "app/db", version: "3", purpose: "kv" };

let store: ItemStore;
let provider: KeyProvider;
let keyring: Keyring;

// Every implementation of the symmetric cryptography passes the same envelope tests.
describe.each([webSymmetricCrypto, nodeSymmetricCrypto])("envelope on $kind", (symmetric) => {
  beforeEach(async () => {
    store = openSqliteStore({ path: ":memory:" });
    provider = createLocalKeyProvider(crypto.getRandomValues(new Uint8Array(32)), { symmetric });
    keyring = await openKeyring(store, provider);
  });
  afterEach(async () => {
    await store.close();
  });

  /** Opening must fail with ERR_DECRYPT_FAILED, and nothing about the error may carry the secret. */
  async function expectRefused(
    envelope: Uint8Array,
    with_: Binding = binding,
    ring = keyring,
  ): Promise<CofferError> {
    const outcome = await open(ring, envelope, with_).then(
      (plaintext) => expect.fail(`open returned ${plaintext.length} bytes for an envelope it must refuse`),
      (caught: unknown) => caught,
    );
    expect(outcome).toBeInstanceOf(CofferError);
    const error = outcome as CofferError;
    expect(error.code).toBe("ERR_DECRYPT_FAILED");
    expect(`${error.message} ${error.details.join(" ")} ${String(error.cause)}`).not.toContain(SECRET);
    return error;
  }

  describe("seals and opens", () => {
    it("round-trips and adds exactly the documented overhead", async () => {
      for (const plaintext of [
        new Uint8Array(0),
        utf8.encode(SECRET),
        crypto.getRandomValues(new Uint8Array(65536)),
      ]) {
        const sealed = await seal(keyring, plaintext, binding);
        expect(sealed.length).toBe(plaintext.length + ENVELOPE_OVERHEAD_BYTES);
        expect(Buffer.from(await open(keyring, sealed, binding)).equals(Buffer.from(plaintext))).toBe(true);
      }
      expect(ENVELOPE_OVERHEAD_BYTES).toBe(1 + 4 + 16 + 12 + 16);
    });

    it("writes a self-describing header and never the plaintext", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      expect(sealed[0]).toBe(0x01);
      expect(Array.from(sealed.subarray(1, 5))).toEqual([0, 0, 0, 1]);
      expect(Buffer.from(sealed).includes(Buffer.from(SECRET))).toBe(false);
    });

    it("never produces the same envelope twice", async () => {
      const a = await seal(keyring, utf8.encode(SECRET), binding);
      const b = await seal(keyring, utf8.encode(SECRET), binding);
      expect(Buffer.from(a.subarray(5, 33)).equals(Buffer.from(b.subarray(5, 33)))).toBe(false);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    });

    it("does not care about the order of the binding's keys", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      const reordered = { purpose: "kv", version: "3", path: "app/db", mount: "secret" };
      expect(new TextDecoder().decode(await open(keyring, sealed, reordered))).toBe(SECRET);
    });

    it("refuses an envelope with any single bit flipped", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      for (let position = 0; position < sealed.length; position++) {
        for (let bit = 0; bit < 8; bit++) {
          const damaged = new Uint8Array(sealed);
          damaged[position]! ^= 1 << bit;
          await expectRefused(damaged);
        }
      }
    });

    it("refuses every truncation, and an appended byte", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      for (let length = 0; length < sealed.length; length++) {
        const error = await expectRefused(sealed.subarray(0, length));
        if (length < ENVELOPE_OVERHEAD_BYTES) expect(error.message).toMatch(/truncated/);
      }
      const extended = new Uint8Array(sealed.length + 1);
      extended.set(sealed);
      await expectRefused(extended);
    });

    it.each([
      ["another path", { ...binding, path: "app/other" }],
      ["another secret version", { ...binding, version: "4" }],
      ["another mount", { ...binding, mount: "kv2" }],
      ["another purpose", { ...binding, purpose: "transit" }],
      ["an extra field", { ...binding, extra: "" }],
      ["a missing field", { mount: "secret", path: "app/db", version: "3" }],
    ])("refuses a ciphertext moved to %s", async (_label, moved) => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      await expectRefused(sealed, moved);
    });

    it("tells {a: 'bc'} from {ab: 'c'}", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), { a: "bc" });
      await expectRefused(sealed, { ab: "c" });
    });

    it("refuses an unknown format byte", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      sealed[0] = 0x02;
      expect((await expectRefused(sealed)).message).toMatch(/unknown envelope format/);
    });

    it("refuses an unknown keyring version and a relabelled known one", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      await keyring.rotate();
      const view = new DataView(sealed.buffer, sealed.byteOffset);

      view.setUint32(1, 7);
      expect((await expectRefused(sealed)).message).toBe("unknown keyring version");
      view.setUint32(1, 0);
      await expectRefused(sealed);
      // Version 2 exists: the envelope then meets the wrong key, and its header is authenticated too.
      view.setUint32(1, 2);
      await expectRefused(sealed);
    });

    it("passes a provider outage through instead of calling it tampering", async () => {
      const sealed = await seal(keyring, utf8.encode(SECRET), binding);
      const down: KeyProvider = {
        kind: "down",
        symmetric,
        generateDataKey: () =>
          Promise.reject(new CofferError("ERR_UPSTREAM_UNAVAILABLE", "KMS is unavailable")),
        unwrap: () => Promise.reject(new CofferError("ERR_UPSTREAM_UNAVAILABLE", "KMS is unavailable")),
      };
      const cold = await openKeyring(store, down);
      await expect(open(cold, sealed, binding)).rejects.toMatchObject({ code: "ERR_UPSTREAM_UNAVAILABLE" });
    });
  });
});
