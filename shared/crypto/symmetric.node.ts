/**
 * The symmetric cryptography of symmetric.ts with node:crypto, for the Node edges (the
 * Lambda functions and `coffer dev`): synchronous HKDF, AES-256-GCM and HMAC in OpenSSL,
 * with no hop to a worker thread. Keyring keys stay non-extractable Web Crypto keys; a
 * KeyObject of each is made once and kept beside it, and derived keys are KeyObjects too,
 * so no key material is copied into JavaScript memory.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  KeyObject,
} from "node:crypto";
import { decryptionKeyCache, type HmacKey, type ObjectKeyInput, type SymmetricCrypto } from "./symmetric.ts";

const TAG_BYTES = 16;

const baseKeyObjects = new WeakMap<CryptoKey, KeyObject>();

function baseKeyObject(baseKey: CryptoKey): KeyObject {
  let key = baseKeyObjects.get(baseKey);
  if (!key) {
    key = KeyObject.from(baseKey);
    baseKeyObjects.set(baseKey, key);
  }
  return key;
}

function deriveAesKey(key: ObjectKeyInput): KeyObject {
  const derived = new Uint8Array(hkdfSync("sha256", baseKeyObject(key.baseKey), key.salt, key.info, 32));
  try {
    return createSecretKey(derived);
  } finally {
    derived.fill(0);
  }
}

const decryptionKey = decryptionKeyCache(deriveAesKey);

export const nodeSymmetricCrypto: SymmetricCrypto = {
  kind: "node",

  async seal(key, gcm, plaintext) {
    const cipher = createCipheriv("aes-256-gcm", deriveAesKey(key), gcm.nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(gcm.additionalData);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    const sealed = new Uint8Array(head.length + tail.length + TAG_BYTES);
    sealed.set(head, 0);
    sealed.set(tail, head.length);
    sealed.set(cipher.getAuthTag(), head.length + tail.length);
    return sealed;
  },

  async open(key, gcm, sealed) {
    if (sealed.length < TAG_BYTES) throw new Error("sealed data is shorter than its tag");
    const decipher = createDecipheriv("aes-256-gcm", decryptionKey(key), gcm.nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(gcm.additionalData);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      // Throws when the tag does not authenticate; what update() gave back is wiped then.
      const tail = decipher.final();
      const plaintext = new Uint8Array(head.length + tail.length);
      plaintext.set(head, 0);
      plaintext.set(tail, head.length);
      return plaintext;
    } finally {
      head.fill(0);
    }
  },

  hmacKey(raw): HmacKey {
    const key = createSecretKey(raw);
    return {
      bytes: (data) => new Uint8Array(createHmac("sha256", key).update(data).digest()),
      hex: (text) => createHmac("sha256", key).update(text, "utf8").digest("hex"),
    };
  },
};
