/**
 * The stored envelope: how every secret value is encrypted at rest.
 *
 *   format (1 byte, 0x01) | keyring version (uint32 BE) | salt (16) | nonce (12) | ciphertext + tag (16)
 *
 * Each object gets its own AES-256-GCM key, HKDF-SHA256(keyring key, salt, "coffer/object/v1"),
 * so nonces never repeat under one key however many objects a keyring version seals. The
 * AAD is the header plus the canonical encoding of the binding (where the object lives:
 * mount, path, version, purpose), so an envelope copied onto another item, or with its
 * header edited, fails to open instead of leaking.
 *
 * Every way an envelope can be wrong is one error, ERR_DECRYPT_FAILED, whose message
 * names the reason but never key material or plaintext. Provider failures (KMS throttled
 * or disabled) pass through as they are: they say nothing about the envelope.
 */
import { CofferError } from "../errors.ts";
import { canonicalEncode, concatBytes, ownBytes } from "./encoding.ts";
import type { Keyring } from "./keyring.ts";

export type Binding = Readonly<Record<string, string>>;

const FORMAT_V1 = 0x01;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + 4 + SALT_BYTES + NONCE_BYTES;
const OBJECT_KEY_INFO = new TextEncoder().encode("coffer/object/v1");

/** Envelope size minus plaintext size, for callers that enforce item size limits. */
export const ENVELOPE_OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;

export async function seal(keyring: Keyring, plaintext: Uint8Array, binding: Binding): Promise<Uint8Array> {
  const { version, key } = await keyring.current();
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header[0] = FORMAT_V1;
  view.setUint32(1, version);
  crypto.getRandomValues(header.subarray(5, HEADER_BYTES));
  const { salt, nonce } = splitHeader(header);
  const sealed = await keyring.symmetric.seal(
    { baseKey: key, salt, info: OBJECT_KEY_INFO },
    { nonce, additionalData: concatBytes(header, canonicalEncode(binding)) },
    plaintext,
  );
  return concatBytes(header, sealed);
}

export async function open(keyring: Keyring, envelope: Uint8Array, binding: Binding): Promise<Uint8Array> {
  if (envelope.length < ENVELOPE_OVERHEAD_BYTES) throw failed("envelope is truncated");
  const bytes = ownBytes(envelope);
  if (bytes[0] !== FORMAT_V1) throw failed("unknown envelope format");
  const version = new DataView(bytes.buffer).getUint32(1);
  const header = bytes.subarray(0, HEADER_BYTES);
  const { salt, nonce } = splitHeader(header);
  // Unknown versions already fail with ERR_DECRYPT_FAILED inside the keyring.
  const baseKey = await keyring.get(version);
  try {
    return await keyring.symmetric.open(
      { baseKey, salt, info: OBJECT_KEY_INFO },
      { nonce, additionalData: concatBytes(header, canonicalEncode(binding)) },
      bytes.subarray(HEADER_BYTES),
    );
  } catch {
    throw failed("envelope does not authenticate (tampered, or bound to another item)");
  }
}

function splitHeader(header: Uint8Array<ArrayBuffer>) {
  return { salt: header.subarray(5, 5 + SALT_BYTES), nonce: header.subarray(5 + SALT_BYTES, HEADER_BYTES) };
}

function failed(reason: string): CofferError {
  return new CofferError("ERR_DECRYPT_FAILED", `cannot decrypt: ${reason}`);
}
