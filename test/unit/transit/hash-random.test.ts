/**
 * `hash(/<algorithm>)` and `random(/<source>)(/<bytes>)` through the broker: the sums of
 * Vault's own test vectors, checked again by node:crypto, random bytes in every path form
 * Vault parses, and every refusal with Vault's message.
 */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_RANDOM_BYTES } from "../../../shared/engines/transit/path-random.ts";
import {
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

// Vault's builtin/logical/transit/path_hash_test.go: the sums of "the quick brown fox".
const FOX = "dGhlIHF1aWNrIGJyb3duIGZveA==";
const VAULT_SUMS = {
  "sha2-224": "ea074a96cabc5a61f8298a2c470f019074642631a49e1c5e2f560865",
  "sha2-256": "9ecb36561341d18eb65484e833efea61edc74b84cf5e6ae1b81c63533e25fc8f",
  "sha2-384":
    "15af9ec8be783f25c583626e9491dbf129dd6dd620466fdf05b3a1d0bb8381d30f4d3ec29f923ff1e09a0f6b337365a6",
  "sha2-512":
    "d9d380f29b97ad6a1d92e987d83fa5a02653301e1006dd2bcd51afa59a9147e9caedaf89521abc0f0b682adcd47fb512b8343c834a32f326fe9bef00542ce887",
  "sha3-224": "ced91e69d89c837e87cff960bd64fd9b9f92325fb9add8988d33d007",
  "sha3-256": "e4bd866ec3fa52df3b7842aa97b448bc859a7606cefcdad1715847f4b82a6c93",
  "sha3-384":
    "715cd38cbf8d0bab426b6a084d649760be555dd64b34de6db148a3fbf2cd2aa5d8b03eb6eda73a3e9a8769c00b4c2113",
  "sha3-512":
    "f7cac5ad830422a5408b36a60a60620687be180765a3e2895bc3bdbd857c9e08246c83064d4e3612f0cb927f3ead208413ab98624bf7b0617af0f03f62080976",
};

const sum = async (suffix: string, body: Record<string, unknown>) =>
  (await dataOf(h, "POST", `transit/hash${suffix}`, body)).sum as string;

describe("hash", () => {
  it("gives Vault's sums for its test vectors, in hex or base64, with the algorithm in the path or the body", async () => {
    expect(await sum("", { input: FOX })).toBe(VAULT_SUMS["sha2-256"]);
    for (const [algorithm, hex] of Object.entries(VAULT_SUMS)) {
      expect(await sum(`/${algorithm}`, { input: FOX })).toBe(hex);
      expect(await sum("", { input: FOX, algorithm })).toBe(hex);
      expect(await sum("", { input: FOX, algorithm, format: "base64" })).toBe(
        Buffer.from(hex, "hex").toString("base64"),
      );
    }
    // Vault's base64 sample of sha2-512.
    expect(await sum("/sha2-512", { input: FOX, format: "base64" })).toBe(
      "2dOA8puXrWodkumH2D+loCZTMB4QBt0rzVGvpZqRR+nK7a+JUhq8DwtoKtzUf7USuDQ8g0oy8yb+m+8AVCzohw==",
    );
  });

  it("agrees with node:crypto on other input, empty included", async () => {
    const node = {
      "sha2-256": "sha256",
      "sha2-512": "sha512",
      "sha3-256": "sha3-256",
      "sha3-384": "sha3-384",
    };
    for (const input of [Buffer.alloc(0), Buffer.from([0, 1, 2, 255]), Buffer.alloc(1000, 7)]) {
      for (const [algorithm, name] of Object.entries(node)) {
        expect(await sum(`/${algorithm}`, { input: input.toString("base64") })).toBe(
          createHash(name).update(input).digest("hex"),
        );
      }
    }
  });

  it("refuses with Vault's messages", async () => {
    const refused = (suffix: string, body: Record<string, unknown>, message: string) =>
      expectRefusal(h, "POST", `transit/hash${suffix}`, body, message);
    await refused("", {}, "input missing");
    await refused(
      "",
      { input: "foobar" },
      "unable to decode input as base64: illegal base64 data at input byte 4",
    );
    await refused(
      "",
      { input: FOX, format: "base92" },
      'unsupported encoding format base92; must be "hex" or "base64"',
    );
    await refused("", { input: FOX, algorithm: "foobar" }, "unsupported algorithm foobar");
    await refused("/sha1", { input: FOX }, "unsupported algorithm sha1");
  });
});

const randomBytes = async (suffix: string, body: Record<string, unknown> = {}) => {
  const reply = await h.call("POST", `transit/random${suffix}`, body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const text: string = reply.body.data.random_bytes;
  const bytes = Buffer.from(text, body.format === "hex" ? "hex" : "base64");
  expect(bytes.toString(body.format === "hex" ? "hex" : "base64")).toBe(text);
  return { bytes, warnings: reply.body.warnings };
};

describe("random", () => {
  it("parses the path as Vault does: a source, a byte count, or both", async () => {
    expect((await randomBytes("")).bytes).toHaveLength(32);
    expect((await randomBytes("", { bytes: 10 })).bytes).toHaveLength(10);
    expect((await randomBytes("/64")).bytes).toHaveLength(64);
    expect((await randomBytes("/all/16", { format: "hex" })).bytes).toHaveLength(16);
    expect((await randomBytes("/platform", { bytes: 8 })).bytes).toHaveLength(8);
    expect((await randomBytes("", { drbg: "hmacdrbg" })).bytes).toHaveLength(32);
    expect((await randomBytes(`/${MAX_RANDOM_BYTES}`)).bytes).toHaveLength(MAX_RANDOM_BYTES);
    // Coffer has no seal entropy: it says so, as Vault does without augmentation.
    const seal = await randomBytes("/seal/8");
    expect(seal.bytes).toHaveLength(8);
    expect(seal.warnings).toEqual(["no seal/entropy augmentation available, using platform entropy source"]);
  });

  it("never repeats itself", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await randomBytes("/16")).bytes.toString("hex"));
    expect(seen.size).toBe(20);
    // Not all zero, and not one repeated byte either.
    expect(new Set((await randomBytes("/1024")).bytes).size).toBeGreaterThan(100);
  });

  it("refuses with Vault's messages", async () => {
    const refused = (suffix: string, body: Record<string, unknown>, message: string) =>
      expectRefusal(h, "POST", `transit/random${suffix}`, body, message);
    await refused(
      "/hex",
      {},
      'error parsing url-set byte count: strconv.Atoi: parsing "hex": invalid syntax',
    );
    await refused(
      "/all/ten",
      {},
      'error parsing url-set byte count: strconv.Atoi: parsing "ten": invalid syntax',
    );
    await refused("/0", {}, '"bytes" cannot be less than 1');
    await refused("", { bytes: -3 }, '"bytes" cannot be less than 1');
    await refused(`/${MAX_RANDOM_BYTES + 1}`, {}, `"bytes" must be less than ${MAX_RANDOM_BYTES}`);
    await refused("/nope/8", {}, 'unsupported entropy source "nope"; must be "platform" or "seal", or "all"');
    await refused(
      "",
      { format: "base92" },
      'unsupported encoding format "base92"; must be "hex" or "base64"',
    );
    await refused("", { drbg: "ctr" }, "invalid setting for drbg, must absent, auto, or hmacdrbg");
  });
});
