/**
 * The cost model and its bounds: warm operations cost no KMS call and no store read; a
 * process reads a key's policy at most once per POLICY_CACHE_MS; changes made through
 * another process are seen within that bound, or at once where waiting would fail a
 * caller (ciphertext of a version this process has not seen yet).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POLICY_CACHE_MS } from "../../../shared/engines/transit/key-storage.ts";
import type { Counters } from "../../support/cost-counters.ts";
import {
  b64,
  type CountedProcess,
  openTransitDeployment,
  type TransitDeployment,
  unb64,
} from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

async function ok(process: CountedProcess, path: string, body?: unknown) {
  const reply = await process.call("POST", path, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.data;
}

function snapshot(counters: Counters) {
  return { ...counters, readKeys: [...counters.readKeys] };
}

function transitReads(before: Counters, after: Counters) {
  return after.readKeys.slice(before.readKeys.length).filter((key) => key.startsWith("transit/"));
}

describe("cost of encryption", () => {
  it("warm encrypt and decrypt cost no KMS call and no store read", async () => {
    await ok(h, "transit/keys/k");
    const { ciphertext } = await ok(h, "transit/encrypt/k", { plaintext: b64("warm up") });
    const before = snapshot(h.counters);
    for (let i = 0; i < 20; i++) {
      await ok(h, "transit/encrypt/k", { plaintext: b64(`item ${i}`) });
      await ok(h, "transit/decrypt/k", { ciphertext });
    }
    expect(h.counters.unwrap - before.unwrap).toBe(0);
    expect(h.counters.generate - before.generate).toBe(0);
    expect(h.counters.reads - before.reads).toBe(0);
  });

  it("a cold process unwraps once, reads the policy and the version once, then nothing", async () => {
    await ok(h, "transit/keys/k");
    const { ciphertext } = await ok(h, "transit/encrypt/k", { plaintext: b64("x") });
    const cold = await h.process();
    const before = snapshot(cold.counters);
    await ok(cold, "transit/decrypt/k", { ciphertext });
    await ok(cold, "transit/encrypt/k", { plaintext: b64("y") });
    expect(cold.counters.unwrap - before.unwrap).toBe(1);
    expect(transitReads(before, cold.counters).sort()).toEqual([
      expect.stringMatching(/ key\/k$/),
      expect.stringMatching(/ version\/k\/0000000001$/),
    ]);
  });

  it("reads the policy again once per bound, never the material", async () => {
    await ok(h, "transit/keys/k");
    await ok(h, "transit/encrypt/k", { plaintext: b64("x") });
    const before = snapshot(h.counters);
    h.clock.advance(POLICY_CACHE_MS);
    await Promise.all(Array.from({ length: 5 }, () => ok(h, "transit/encrypt/k", { plaintext: b64("y") })));
    expect(transitReads(before, h.counters)).toEqual([expect.stringMatching(/ key\/k$/)]);
    expect(h.counters.unwrap - before.unwrap).toBe(0);
  });
});

describe("changes made through another process", () => {
  it("a rotation is used for new ciphertext within the bound, and its ciphertext decrypts at once", async () => {
    await ok(h, "transit/keys/k");
    const other = await h.process();
    await ok(other, "transit/encrypt/k", { plaintext: b64("prime the cache") });
    await ok(h, "transit/keys/k/rotate");
    const fromMain = await ok(h, "transit/encrypt/k", { plaintext: b64("v2 text") });
    expect(fromMain.key_version).toBe(2);
    // The other process still encrypts with version 1, which stays valid...
    expect((await ok(other, "transit/encrypt/k", { plaintext: b64("z") })).key_version).toBe(1);
    // ...yet decrypts version 2 at once, and asks for it by number.
    expect(unb64((await ok(other, "transit/decrypt/k", { ciphertext: fromMain.ciphertext })).plaintext)).toBe(
      "v2 text",
    );
    expect((await ok(other, "transit/encrypt/k", { plaintext: b64("z"), key_version: 2 })).key_version).toBe(
      2,
    );
    h.clock.advance(POLICY_CACHE_MS);
    expect((await ok(other, "transit/encrypt/k", { plaintext: b64("z") })).key_version).toBe(2);
  });

  it("a raised min_decryption_version holds everywhere within the bound", async () => {
    await ok(h, "transit/keys/k");
    const { ciphertext } = await ok(h, "transit/encrypt/k", { plaintext: b64("old") });
    await ok(h, "transit/keys/k/rotate");
    const other = await h.process();
    await ok(other, "transit/decrypt/k", { ciphertext });
    await ok(h, "transit/keys/k/config", { min_decryption_version: 2 });
    expect((await h.call("POST", "transit/decrypt/k", { ciphertext })).status).toBe(400);
    h.clock.advance(POLICY_CACHE_MS);
    const refused = await other.call("POST", "transit/decrypt/k", { ciphertext });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/disallowed by policy/);
  });

  it("a trim elsewhere turns into a 400 here, not an internal error", async () => {
    await ok(h, "transit/keys/k");
    const { ciphertext } = await ok(h, "transit/encrypt/k", { plaintext: b64("old") });
    await ok(h, "transit/keys/k/rotate");
    const other = await h.process();
    await ok(other, "transit/encrypt/k", { plaintext: b64("cache the policy, not version 1") });
    await ok(h, "transit/keys/k/config", { min_decryption_version: 2, min_encryption_version: 2 });
    await ok(h, "transit/keys/k/trim", { min_available_version: 2 });
    const refused = await other.call("POST", "transit/decrypt/k", { ciphertext });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/disallowed by policy/);
  });

  it("a key deleted and created again elsewhere is picked up within the bound", async () => {
    await ok(h, "transit/keys/k");
    await ok(h, "transit/keys/k/config", { deletion_allowed: true });
    const other = await h.process();
    await ok(other, "transit/encrypt/k", { plaintext: b64("x") });
    expect((await h.call("DELETE", "transit/keys/k")).status).toBe(204);
    await ok(h, "transit/keys/k");
    const fresh = await ok(h, "transit/encrypt/k", { plaintext: b64("new key") });
    h.clock.advance(POLICY_CACHE_MS);
    expect(unb64((await ok(other, "transit/decrypt/k", { ciphertext: fresh.ciphertext })).plaintext)).toBe(
      "new key",
    );
  });
});
