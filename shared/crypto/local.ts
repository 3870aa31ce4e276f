/**
 * A KeyProvider backed by a 32-byte root key held in memory (`coffer dev`). It mirrors
 * what KMS does: data keys are random, wrapped with AES-256-GCM under the root key, and
 * the encryption context is authenticated, so a blob only unwraps for the context it was
 * made for.
 *
 * Wrapped blob: format byte (0x01) | nonce (12 bytes) | ciphertext + tag (32 + 16 bytes).
 * AAD: the format byte followed by the canonical encoding of the context.
 */
import { CofferError } from "../errors.ts";
import { canonicalEncode, concatBytes, ownBytes } from "./encoding.ts";
import type { DataKey, EncryptionContext, KeyProvider, KeyWrapper } from "./key-provider.ts";
import type { SymmetricCrypto } from "./symmetric.ts";

const FORMAT = 0x01;
const NONCE_BYTES = 12;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
const WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

export function createLocalKeyProvider(
  rootKey: Uint8Array,
  options: { symmetric?: SymmetricCrypto } = {},
): KeyProvider & KeyWrapper {
  if (rootKey.length !== KEY_BYTES) {
    throw new CofferError("ERR_INTERNAL", `local root key must be ${KEY_BYTES} bytes, got ${rootKey.length}`);
  }
  // importKey copies the bytes before it returns, so later changes to rootKey do not leak in.
  const wrappingKey = crypto.subtle.importKey("raw", ownBytes(rootKey), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const aad = (context: EncryptionContext) => concatBytes(Uint8Array.of(FORMAT), canonicalEncode(context));

  async function wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    if (plaintext.length !== KEY_BYTES) {
      throw new CofferError("ERR_INTERNAL", `a data key is ${KEY_BYTES} bytes, got ${plaintext.length}`);
    }
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(context) },
      await wrappingKey,
      ownBytes(plaintext),
    );
    return concatBytes(Uint8Array.of(FORMAT), nonce, new Uint8Array(sealed));
  }

  return {
    kind: "local",
    symmetric: options.symmetric,

    async generateDataKey(context: EncryptionContext): Promise<DataKey> {
      const plaintext = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
      return { plaintext, wrapped: await wrap(plaintext, context) };
    },

    wrap,

    async unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
      // Fixed size: anything else is not one of our blobs, and checking first keeps
      // garbage away from the cipher.
      if (wrapped.length !== WRAPPED_BYTES || wrapped[0] !== FORMAT) throw unwrapFailed();
      const blob = ownBytes(wrapped);
      let plaintext: ArrayBuffer;
      try {
        plaintext = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: blob.subarray(1, 1 + NONCE_BYTES), additionalData: aad(context) },
          await wrappingKey,
          blob.subarray(1 + NONCE_BYTES),
        );
      } catch {
        // The only way decrypt fails here is authentication; the cause says nothing useful.
        throw unwrapFailed();
      }
      return new Uint8Array(plaintext);
    },
  };
}

function unwrapFailed(): CofferError {
  return new CofferError(
    "ERR_DECRYPT_FAILED",
    "data key does not unwrap under the local root key (wrong key, wrong context, or tampered)",
  );
}
