/**
 * `hmac/<name>` and `verify/<name>` with `hmac`, through the broker: every algorithm on
 * every key type, versions and policy as in Vault, Vault's batch answers and messages.
 * The HMAC itself is checked against Vault's own test vectors in vault-vectors.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  b64,
  dataOf,
  expectRefusal,
  openTransitDeployment,
  type TransitDeployment,
} from "./transit-deployment.ts";

let h: TransitDeployment;
beforeEach(async () => {
  h = await openTransitDeployment();
});
afterEach(async () => {
  await h.close();
});

const INPUT = b64("the quick brown fox");
const hmacOf = async (name: string, body: Record<string, unknown>, suffix = "") =>
  (await dataOf(h, "POST", `transit/hmac/${name}${suffix}`, body)).hmac as string;
const valid = async (name: string, body: Record<string, unknown>, suffix = "") =>
  (await dataOf(h, "POST", `transit/verify/${name}${suffix}`, body)).valid as boolean;

/** The same text with one base64 character of the payload changed. */
const tampered = (mac: string) => `${mac.slice(0, 12)}${mac[12] === "A" ? "B" : "A"}${mac.slice(13)}`;

const SIZES = {
  sha1: 20,
  "sha2-224": 28,
  "sha2-256": 32,
  "sha2-384": 48,
  "sha2-512": 64,
  "sha3-224": 28,
  "sha3-256": 32,
  "sha3-384": 48,
  "sha3-512": 64,
};

describe("hmac", () => {
  it("computes and verifies every algorithm with every key type, each version having its own HMAC key", async () => {
    await dataOf(h, "POST", "transit/keys/aes");
    await dataOf(h, "POST", "transit/keys/ed", { type: "ed25519" });
    await dataOf(h, "POST", "transit/keys/ec", { type: "ecdsa-p256" });
    const seen = new Set<string>();
    for (const key of ["aes", "ed", "ec"]) {
      for (const [algorithm, size] of Object.entries(SIZES)) {
        const mac = await hmacOf(key, { input: INPUT }, `/${algorithm}`);
        expect(mac).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
        expect(Buffer.from(mac.slice("vault:v1:".length), "base64")).toHaveLength(size);
        // The same from the body, and every time.
        expect(await hmacOf(key, { input: INPUT, algorithm })).toBe(mac);
        seen.add(mac);
        expect(await valid(key, { input: INPUT, hmac: mac }, `/${algorithm}`)).toBe(true);
        expect(await valid(key, { input: INPUT, hmac: mac, hash_algorithm: algorithm })).toBe(true);
        expect(await valid(key, { input: b64("the quick brown fax"), hmac: mac }, `/${algorithm}`)).toBe(
          false,
        );
      }
    }
    // No two keys or algorithms share an HMAC.
    expect(seen.size).toBe(3 * Object.keys(SIZES).length);
    expect(await hmacOf("aes", { input: INPUT })).toBe(await hmacOf("aes", { input: INPUT }, "/sha2-256"));
  });

  it("takes the hash from the path, then hash_algorithm, then algorithm, when verifying an HMAC", async () => {
    await dataOf(h, "POST", "transit/keys/k");
    const sha512 = await hmacOf("k", { input: INPUT, algorithm: "sha2-512" });
    expect(await valid("k", { input: INPUT, hmac: sha512, algorithm: "sha2-512" })).toBe(true);
    expect(
      await valid("k", { input: INPUT, hmac: sha512, hash_algorithm: "sha2-512", algorithm: "sha1" }),
    ).toBe(true);
    expect(await valid("k", { input: INPUT, hmac: sha512, hash_algorithm: "sha2-512" }, "/sha2-256")).toBe(
      false,
    );
    expect(await valid("k", { input: INPUT, hmac: sha512 })).toBe(false);
  });

  it("key versions: rotation, key_version, min_encryption_version and min_decryption_version, as in Vault", async () => {
    await dataOf(h, "POST", "transit/keys/k");
    const v1 = await hmacOf("k", { input: INPUT });
    await dataOf(h, "POST", "transit/keys/k/rotate");
    const v2 = await hmacOf("k", { input: INPUT });
    expect(v2).toMatch(/^vault:v2:/);
    expect(v2.slice(9)).not.toBe(v1.slice(9));
    expect(await hmacOf("k", { input: INPUT, key_version: 1 })).toBe(v1);
    expect(await valid("k", { input: INPUT, hmac: v1 })).toBe(true);
    expect(await valid("k", { input: INPUT, hmac: v2 })).toBe(true);
    // Version 2's HMAC under version 1's label is another key's: not valid.
    expect(await valid("k", { input: INPUT, hmac: v2.replace("vault:v2:", "vault:v1:") })).toBe(false);

    const at = (key_version: number) => ({ input: INPUT, key_version });
    await expectRefusal(
      h,
      "POST",
      "transit/hmac/k",
      at(3),
      "key version does not exist; latest key version is 2",
    );
    await expectRefusal(
      h,
      "POST",
      "transit/hmac/k",
      at(-1),
      "key version does not exist (cannot be negative)",
    );
    await expectRefusal(
      h,
      "POST",
      "transit/verify/k",
      { input: INPUT, hmac: "vault:v3:AAAA" },
      "invalid HMAC: version is too new",
    );
    await dataOf(h, "POST", "transit/keys/k/config", { min_encryption_version: 2 });
    await expectRefusal(
      h,
      "POST",
      "transit/hmac/k",
      at(1),
      "cannot generate HMAC: version is too old (disallowed by policy)",
    );
    await dataOf(h, "POST", "transit/keys/k/config", { min_decryption_version: 2 });
    await expectRefusal(
      h,
      "POST",
      "transit/verify/k",
      { input: INPUT, hmac: v1 },
      "cannot verify HMAC: version is too old (disallowed by policy)",
    );
    expect(await valid("k", { input: INPUT, hmac: v2 })).toBe(true);
  });

  it("answers a batch item by item with 200, as Vault's tests show it", async () => {
    await dataOf(h, "POST", "transit/keys/k");
    const reply = await h.call("POST", "transit/hmac/k", {
      batch_input: [
        { input: INPUT, reference: "one" },
        { input: INPUT, reference: "two" },
        { input: "", reference: "three" },
        { input: ":;.?", reference: "four" },
        {},
      ],
    });
    expect(reply.status).toBe(200);
    const results = reply.body.data.batch_results;
    const single = await hmacOf("k", { input: INPUT });
    expect(results).toEqual([
      { hmac: single, reference: "one" },
      { hmac: single, reference: "two" },
      { hmac: await hmacOf("k", { input: "" }), reference: "three" },
      { error: "unable to decode input as base64: illegal base64 data at input byte 0", reference: "four" },
      { error: "missing input for HMAC", reference: "" },
    ]);
    const verified = await h.call("POST", "transit/verify/k", {
      batch_input: [
        { input: INPUT, hmac: single, reference: "good" },
        { input: INPUT, hmac: tampered(single), reference: "bad" },
        { input: INPUT, hmac: "nope", reference: "malformed" },
      ],
    });
    expect(verified.status).toBe(200);
    expect(verified.body.data.batch_results).toEqual([
      { valid: true, reference: "good" },
      { valid: false, reference: "bad" },
      { valid: false, error: "invalid HMAC to verify: no prefix", reference: "malformed" },
    ]);
  });

  it("refuses bad input with Vault's messages, and writes nothing", async () => {
    await dataOf(h, "POST", "transit/keys/k");
    const refused = (path: string, body: Record<string, unknown>, message: string) =>
      expectRefusal(h, "POST", `transit/${path}`, body, message);
    await refused("hmac/nope", { input: INPUT }, "encryption key not found");
    await refused("verify/nope", { input: INPUT, hmac: "vault:v1:AAAA" }, "encryption key not found");
    await refused("hmac/k", {}, "missing input for HMAC");
    await refused(
      "hmac/k",
      { input: "foobar" },
      "unable to decode input as base64: illegal base64 data at input byte 4",
    );
    await refused("hmac/k/sha2-999", { input: INPUT }, 'unsupported algorithm "sha2-999"');
    await refused("hmac/k", { input: INPUT, algorithm: "none" }, 'unsupported algorithm "none"');
    await refused("verify/k/md5", { input: INPUT, hmac: "vault:v1:AAAA" }, 'unsupported algorithm "md5"');
    const verify = (hmac: string, message: string) => refused("verify/k", { input: INPUT, hmac }, message);
    await verify("AAAA", "invalid HMAC to verify: no prefix");
    await verify("vault:v1", "invalid HMAC: wrong number of fields");
    await verify("vault:vone:AAAA", "invalid HMAC: version number could not be decoded");
    await verify(
      "vault:v1:A@AA",
      "unable to decode verification HMAC as base64: illegal base64 data at input byte 1",
    );
    await verify("vault:v0:AAAA", "cannot verify HMAC: version is too old (disallowed by policy)");
  });
});
