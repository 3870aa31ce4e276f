/**
 * Every way a sign or verify request can be wrong, each with Vault's status and message
 * (or Coffer's own where it cannot do what Vault does), and nothing written.
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
  for (const type of ["ed25519", "ecdsa-p256", "rsa-2048"])
    await dataOf(h, "POST", `transit/keys/${type}`, { type });
  await dataOf(h, "POST", "transit/keys/aes");
});
afterEach(async () => {
  await h.close();
});

const INPUT = b64("the quick brown fox");
const refused = (path: string, body: Record<string, unknown>, message: string | RegExp) =>
  expectRefusal(h, "POST", `transit/${path}`, body, message);
const signatureOf = async (name: string, body: Record<string, unknown> = {}) =>
  (await dataOf(h, "POST", `transit/sign/${name}`, { input: INPUT, ...body })).signature as string;

describe("sign and verify refuse", () => {
  it("keys that are missing or cannot sign, and signing keys asked to encrypt", async () => {
    await refused("sign/nope", { input: INPUT }, "signing key not found");
    await refused(
      "verify/nope",
      { input: INPUT, signature: "vault:v1:AAAA" },
      "signature verification key not found",
    );
    await refused("sign/aes", { input: INPUT }, "key type aes256-gcm96 does not support signing");
    await refused(
      "verify/aes",
      { input: INPUT, signature: "vault:v1:AAAA" },
      "key type aes256-gcm96 does not support verification",
    );
    await refused(
      "encrypt/ed25519",
      { plaintext: INPUT },
      "message encryption not supported for key type ed25519",
    );
    await refused(
      "decrypt/ecdsa-p256",
      { ciphertext: "vault:v1:AAAA" },
      "message decryption not supported for key type ecdsa-p256",
    );
    await refused(
      "rewrap/rsa-2048",
      { ciphertext: "vault:v1:AAAA" },
      "message decryption not supported for key type rsa-2048",
    );
    await refused("datakey/plaintext/ed25519", {}, "message encryption not supported for key type ed25519");
  });

  it("unknown hash and marshaling algorithms, and Vault's rule for none", async () => {
    await refused(
      "sign/ecdsa-p256",
      { input: INPUT, hash_algorithm: "sha2-999" },
      'invalid hash algorithm "sha2-999"',
    );
    await refused("sign/ecdsa-p256/md5", { input: INPUT }, 'invalid hash algorithm "md5"');
    await refused(
      "verify/ecdsa-p256/md5",
      { input: INPUT, signature: "vault:v1:AAAA" },
      'invalid hash algorithm "md5"',
    );
    await refused(
      "sign/ecdsa-p256",
      { input: INPUT, marshaling_algorithm: "asn2" },
      'invalid marshaling type "asn2"',
    );
    const none = "hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15";
    await refused("sign/rsa-2048", { input: INPUT, hash_algorithm: "none" }, none);
    await refused("sign/ed25519", { input: INPUT, hash_algorithm: "none", prehashed: true }, none);
    // Vault's community edition refuses Ed25519 with sha2-512 (its enterprise Ed25519ph).
    await refused(
      "sign/ed25519/sha2-512",
      { input: INPUT },
      "error generating Ed25519 options: hash algorithm of SHA2 512 is not supported feature",
    );
  });

  it("RSA options out of range", async () => {
    await refused(
      "sign/rsa-2048",
      { input: INPUT, signature_algorithm: "pss2" },
      "unsupported rsa signature algorithm pss2",
    );
    await refused(
      "sign/rsa-2048",
      { input: INPUT, salt_length: "bogus" },
      "salt length neither 'auto', 'hash', nor an int: bogus",
    );
    await refused("sign/rsa-2048", { input: INPUT, salt_length: "-2" }, "salt length is invalid: -2");
    // 2048 bits with SHA-256 carry at most 256 - 2 - 32 = 222 bytes of salt.
    await refused(
      "sign/rsa-2048",
      { input: INPUT, salt_length: 223 },
      "requested salt length 223 is invalid",
    );
    expect(await signatureOf("rsa-2048", { salt_length: 222 })).toMatch(/^vault:v1:/);
  });

  it("what Web Crypto cannot sign: prehashed input and hashes it does not offer (ECDSA and RSA)", async () => {
    const digest = b64("0123456789abcdef0123456789abcdef");
    await refused(
      "sign/ecdsa-p256",
      { input: digest, prehashed: true },
      /prehashed input is not supported for signing with ecdsa-p256 keys/,
    );
    await refused(
      "sign/rsa-2048",
      { input: digest, prehashed: true },
      /prehashed input is not supported for signing with rsa-2048 keys/,
    );
    await refused(
      "sign/ecdsa-p256/sha3-256",
      { input: INPUT },
      /hash algorithm sha3-256 is not supported for signing with ecdsa-p256 keys/,
    );
    await refused(
      "sign/rsa-2048/sha2-224",
      { input: INPUT },
      /hash algorithm sha2-224 is not supported for signing with rsa-2048 keys/,
    );
    const signature = await signatureOf("ecdsa-p256");
    await refused(
      "verify/ecdsa-p256",
      { input: digest, signature, prehashed: true },
      /prehashed input is not supported for verification with ecdsa-p256 keys/,
    );
    // Ed25519 hashes nothing: prehashed does not apply to it, as in Vault.
    expect(await signatureOf("ed25519", { prehashed: true })).toBe(await signatureOf("ed25519"));
  });

  it("malformed signatures, with Vault's messages", async () => {
    const verify = (name: string, signature: string, message: string, body: Record<string, unknown> = {}) =>
      refused(`verify/${name}`, { input: INPUT, signature, ...body }, message);
    await verify("ed25519", "nope", "invalid signature: no prefix");
    await verify("ed25519", "vault:v1", "invalid signature: wrong number of fields");
    await verify("ed25519", "vault:vx:AAAA", "invalid signature: version number could not be decoded");
    await verify("ed25519", "vault:v2:AAAA", "invalid signature: version is too new");
    await verify(
      "ed25519",
      "vault:v0:AAAA",
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    await verify("ed25519", "vault:v1:@@@@", "invalid base64 signature value");
    // JWS signatures are unpadded URL-safe base64: padding is not.
    await verify("ed25519", "vault:v1:AAAA==", "invalid base64 signature value", {
      marshaling_algorithm: "jws",
    });
    await verify("ecdsa-p256", `vault:v1:${b64("not DER")}`, "supplied signature is invalid");
    const der = Buffer.from((await signatureOf("ecdsa-p256")).slice("vault:v1:".length), "base64");
    await verify(
      "ecdsa-p256",
      `vault:v1:${Buffer.concat([der, Buffer.of(0)]).toString("base64")}`,
      "supplied signature contains extra data",
    );
    // A non-minimal DER integer, as Go's encoding/asn1 refuses it.
    const padded = Buffer.from([0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]);
    await verify("ecdsa-p256", `vault:v1:${padded.toString("base64")}`, "supplied signature is invalid");
    await refused(
      "sign/ed25519",
      { input: "@@" },
      "unable to decode input as base64: illegal base64 data at input byte 0",
    );
    await refused("sign/ed25519", { input: "QUJD", context: "@" }, "failed to base64-decode context");
  });

  it("well-formed signatures no key made verify as false, not as errors", async () => {
    const valid = async (name: string, signature: string, body: Record<string, unknown> = {}) =>
      (await dataOf(h, "POST", `transit/verify/${name}`, { input: INPUT, signature, ...body })).valid;
    const ed = await signatureOf("ed25519");
    expect(await valid("ed25519", ed.slice(0, -4))).toBe(false);
    expect(await valid("ed25519", "vault:v1:")).toBe(false);
    // r and s of zero, and of more bytes than the curve has.
    const zero = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);
    expect(await valid("ecdsa-p256", `vault:v1:${zero.toString("base64")}`)).toBe(false);
    expect(
      await valid("ecdsa-p256", `vault:v1:${Buffer.alloc(66, 1).toString("base64url")}`, {
        marshaling_algorithm: "jws",
      }),
    ).toBe(false);
    expect(await valid("rsa-2048", `vault:v1:${Buffer.alloc(256, 0xff).toString("base64")}`)).toBe(false);
    expect(await valid("rsa-2048", `vault:v1:${Buffer.alloc(10).toString("base64")}`)).toBe(false);
  });

  it("verify without one kind of thing to verify, with Vault's messages", async () => {
    const signature = await signatureOf("ed25519");
    await refused(
      "verify/ed25519",
      { input: INPUT },
      "missing 'signature', 'hmac' or 'cmac' were given to verify",
    );
    // Given both, Vault verifies the signature.
    const both = { input: INPUT, signature, hmac: "vault:v1:AAAA" };
    expect((await dataOf(h, "POST", "transit/verify/ed25519", both)).valid).toBe(true);
    await refused(
      "verify/ed25519",
      { input: INPUT, cmac: "vault:v1:AAAA" },
      "CMAC operations are only available in enterprise versions of Vault",
    );
    const batch = (batch_input: unknown[]) => ({ batch_input });
    await refused(
      "verify/ed25519",
      batch([
        { input: INPUT, signature },
        { input: INPUT, hmac: "vault:v1:AAAA" },
      ]),
      "elements of batch_input must all provide either 'signature', 'hmac' or 'cmac'",
    );
    await refused(
      "verify/ed25519",
      batch([{ input: INPUT, signature }, { input: INPUT }]),
      "some elements of batch_input are missing 'signature'",
    );
    await refused(
      "verify/ed25519",
      batch([{ input: INPUT }]),
      "no batch_input elements have 'signature', 'hmac' or 'cmac'",
    );
    await refused("verify/ed25519", batch([]), "missing batch input to process");
    await refused("sign/ed25519", batch([]), "missing batch input to process");
  });

  it("key options a type does not take, with Vault's messages", async () => {
    await refused(
      "keys/k",
      { type: "ecdsa-p256", derived: true },
      "key derivation and convergent encryption not supported for keys of type ecdsa-p256",
    );
    await refused(
      "keys/k",
      { type: "rsa-2048", derived: true },
      "key derivation and convergent encryption not supported for keys of type rsa-2048",
    );
    await refused(
      "keys/k",
      { type: "ed25519", derived: true, convergent_encryption: true },
      "convergent encryption not supported for keys of type ed25519",
    );
    await refused("keys/k", { type: "ed25519", key_size: 32 }, "key_size is not valid for algorithm ed25519");
    // encrypt creates missing keys of encryption types only.
    await refused(
      "encrypt/k",
      { plaintext: INPUT, type: "ecdsa-p256" },
      "key type ecdsa-p256 not supported for this operation",
    );
    await refused("encrypt/k", { plaintext: INPUT, type: "ed25519" }, "unknown key type ed25519");
  });
});
