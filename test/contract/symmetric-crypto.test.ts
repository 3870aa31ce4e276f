/**
 * One contract for every implementation of the symmetric cryptography (Web Crypto for
 * every runtime, node:crypto for the Node edges): HKDF-SHA256 into AES-256-GCM that
 * refuses anything it did not seal, HMAC-SHA256 against RFC 4231's vectors, and each
 * implementation opening what the other sealed, so a deployment can move between them
 * without a migration. The envelope format on top is tested on both in
 * test/unit/crypto/envelope.test.ts.
 */
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/crypto/encoding.ts";
import { nodeSymmetricCrypto } from "../../shared/crypto/symmetric.node.ts";
import {
  DECRYPTION_KEY_CACHE_ENTRIES,
  type GcmInput,
  type ObjectKeyInput,
  type SymmetricCrypto,
  webSymmetricCrypto,
} from "../../shared/crypto/symmetric.ts";

const IMPLEMENTATIONS: SymmetricCrypto[] = [webSymmetricCrypto, nodeSymmetricCrypto];
const utf8 = new TextEncoder();
const random = (bytes: number) => crypto.getRandomValues(new Uint8Array(bytes));

const baseKey = (raw: Uint8Array = random(32)) =>
  crypto.subtle.importKey("raw", new Uint8Array(raw), "HKDF", false, ["deriveKey", "deriveBits"]);

async function objectKey(): Promise<ObjectKeyInput> {
  return { baseKey: await baseKey(), salt: random(16), info: utf8.encode("coffer/object/v1") };
}

const gcmInput = (): GcmInput => ({ nonce: random(12), additionalData: utf8.encode("header|binding") });

async function refused(attempt: Promise<Uint8Array>): Promise<void> {
  const outcome = await attempt.then(
    (plaintext) => `opened ${plaintext.length} bytes`,
    () => "refused",
  );
  expect(outcome).toBe("refused");
}

describe.each(IMPLEMENTATIONS)("symmetric cryptography on $kind", (symmetric) => {
  it("round-trips empty, short and large data, adding exactly the 16-byte tag", async () => {
    const key = await objectKey();
    for (const plaintext of [new Uint8Array(0), utf8.encode("correct horse"), random(65_536)]) {
      const gcm = gcmInput();
      const sealed = await symmetric.seal(key, gcm, plaintext);
      expect(sealed.length).toBe(plaintext.length + 16);
      const opened = await symmetric.open(key, gcm, new Uint8Array(sealed));
      expect(toHex(opened)).toBe(toHex(plaintext));
    }
  });

  it("refuses a flipped bit anywhere, a short tag, and any other key, nonce or additional data", async () => {
    const key = await objectKey();
    const gcm = gcmInput();
    const sealed = await symmetric.seal(key, gcm, utf8.encode("a secret value"));
    for (let position = 0; position < sealed.length; position++) {
      const damaged = new Uint8Array(sealed);
      damaged[position]! ^= 0x01;
      await refused(symmetric.open(key, gcm, damaged));
    }
    for (const length of [0, 15, sealed.length - 1]) {
      await refused(symmetric.open(key, gcm, new Uint8Array(sealed.subarray(0, length))));
    }
    const copy = () => new Uint8Array(sealed);
    await refused(symmetric.open({ ...key, baseKey: await baseKey() }, gcm, copy()));
    await refused(symmetric.open({ ...key, salt: random(16) }, gcm, copy()));
    await refused(symmetric.open({ ...key, info: utf8.encode("coffer/other/v1") }, gcm, copy()));
    await refused(symmetric.open(key, { ...gcm, nonce: random(12) }, copy()));
    await refused(symmetric.open(key, { ...gcm, additionalData: utf8.encode("header|moved") }, copy()));
    // Still opens with what it was sealed under: the refusals cached nothing wrong.
    expect(new TextDecoder().decode(await symmetric.open(key, gcm, copy()))).toBe("a secret value");
  });

  it("keeps opening once more objects were read than its key cache holds", async () => {
    const base = await baseKey();
    const info = utf8.encode("coffer/object/v1");
    const objects = await Promise.all(
      Array.from({ length: DECRYPTION_KEY_CACHE_ENTRIES + 2 }, async (_, i) => {
        const key = { baseKey: base, salt: random(16), info };
        const gcm = gcmInput();
        return { key, gcm, sealed: await symmetric.seal(key, gcm, utf8.encode(`value ${i}`)) };
      }),
    );
    for (const round of [0, 1]) {
      for (const [i, object] of objects.entries()) {
        const opened = await symmetric.open(object.key, object.gcm, new Uint8Array(object.sealed));
        expect(new TextDecoder().decode(opened), `round ${round}`).toBe(`value ${i}`);
      }
    }
  });

  it("computes HMAC-SHA256 as RFC 4231 specifies", () => {
    // RFC 4231, test cases 1 and 2.
    const first = symmetric.hmacKey(new Uint8Array(20).fill(0x0b));
    expect(first.hex("Hi There")).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const second = symmetric.hmacKey(utf8.encode("Jefe"));
    expect(toHex(second.bytes(utf8.encode("what do ya want for nothing?")))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("keeps its own copy of an HMAC key's bytes, and hashes strings as their UTF-8", () => {
    const raw = random(32);
    const key = symmetric.hmacKey(raw);
    const before = key.hex("é – 🔑");
    raw.fill(0);
    expect(key.hex("é – 🔑")).toBe(before);
    expect(toHex(key.bytes(utf8.encode("é – 🔑")))).toBe(before);
    expect(symmetric.hmacKey(raw).hex("é – 🔑")).not.toBe(before);
  });
});

describe("the implementations agree", () => {
  it.each([
    { sealer: webSymmetricCrypto, opener: nodeSymmetricCrypto },
    { sealer: nodeSymmetricCrypto, opener: webSymmetricCrypto },
  ])("$opener.kind opens what $sealer.kind sealed", async ({ sealer, opener }) => {
    const key = await objectKey();
    const gcm = gcmInput();
    const plaintext = random(1000);
    const sealed = await sealer.seal(key, gcm, plaintext);
    expect(toHex(await opener.open(key, gcm, new Uint8Array(sealed)))).toBe(toHex(plaintext));
    const damaged = new Uint8Array(sealed);
    damaged[0]! ^= 0x80;
    await refused(opener.open(key, gcm, damaged));
  });

  it("derive the same HMAC", () => {
    const raw = random(32);
    const value = "hvs.a-token-value";
    expect(nodeSymmetricCrypto.hmacKey(raw).hex(value)).toBe(webSymmetricCrypto.hmacKey(raw).hex(value));
  });
});
