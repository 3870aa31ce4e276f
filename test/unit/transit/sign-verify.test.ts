/**
 * Signing keys through the broker: sign and verify with Ed25519, ECDSA and RSA keys in
 * Vault's wire format, every signature checked again by node:crypto with the public key
 * the broker shows, so a signature the broker merely agrees with itself about fails.
 */
import { constants, createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runPeriodicWork } from "../../../shared/mounts/periodic.ts";
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
const OTHER = b64("the quick brown fax");

const createKey = (name: string, body: Record<string, unknown> = {}) =>
  dataOf(h, "POST", `transit/keys/${name}`, body);
const sign = (name: string, body: Record<string, unknown>, suffix = "") =>
  dataOf(h, "POST", `transit/sign/${name}${suffix}`, body);
const verifies = async (name: string, body: Record<string, unknown>, suffix = "") =>
  (await dataOf(h, "POST", `transit/verify/${name}${suffix}`, body)).valid as boolean;

/** The public key of `version` as the broker shows it, for node:crypto. */
async function publicKeyOf(name: string, version = 1, context?: string): Promise<KeyObject> {
  const read = await h.call(
    "GET",
    `transit/keys/${name}${context ? `?context=${encodeURIComponent(context)}` : ""}`,
  );
  const shown = read.body.data.keys[String(version)];
  if (read.body.data.type === "ed25519") return ed25519Key(shown.public_key);
  return createPublicKey(shown.public_key);
}

const ed25519Key = (base64: string) =>
  createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(base64, "base64").toString("base64url") },
    format: "jwk",
  });

/** The signature's bytes, from `vault:v<N>:` and standard or URL-safe base64. */
function signatureBytes(signature: string, urlSafe = false): Buffer {
  const match = /^vault:v\d+:(.+)$/.exec(signature);
  expect(match, signature).not.toBeNull();
  return Buffer.from(match![1]!, urlSafe ? "base64url" : "base64");
}

describe("signing keys", () => {
  it("creates Ed25519, ECDSA and RSA keys and shows each version's public key as Vault does", async () => {
    const expected = {
      ed25519: { name: "ed25519", derivation: true },
      "ecdsa-p256": { name: "P-256", derivation: false },
      "ecdsa-p384": { name: "P-384", derivation: false },
      "ecdsa-p521": { name: "P-521", derivation: false },
      "rsa-2048": { name: "rsa-2048", derivation: false },
    };
    for (const [type, { name, derivation }] of Object.entries(expected)) {
      const created = await createKey(type, { type });
      const read = await dataOf(h, "GET", `transit/keys/${type}`);
      expect(read).toEqual(created);
      expect(read).toMatchObject({
        type,
        latest_version: 1,
        min_decryption_version: 1,
        min_encryption_version: 0,
        supports_signing: true,
        supports_encryption: false,
        supports_decryption: false,
        supports_derivation: derivation,
        exportable: false,
      });
      expect(Object.keys(read.keys)).toEqual(["1"]);
      expect(read.keys["1"]).toEqual({
        certificate_chain: "",
        creation_time: "2030-01-01T00:00:00Z",
        hybrid_public_key: "",
        name,
        public_key: expect.any(String),
      });
      const key = await publicKeyOf(type);
      if (type === "ed25519") {
        expect(read.keys["1"].public_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
        expect(key.asymmetricKeyType).toBe("ed25519");
      } else {
        // PEM as Go writes it: 64 columns, a final line break.
        expect(read.keys["1"].public_key).toMatch(
          /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/,
        );
      }
      if (type.startsWith("ecdsa"))
        expect(key.asymmetricKeyDetails?.namedCurve).toMatch(/^(prime256v1|secp384r1|secp521r1)$/);
      if (type === "rsa-2048")
        expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    }
  });

  it("creates rsa-3072 and rsa-4096 keys that sign", async () => {
    for (const [type, bits] of [
      ["rsa-3072", 3072],
      ["rsa-4096", 4096],
    ] as const) {
      await createKey(type, { type });
      const key = await publicKeyOf(type);
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
      const { signature } = await sign(type, { input: INPUT, signature_algorithm: "pkcs1v15" });
      expect(signatureBytes(signature)).toHaveLength(bits / 8);
      expect(verify("sha256", Buffer.from(INPUT, "base64"), key, signatureBytes(signature))).toBe(true);
    }
  });
});

describe("sign and verify", () => {
  it("Ed25519 signs the input itself; node:crypto verifies it", async () => {
    await createKey("ed", { type: "ed25519" });
    const signed = await sign("ed", { input: INPUT });
    expect(signed).toEqual({
      signature: expect.stringMatching(/^vault:v1:[A-Za-z0-9+/]{86}==$/),
      key_version: 1,
    });
    const key = await publicKeyOf("ed");
    expect(verify(null, Buffer.from(INPUT, "base64"), key, signatureBytes(signed.signature))).toBe(true);
    // Ed25519 is deterministic; the hash algorithm does not apply to it.
    expect((await sign("ed", { input: INPUT, hash_algorithm: "sha2-384" })).signature).toBe(signed.signature);
    expect(await verifies("ed", { input: INPUT, signature: signed.signature })).toBe(true);
    expect(await verifies("ed", { input: OTHER, signature: signed.signature })).toBe(false);
    // JWS marshaling: URL-safe base64 without padding, for every key type.
    const jws = await sign("ed", { input: INPUT, marshaling_algorithm: "jws" });
    expect(jws.signature).toMatch(/^vault:v1:[A-Za-z0-9_-]{86}$/);
    expect(signatureBytes(jws.signature, true).equals(signatureBytes(signed.signature))).toBe(true);
    expect(
      await verifies("ed", { input: INPUT, signature: jws.signature, marshaling_algorithm: "jws" }),
    ).toBe(true);
  });

  it("ECDSA signs the input's hash, ASN.1 DER or JWS; node:crypto verifies both", async () => {
    const curves = [
      ["ecdsa-p256", 32],
      ["ecdsa-p384", 48],
      ["ecdsa-p521", 66],
    ] as const;
    const hashes = [
      ["sha1", "sha1"],
      ["sha2-256", "sha256"],
      ["sha2-384", "sha384"],
      ["sha2-512", "sha512"],
    ] as const;
    const input = Buffer.from(INPUT, "base64");
    for (const [type, size] of curves) {
      await createKey(type, { type });
      const key = await publicKeyOf(type);
      for (const [vault, node] of hashes) {
        // The hash in the path, as in Vault's sign/<name>/<hash>.
        const der = await sign(type, { input: INPUT }, `/${vault}`);
        expect(signatureBytes(der.signature)[0]).toBe(0x30); // a DER SEQUENCE
        expect(verify(node, input, { key, dsaEncoding: "der" }, signatureBytes(der.signature))).toBe(true);
        expect(await verifies(type, { input: INPUT, signature: der.signature, hash_algorithm: vault })).toBe(
          true,
        );
        expect(await verifies(type, { input: OTHER, signature: der.signature, hash_algorithm: vault })).toBe(
          false,
        );

        const jws = await sign(type, { input: INPUT, hash_algorithm: vault, marshaling_algorithm: "jws" });
        const raw = signatureBytes(jws.signature, true);
        expect(raw).toHaveLength(2 * size);
        expect(verify(node, input, { key, dsaEncoding: "ieee-p1363" }, raw)).toBe(true);
        const asJws = {
          input: INPUT,
          signature: jws.signature,
          hash_algorithm: vault,
          marshaling_algorithm: "jws",
        };
        expect(await verifies(type, asJws)).toBe(true);
        // A JWS signature read as DER is not a signature at all.
        await expectRefusal(
          h,
          "POST",
          `transit/verify/${type}`,
          { ...asJws, marshaling_algorithm: "asn1" },
          /invalid/,
        );
      }
      // sha2-256 is the default; a signature made with another hash does not verify with it.
      const sha384 = await sign(type, { input: INPUT, hash_algorithm: "sha2-384" });
      expect(await verifies(type, { input: INPUT, signature: sha384.signature })).toBe(false);
    }
  });

  it("RSA signs with PSS (largest salt by default) or PKCS #1 v1.5; node:crypto verifies each", async () => {
    await createKey("rsa", { type: "rsa-2048" });
    const key = await publicKeyOf("rsa");
    const input = Buffer.from(INPUT, "base64");
    const pss = (saltLength: number) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    const cases = [
      [{}, "sha256", pss(222)],
      [{ salt_length: "auto", hash_algorithm: "sha2-512" }, "sha512", pss(190)],
      [{ salt_length: "hash" }, "sha256", pss(32)],
      [{ salt_length: 20, hash_algorithm: "sha1" }, "sha1", pss(20)],
      [{ signature_algorithm: "pkcs1v15" }, "sha256", { key, padding: constants.RSA_PKCS1_PADDING }],
      [
        { signature_algorithm: "pkcs1v15", hash_algorithm: "sha2-384" },
        "sha384",
        { key, padding: constants.RSA_PKCS1_PADDING },
      ],
    ] as const;
    for (const [options, hash, nodeKey] of cases) {
      const { signature } = await sign("rsa", { input: INPUT, ...options });
      expect(signatureBytes(signature)).toHaveLength(256);
      expect(verify(hash, input, nodeKey, signatureBytes(signature)), JSON.stringify(options)).toBe(true);
      expect(await verifies("rsa", { input: INPUT, signature, ...options })).toBe(true);
      expect(await verifies("rsa", { input: OTHER, signature, ...options })).toBe(false);
    }
    // PKCS #1 v1.5 is deterministic; PSS is salted.
    const pkcs = { input: INPUT, signature_algorithm: "pkcs1v15" };
    expect((await sign("rsa", pkcs)).signature).toBe((await sign("rsa", pkcs)).signature);
    expect((await sign("rsa", { input: INPUT })).signature).not.toBe(
      (await sign("rsa", { input: INPUT })).signature,
    );
  });

  it("RSA verifies as Vault does: any PSS salt by default, prehashed input, and hash_algorithm none", async () => {
    await createKey("rsa", { type: "rsa-2048" });
    const digest = createHash("sha256").update(Buffer.from(INPUT, "base64")).digest();
    const salted = (await sign("rsa", { input: INPUT, salt_length: "hash" })).signature;
    expect(await verifies("rsa", { input: INPUT, signature: salted })).toBe(true);
    expect(await verifies("rsa", { input: INPUT, signature: salted, salt_length: 32 })).toBe(true);
    expect(await verifies("rsa", { input: INPUT, signature: salted, salt_length: 33 })).toBe(false);
    // The input is the digest itself.
    const prehashed = { input: digest.toString("base64"), signature: salted, prehashed: true };
    expect(await verifies("rsa", prehashed)).toBe(true);
    expect(await verifies("rsa", { ...prehashed, input: INPUT })).toBe(false);
    // none: PKCS #1 v1.5 over the given bytes, without DigestInfo (Vault's PKCSv1_5_NoOID).
    const pkcs = (await sign("rsa", { input: INPUT, signature_algorithm: "pkcs1v15" })).signature;
    const digestInfo = Buffer.concat([Buffer.from("3031300d060960864801650304020105000420", "hex"), digest]);
    const none = {
      signature: pkcs,
      hash_algorithm: "none",
      prehashed: true,
      signature_algorithm: "pkcs1v15",
    };
    expect(await verifies("rsa", { ...none, input: digestInfo.toString("base64") })).toBe(true);
    expect(await verifies("rsa", { ...none, input: digest.toString("base64") })).toBe(false);
  });

  it("a derived Ed25519 key signs with the key of each context, returns it, and shows it when read with that context", async () => {
    await createKey("tenant", { type: "ed25519", derived: true });
    const read = await dataOf(h, "GET", "transit/keys/tenant");
    expect(read).toMatchObject({ derived: true, kdf: "hkdf_sha256", convergent_encryption: false });
    expect(read.keys["1"].public_key).toBe("");

    const abcd = b64("abcd");
    const first = await sign("tenant", { input: INPUT, context: abcd });
    expect(first).toEqual({ signature: expect.any(String), key_version: 1, public_key: expect.any(String) });
    expect(await sign("tenant", { input: INPUT, context: abcd })).toEqual(first);
    const other = await sign("tenant", { input: INPUT, context: b64("efgh") });
    expect(other.public_key).not.toBe(first.public_key);

    const key = ed25519Key(first.public_key);
    expect(verify(null, Buffer.from(INPUT, "base64"), key, signatureBytes(first.signature))).toBe(true);
    expect((await publicKeyOf("tenant", 1, abcd)).export({ format: "jwk" })).toEqual(
      key.export({ format: "jwk" }),
    );
    expect(await verifies("tenant", { input: INPUT, signature: first.signature, context: abcd })).toBe(true);
    expect(await verifies("tenant", { input: INPUT, signature: first.signature, context: b64("efgh") })).toBe(
      false,
    );

    const missing =
      "error deriving key: missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";
    await expectRefusal(h, "POST", "transit/sign/tenant", { input: INPUT }, missing);
    await expectRefusal(
      h,
      "POST",
      "transit/verify/tenant",
      { input: INPUT, signature: first.signature },
      missing,
    );
  });

  it("signs the empty input when a single request has none, as Vault does", async () => {
    await createKey("ed", { type: "ed25519" });
    const { signature } = await sign("ed", {});
    expect(verify(null, Buffer.alloc(0), await publicKeyOf("ed"), signatureBytes(signature))).toBe(true);
    expect(await verifies("ed", { signature })).toBe(true);
  });
});

describe("batch_input", () => {
  it("signs each item on its own, failed items included, and answers 200 with references", async () => {
    await createKey("ec", { type: "ecdsa-p256" });
    const reply = await h.call("POST", "transit/sign/ec", {
      batch_input: [
        { input: INPUT, reference: "one" },
        { reference: "two" },
        { input: ":;.?", reference: "three" },
        {},
      ],
    });
    expect(reply.status).toBe(200);
    const [one, two, three, four] = reply.body.data.batch_results;
    expect(one).toEqual({ signature: expect.stringMatching(/^vault:v1:/), key_version: 1, reference: "one" });
    expect(two).toEqual({ error: "missing input", key_version: 0, reference: "two" });
    expect(three).toEqual({
      error: "unable to decode input as base64: illegal base64 data at input byte 0",
      key_version: 0,
      reference: "three",
    });
    expect(four).toEqual({ error: "missing input", key_version: 0, reference: "" });

    const verified = await h.call("POST", "transit/verify/ec", {
      batch_input: [
        { input: INPUT, signature: one.signature, reference: "good" },
        { input: OTHER, signature: one.signature, reference: "other input" },
        { input: INPUT, signature: "vault:v7:AAAA", reference: "too new" },
        { signature: one.signature },
      ],
    });
    expect(verified.status).toBe(200);
    expect(verified.body.data.batch_results).toEqual([
      { valid: true, reference: "good" },
      { valid: false, reference: "other input" },
      { valid: false, error: "invalid signature: version is too new", reference: "too new" },
      { valid: false, error: "missing input", reference: "" },
    ]);
  });

  it("a derived Ed25519 key returns each item's public key as `publickey`", async () => {
    await createKey("tenant", { type: "ed25519", derived: true });
    const { batch_results: results } = await dataOf(h, "POST", "transit/sign/tenant", {
      batch_input: [
        { input: INPUT, context: b64("abcd") },
        { input: INPUT, context: b64("efgh") },
      ],
    });
    expect(results).toHaveLength(2);
    for (const [index, context] of ["abcd", "efgh"].entries()) {
      const result = results[index];
      expect(Object.keys(result).sort()).toEqual(["key_version", "publickey", "reference", "signature"]);
      expect(
        verify(
          null,
          Buffer.from(INPUT, "base64"),
          ed25519Key(result.publickey),
          signatureBytes(result.signature),
        ),
      ).toBe(true);
      expect(
        await verifies("tenant", { input: INPUT, signature: result.signature, context: b64(context) }),
      ).toBe(true);
    }
  });
});

describe("key versions", () => {
  it("rotation, key_version, min_encryption_version and min_decryption_version apply to signing as in Vault", async () => {
    await createKey("ec", { type: "ecdsa-p256" });
    const v1 = await sign("ec", { input: INPUT });
    await dataOf(h, "POST", "transit/keys/ec/rotate");
    const v2 = await sign("ec", { input: INPUT });
    expect(v2.key_version).toBe(2);
    expect(v2.signature).toMatch(/^vault:v2:/);
    const read = await dataOf(h, "GET", "transit/keys/ec");
    expect(read.keys["1"].public_key).not.toBe(read.keys["2"].public_key);
    // Each version verifies with its own public key only.
    const input = Buffer.from(INPUT, "base64");
    expect(verify("sha256", input, await publicKeyOf("ec", 2), signatureBytes(v2.signature))).toBe(true);
    expect(verify("sha256", input, await publicKeyOf("ec", 1), signatureBytes(v2.signature))).toBe(false);
    const old = await sign("ec", { input: INPUT, key_version: 1 });
    expect(old.key_version).toBe(1);
    expect(verify("sha256", input, await publicKeyOf("ec", 1), signatureBytes(old.signature))).toBe(true);
    for (const { signature } of [v1, v2, old])
      expect(await verifies("ec", { input: INPUT, signature })).toBe(true);

    const at = (key_version: number) => ({ input: INPUT, key_version });
    await expectRefusal(
      h,
      "POST",
      "transit/sign/ec",
      at(3),
      "requested version for signing is higher than the latest key version",
    );
    await expectRefusal(h, "POST", "transit/sign/ec", at(-1), "requested version for signing is negative");

    await dataOf(h, "POST", "transit/keys/ec/config", { min_encryption_version: 2 });
    await expectRefusal(
      h,
      "POST",
      "transit/sign/ec",
      at(1),
      "requested version for signing is less than the minimum encryption key version",
    );
    expect(await verifies("ec", { input: INPUT, signature: v1.signature })).toBe(true);

    await dataOf(h, "POST", "transit/keys/ec/config", {
      min_encryption_version: 0,
      min_decryption_version: 2,
    });
    const tooOld = "ciphertext or signature version is disallowed by policy (too old)";
    await expectRefusal(h, "POST", "transit/verify/ec", { input: INPUT, signature: v1.signature }, tooOld);
    expect(await verifies("ec", { input: INPUT, signature: v2.signature })).toBe(true);
    // Versions below min_decryption_version are out of Vault's working set: not shown, not used.
    expect(Object.keys((await dataOf(h, "GET", "transit/keys/ec")).keys)).toEqual(["2"]);
    await expectRefusal(h, "POST", "transit/sign/ec", at(1), "no such key version");

    await dataOf(h, "POST", "transit/keys/ec/config", { min_encryption_version: 2 });
    await dataOf(h, "POST", "transit/keys/ec/trim", { min_available_version: 2 });
    await expectRefusal(h, "POST", "transit/verify/ec", { input: INPUT, signature: v1.signature }, tooOld);
    expect(await verifies("ec", { input: INPUT, signature: v2.signature })).toBe(true);
  });

  it("a signing key rotates automatically with auto_rotate_period, each version with its own key pair", async () => {
    await createKey("ed", { type: "ed25519", auto_rotate_period: "1h" });
    h.clock.advance(3600_000);
    await runPeriodicWork(h.broker, { deadline: Number.POSITIVE_INFINITY });
    const read = await dataOf(h, "GET", "transit/keys/ed");
    expect(read.latest_version).toBe(2);
    expect(read.keys["2"].public_key).not.toBe(read.keys["1"].public_key);
    const { signature } = await sign("ed", { input: INPUT });
    expect(signature).toMatch(/^vault:v2:/);
    expect(
      verify(null, Buffer.from(INPUT, "base64"), await publicKeyOf("ed", 2), signatureBytes(signature)),
    ).toBe(true);
  });
});
