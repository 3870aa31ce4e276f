/**
 * What the baselines decrypt: the bench secret sealed as the broker seals a KV version
 * (AES-256-GCM, 96-bit nonce, additional data = the envelope header plus the canonical
 * binding), under an object key the baselines hold already, as the broker holds its
 * derived keys after the first read. Same plaintext, same sizes, same cipher: the
 * decryption a read cannot do without.
 */
import { createDecipheriv } from "node:crypto";
import { canonicalEncode, concatBytes } from "../../shared/crypto/encoding.ts";

const HEADER_BYTES = 1 + 4 + 16 + 12;
const TAG_BYTES = 16;

export interface BaselineEnvelope {
  /** The object key for Web Crypto. */
  key: CryptoKey;
  /** The same key's bytes, for node:crypto. */
  rawKey: Uint8Array<ArrayBuffer>;
  nonce: Uint8Array<ArrayBuffer>;
  additionalData: Uint8Array<ArrayBuffer>;
  /** Ciphertext followed by the 16-byte tag, as Web Crypto returns it. */
  sealed: Uint8Array<ArrayBuffer>;
}

export async function baselineEnvelope(
  plaintext: Record<string, string>,
  binding: Record<string, string>,
): Promise<BaselineEnvelope> {
  const rawKey = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  const header = crypto.getRandomValues(new Uint8Array(HEADER_BYTES));
  const nonce = header.slice(HEADER_BYTES - 12);
  const additionalData = concatBytes(header, canonicalEncode(binding));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData },
      key,
      new TextEncoder().encode(JSON.stringify(plaintext)),
    ),
  );
  return { key, rawKey, nonce, additionalData, sealed };
}

/** The plaintext, through Web Crypto: AES-GCM on a worker thread, as edge runtimes do it. */
export async function decryptWithWebCrypto(envelope: BaselineEnvelope): Promise<Uint8Array> {
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: envelope.nonce, additionalData: envelope.additionalData },
    envelope.key,
    envelope.sealed,
  );
  return new Uint8Array(plaintext);
}

/** The plaintext, through node:crypto, synchronously: the cheapest decryption on Node. */
export function decryptWithNodeCrypto(envelope: BaselineEnvelope): Uint8Array {
  const { sealed } = envelope;
  const decipher = createDecipheriv("aes-256-gcm", envelope.rawKey, envelope.nonce);
  decipher.setAAD(envelope.additionalData);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}
