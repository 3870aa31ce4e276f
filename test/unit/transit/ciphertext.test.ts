import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeBase64,
  decryptBytes,
  encryptBytes,
  formatCiphertext,
  parseCiphertext,
} from "../../../shared/engines/transit/ciphertext.ts";
import { CofferError } from "../../../shared/errors.ts";

const key = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CofferError);
    expect((error as CofferError).code).toBe("ERR_INVALID_REQUEST");
    return (error as CofferError).message;
  }
  throw new Error("expected a refusal");
}

describe("transit ciphertext", () => {
  it("formats and parses any version and payload", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 64 }),
        (version, bytes) => {
          const parsed = parseCiphertext(formatCiphertext(version, bytes));
          expect(parsed.version).toBe(version);
          expect(Buffer.from(parsed.bytes).equals(Buffer.from(bytes))).toBe(true);
        },
      ),
    );
  });

  it("refuses malformed text with Vault's messages", () => {
    expect(refusal(() => parseCiphertext("v1:AAAA"))).toBe("invalid ciphertext: no prefix");
    expect(refusal(() => parseCiphertext("vault:"))).toBe("invalid ciphertext: wrong number of fields");
    for (const version of ["v", "1", "v-1", "v1.5", "v0", "v99999999999", "V1"]) {
      expect(refusal(() => parseCiphertext(`vault:${version}:AAAA`))).toBe(
        "invalid ciphertext: version number could not be decoded",
      );
    }
    for (const payload of ["AAA", "A===", "AA AA", "AAAA:", "ÄÄÄÄ"]) {
      expect(refusal(() => parseCiphertext(`vault:v1:${payload}`))).toBe(
        "invalid ciphertext: could not decode base64",
      );
    }
  });

  it("never throws anything but a 400 on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseCiphertext(text);
        } catch (error) {
          expect((error as CofferError).code).toBe("ERR_INVALID_REQUEST");
        }
      }),
    );
  });

  it("reads base64 as Vault does: padded, line breaks ignored", () => {
    expect(decodeBase64("aGVs\nbG8=")).toEqual(new Uint8Array(Buffer.from("hello")));
    expect(decodeBase64("aGVsbG8")).toBeUndefined();
    expect(decodeBase64("")).toEqual(new Uint8Array(0));
  });

  it("seals with a fresh nonce, authenticates associated data, refuses short or altered bytes", async () => {
    const k = await key();
    const plaintext = new TextEncoder().encode("secret");
    const aad = new TextEncoder().encode("aad");
    const a = await encryptBytes(k, plaintext, aad);
    const b = await encryptBytes(k, plaintext, aad);
    expect(a.length).toBe(12 + plaintext.length + 16);
    expect(Buffer.from(a.subarray(0, 12)).equals(Buffer.from(b.subarray(0, 12)))).toBe(false);
    expect(await decryptBytes(k, a, aad)).toEqual(plaintext);
    await expect(decryptBytes(k, a, new Uint8Array(0))).rejects.toThrow(
      "invalid ciphertext: unable to decrypt",
    );
    await expect(decryptBytes(k, a.subarray(0, 27), aad)).rejects.toThrow(
      "invalid ciphertext: unable to decrypt",
    );
    const altered = a.slice();
    altered[14]! ^= 1;
    await expect(decryptBytes(k, altered, aad)).rejects.toThrow("invalid ciphertext: unable to decrypt");
    await expect(decryptBytes(await key(), a, aad)).rejects.toThrow("invalid ciphertext: unable to decrypt");
  });
});
