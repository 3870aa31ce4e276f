/**
 * A KeyProvider backed by an AWS KMS symmetric key (production). KMS binds the encryption
 * context to the ciphertext blob and checks it on Decrypt, and Decrypt names the expected
 * KeyId so a blob made under some other key is refused rather than silently accepted.
 *
 * The client is handed in (the edge configures region, endpoint and retries); the SDK's
 * own retries run first, and whatever still fails is mapped to a CofferError here.
 */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { CofferError } from "../errors.ts";
import type { DataKey, EncryptionContext, KeyProvider } from "./key-provider.ts";
import type { SymmetricCrypto } from "./symmetric.ts";

const KEY_BYTES = 32;
// KMS's documented bounds on CiphertextBlob; outside them it answers ValidationException,
// which would otherwise look like an upstream fault rather than a bad blob.
const MAX_CIPHERTEXT_BYTES = 6144;

const NOT_DECRYPTABLE = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);

/** The key itself cannot be used: the operator disabled it, scheduled its deletion, or revoked our access. */
const KEY_UNUSABLE = new Set([
  "DisabledException",
  "KMSInvalidStateException",
  "AccessDeniedException",
  "NotFoundException",
  "InvalidKeyUsageException",
  "UnrecognizedClientException",
]);

export function createKmsKeyProvider(options: {
  client: KMSClient;
  keyId: string;
  /** See KeyProvider.symmetric. */
  symmetric?: SymmetricCrypto;
}): KeyProvider {
  const { client, keyId } = options;

  return {
    kind: "kms",
    symmetric: options.symmetric,

    async generateDataKey(context: EncryptionContext): Promise<DataKey> {
      const output = await send(() =>
        client.send(
          new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256", EncryptionContext: { ...context } }),
        ),
      );
      if (output.Plaintext?.length !== KEY_BYTES || !output.CiphertextBlob?.length) {
        throw new CofferError(
          "ERR_UPSTREAM_UNAVAILABLE",
          "KMS GenerateDataKey returned an incomplete answer",
        );
      }
      return { plaintext: output.Plaintext, wrapped: output.CiphertextBlob };
    },

    async unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
      if (wrapped.length === 0 || wrapped.length > MAX_CIPHERTEXT_BYTES) throw notDecryptable();
      const output = await send(() =>
        client.send(
          new DecryptCommand({ KeyId: keyId, CiphertextBlob: wrapped, EncryptionContext: { ...context } }),
        ),
      );
      // Fail closed on a data key of the wrong shape rather than hand it to the cipher.
      if (output.Plaintext?.length !== KEY_BYTES) throw notDecryptable();
      return output.Plaintext;
    },
  };
}

async function send<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mapKmsError(error);
  }
}

/** A KMS failure as the broker reports it: a key that does not decrypt, a key unusable, or KMS unavailable. */
export function mapKmsError(error: unknown): CofferError {
  const name = error instanceof Error ? error.name : "UnknownError";
  if (NOT_DECRYPTABLE.has(name)) {
    return new CofferError("ERR_DECRYPT_FAILED", `KMS refused to decrypt the data key (${name})`, [], {
      cause: error,
    });
  }
  if (KEY_UNUSABLE.has(name)) {
    // Crypto-shredding: a disabled or inaccessible root key must stop every read.
    return new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `the KMS root key is disabled or not accessible (${name})`,
      [],
      { cause: error },
    );
  }
  // Throttling, KMSInternalException, 5xx, timeouts and network failures: all transient
  // from the caller's point of view, and all fail closed.
  return new CofferError("ERR_UPSTREAM_UNAVAILABLE", `KMS is unavailable (${name})`, [], { cause: error });
}

function notDecryptable(): CofferError {
  return new CofferError("ERR_DECRYPT_FAILED", "KMS refused to decrypt the data key (malformed blob)");
}
