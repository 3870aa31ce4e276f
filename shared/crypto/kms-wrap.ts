/**
 * A KeyWrapper on KMS: Encrypt with the encryption context, for a data key the operator
 * already holds (import takes over an archive's keyring under the target's root key).
 * Apart from kms.ts so the functions' bundles hold no EncryptCommand: their roles may not
 * call kms:Encrypt, and a build test matches the commands a bundle sends with its grants.
 */
import { EncryptCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { EncryptionContext, KeyWrapper } from "./key-provider.ts";
import { mapKmsError } from "./kms.ts";

export function createKmsKeyWrapper(options: { client: KMSClient; keyId: string }): KeyWrapper {
  return {
    async wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
      try {
        const output = await options.client.send(
          new EncryptCommand({
            KeyId: options.keyId,
            Plaintext: plaintext,
            EncryptionContext: { ...context },
          }),
        );
        if (!output.CiphertextBlob?.length) throw new Error("KMS Encrypt returned no ciphertext");
        return output.CiphertextBlob;
      } catch (error) {
        throw mapKmsError(error);
      }
    },
  };
}
