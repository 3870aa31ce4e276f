/**
 * The root of the key hierarchy: something that hands out 256-bit data keys and only ever
 * lets the broker keep them wrapped. Adapters: kms.ts (AWS KMS, production) and local.ts
 * (a local root key, for `coffer dev`). Both pass test/contract/key-provider.
 *
 * The encryption context is bound to the wrapped key: unwrapping with a different context
 * fails, so a wrapped key copied to another purpose is useless.
 */
import type { SymmetricCrypto } from "./symmetric.ts";

export type EncryptionContext = Readonly<Record<string, string>>;

export interface DataKey {
  /** 32 bytes. Callers keep it in memory only. */
  plaintext: Uint8Array;
  /** Opaque; safe to store. */
  wrapped: Uint8Array;
}

export interface KeyProvider {
  /** A short label for logs and `sys/health`, e.g. "kms" or "local". */
  readonly kind: string;
  /**
   * The symmetric cryptography done with the keys it hands out (symmetric.ts): Web Crypto
   * unless the edge that builds the provider picks another for its runtime.
   */
  readonly symmetric?: SymmetricCrypto;
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  /** Throws CofferError ERR_DECRYPT_FAILED when the blob or context does not match. */
  unwrap(wrapped: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}

/**
 * Wraps a data key the caller already holds, so another provider's keyring can be taken
 * over (operator import). Kept off KeyProvider: the functions never wrap a key they hold,
 * and their KMS permissions do not include kms:Encrypt. Adapters: local.ts, kms-wrap.ts.
 */
export interface KeyWrapper {
  wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}
