/**
 * The pieces of transit signing and HMACs checked against known outputs: Vault's own test
 * vectors (builtin/logical/transit/path_hmac_test.go and path_sign_verify_test.go, where
 * Vault sets a key it controls), Go's base64 error offsets, and RSA verification against
 * signatures node:crypto (OpenSSL) makes.
 */
import { constants, createHash, generateKeyPairSync, privateEncrypt, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  derToP1363,
  jwsToP1363,
  p1363ToDer,
  UNVERIFIABLE,
} from "../../../shared/engines/transit/ecdsa-signature.ts";
import { decodeGoBase64 } from "../../../shared/engines/transit/go-base64.ts";
import { HASH_ALGORITHMS, hashAlgorithm, hmacOf } from "../../../shared/engines/transit/hash-algorithms.ts";
import {
  rsaPublicKeyFromJwk,
  SALT_AUTO,
  SALT_EQUALS_HASH,
  verifyPkcs1v15,
  verifyPss,
} from "../../../shared/engines/transit/rsa-verify.ts";
import { splitVersioned } from "../../../shared/engines/transit/versioned-text.ts";

const FOX = Buffer.from("the quick brown fox");

describe("HMAC", () => {
  it("matches Vault's test vectors for its fixed HMAC keys", () => {
    const key = Buffer.from("01234567890123456789012345678901");
    const vault = {
      "sha2-256": "UcBvm5VskkukzZHlPgm3p5P/Yr/PV6xpuOGZISya3A4=",
      "sha2-224": "3p+ZWVquYDvu2dSTCa65Y3fgoMfIAc6fNaBbtg==",
      "sha2-384": "jDB9YXdPjpmr29b1JCIEJO93IydlKVfD9mA2EO9OmJtJQg3QAV5tcRRRb7IQGW9p",
      "sha2-512": "PSXLXvkvKF4CpU65e2bK1tGBZQpcpCEM32fq2iUoiTyQQCfBcGJJItQ+60tMwWXAPQrC290AzTrNJucGrr4GFA==",
      "sha3-224": "TGipmKH8LR/BkMolYpDYy0BJCIhTtGPDhV2VkQ==",
      "sha3-256": "+px9V/7QYLfdK808zPESC2T/L33uFf4Blzsn9Jy838o=",
      "sha3-384": "YGoRwN4UdTRYZeOER86jsQOB8piWenzLDzJ2wJQK/Jq59rAsY8lh7SCdqqCyFg70",
      "sha3-512": "GrNA8sU88naMPEQ7UZGj9EJl7YJhl03AFHfxcEURFrtvnobdea9ZlZHePpxAx/oCaC7R2HkrAO+Tu3uXPIl3lg==",
    };
    for (const [name, expected] of Object.entries(vault)) {
      expect(Buffer.from(hmacOf(hashAlgorithm(name)!, key, FOX)).toString("base64"), name).toBe(expected);
    }
    const empty = Buffer.from(hmacOf(hashAlgorithm("sha2-256")!, key, new Uint8Array(0))).toString("base64");
    expect(empty).toBe("BCfVv6rlnRsIKpjCZCxWvh5iYwSSabRXpX9XJniuNgc=");
    const rotated = Buffer.from("12345678901234567890123456789012");
    expect(Buffer.from(hmacOf(hashAlgorithm("sha2-256")!, rotated, FOX)).toString("base64")).toBe(
      "Dt+mO/B93kuWUbGMMobwUNX5Wodr6dL3JH4DMfpQ0kw=",
    );
  });
});

describe("ECDSA signatures", () => {
  // Vault's P-256 test key and a signature OpenSSL made with it over "the quick brown fox".
  const x = "7336010a6da5935113d26d9ea4bb61b3b8d102c9a8083ed432f9b58fd7e80686";
  const y = "4040aa31864691a8a9e7e3ec9250e85425b797ad7be34ba8df62bfbad45ebb0e";
  const signature =
    "MEUCIAgnEl9V8P305EBAlz68Nq4jZng5fE8k6MactcnlUw9dAiEAvJVePg3dazW6MaW7lRAVtEz82QJDVmR98tXCl8Pc7DA=";

  it("verifies the signature from Vault's tests, read from its DER", async () => {
    const key = await crypto.subtle.importKey(
      "jwk",
      {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(x, "hex").toString("base64url"),
        y: Buffer.from(y, "hex").toString("base64url"),
      },
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const der = Buffer.from(signature, "base64");
    const fixed = derToP1363(der, 32);
    expect(fixed).not.toBe(UNVERIFIABLE);
    const raw = fixed as Uint8Array<ArrayBuffer>;
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, FOX)).toBe(true);
    expect(
      await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, Buffer.from("the quick")),
    ).toBe(false);
    // And back: DER as Go writes it, byte for byte.
    expect(Buffer.from(p1363ToDer(raw))).toEqual(der);
    // Vault's JWS reading takes the halves as numbers, whatever their length.
    expect(jwsToP1363(raw, 32)).toEqual(raw);
    expect(jwsToP1363(raw.subarray(1), 32)).not.toEqual(raw);
  });

  it("writes DER as Go does for every size of r and s: minimal, with a zero byte before a set high bit, long lengths for P-521", () => {
    const cases = [
      { size: 32, r: "01", s: "7f" },
      { size: 32, r: "80", s: "ff" },
      { size: 66, r: "01ff", s: "01" },
    ];
    for (const { size, r, s } of cases) {
      const raw = new Uint8Array(2 * size);
      raw.set(Buffer.from(r, "hex"), size - r.length / 2);
      raw.set(Buffer.from(s, "hex"), 2 * size - s.length / 2);
      const der = p1363ToDer(raw);
      expect(derToP1363(der, size)).toEqual(raw);
    }
    expect(Buffer.from(p1363ToDer(new Uint8Array(64).fill(0xff))).subarray(0, 4)).toEqual(
      Buffer.from([0x30, 0x46, 0x02, 0x21]),
    );
    const p521 = p1363ToDer(new Uint8Array(132).fill(0x01));
    expect(Buffer.from(p521).subarray(0, 3)).toEqual(Buffer.from([0x30, 0x81, 0x88]));
  });
});

describe("Go's base64", () => {
  it("decodes as Go's StdEncoding does, ignoring line breaks and trailing bits", () => {
    const decoded = (text: string) => {
      const result = decodeGoBase64(text);
      return "bytes" in result ? Buffer.from(result.bytes).toString("hex") : result.corruptAt;
    };
    expect(decoded("QUJDRA==")).toBe("41424344");
    expect(decoded("QUJD\r\nRA==")).toBe("41424344");
    expect(decoded("")).toBe("");
    // Vault's documented sample input has non-zero trailing bits; Go ignores them.
    expect(decoded("adba32==")).toBe("69d6dadf");
    expect(decoded("foobar")).toBe(4);
    expect(decoded(":;.?")).toBe(0);
    expect(decoded("QUJDRA=")).toBe(7);
    expect(decoded("QUJDRA==x")).toBe(8);
    expect(decoded("Q===")).toBe(1);
    expect(decoded("QUJD-A==")).toBe(4);
    expect(decoded("QUJDRA")).toBe(4);
  });

  it("decodes as Go's RawURLEncoding does for JWS: URL alphabet, no padding", () => {
    const decoded = (text: string) => {
      const result = decodeGoBase64(text, "rawurl");
      return "bytes" in result ? Buffer.from(result.bytes).toString("hex") : result.corruptAt;
    };
    expect(decoded("QUJDRA")).toBe("41424344");
    expect(decoded("-_8")).toBe("fbff");
    expect(decoded("QUJDRA==")).toBe(6);
    expect(decoded("Q")).toBe(0);
    expect(decoded("QUJD+A")).toBe(4);
  });

  it("splits vault:v<N>: as Vault does, Go's Atoi included", () => {
    expect(splitVersioned("vault:v12:a:b")).toEqual({ version: 12, payload: "a:b" });
    expect(splitVersioned("vault:v+2:x")).toEqual({ version: 2, payload: "x" });
    expect(splitVersioned("vault:v-1:x")).toEqual({ version: -1, payload: "x" });
    expect(splitVersioned("vault:2:x")).toEqual({ problem: "no prefix" });
    expect(splitVersioned("vault:v2")).toEqual({ problem: "wrong number of fields" });
    expect(splitVersioned("vault:v:x")).toEqual({ problem: "version" });
    expect(splitVersioned("vault:v99999999999999999999:x")).toEqual({ problem: "version" });
  });
});

describe("RSA verification", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = rsaPublicKeyFromJwk(publicKey.export({ format: "jwk" }));
  const digestOf = (name: string) => {
    const algorithm = HASH_ALGORITHMS[name]!;
    return { algorithm, digest: algorithm.hash(FOX) };
  };

  it("PKCS #1 v1.5 with every hash Vault names, as OpenSSL signs it", () => {
    const node = {
      sha1: "sha1",
      "sha2-224": "sha224",
      "sha2-256": "sha256",
      "sha2-384": "sha384",
      "sha2-512": "sha512",
      "sha3-256": "sha3-256",
      "sha3-512": "sha3-512",
    };
    for (const [name, nodeName] of Object.entries(node)) {
      const signature = sign(nodeName, FOX, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
      const { algorithm, digest } = digestOf(name);
      expect(verifyPkcs1v15(key, algorithm, digest, signature), name).toBe(true);
      expect(verifyPkcs1v15(key, algorithm, createHash(nodeName).update("other").digest(), signature)).toBe(
        false,
      );
      const other = digestOf(name === "sha1" ? "sha2-256" : "sha1");
      expect(verifyPkcs1v15(key, other.algorithm, other.digest, signature)).toBe(false);
    }
  });

  it("PKCS #1 v1.5 without DigestInfo (hash none), as OpenSSL's raw private operation makes it", () => {
    const data = Buffer.from("any bytes at all");
    const signature = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, data);
    expect(verifyPkcs1v15(key, undefined, data, signature)).toBe(true);
    expect(verifyPkcs1v15(key, undefined, Buffer.from("other bytes"), signature)).toBe(false);
  });

  it("PSS with the salt length given, the hash's, or any (auto)", () => {
    for (const [name, nodeName] of [
      ["sha2-256", "sha256"],
      ["sha2-512", "sha512"],
      ["sha3-256", "sha3-256"],
    ] as const) {
      const { algorithm, digest } = digestOf(name);
      const max = 256 - 2 - algorithm.size;
      for (const salt of [0, 20, algorithm.size, max]) {
        const signature = sign(nodeName, FOX, {
          key: privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: salt,
        });
        expect(verifyPss(key, algorithm, digest, signature, SALT_AUTO), `${name} salt ${salt}`).toBe(true);
        if (salt > 0) expect(verifyPss(key, algorithm, digest, signature, salt)).toBe(true);
        expect(verifyPss(key, algorithm, digest, signature, salt + 1)).toBe(false);
        expect(verifyPss(key, algorithm, digest, signature, SALT_EQUALS_HASH)).toBe(salt === algorithm.size);
        const flipped = Buffer.from(signature);
        flipped[100]! ^= 1;
        expect(verifyPss(key, algorithm, digest, flipped, SALT_AUTO)).toBe(false);
      }
    }
  });
});
