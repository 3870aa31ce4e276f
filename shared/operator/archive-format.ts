/**
 * The export archive: versioned, encrypted and integrity-protected as a whole.
 *
 *   "coffer-archive 1\n"            magic and format version
 *   <header JSON>\n                  archive id, time, what it holds, how it is sealed
 *   frames: u32 length | nonce(12) | AES-256-GCM ciphertext + tag
 *
 * The archive key is a random 256-bit key, sealed either to a passphrase (scrypt,
 * N=2^17, r=8, p=1, then AES-GCM over the key) or to a KMS key (a data key with the
 * encryption context {app: coffer, purpose: archive, archive: <id>}). Each frame's
 * additional data is SHA-256(magic + header) | frame index | last flag: a changed header,
 * a frame moved, dropped or replayed, or an archive cut at a frame boundary fails to
 * decrypt, and nothing from an archive is used before every frame has verified.
 *
 * A frame holds a JSON array of records. Item values keep their types through JSON:
 * maps become {"$m": {...}} and binary {"$b": "<base64>"}, so no stored map can be
 * mistaken for either.
 */
import { scrypt } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, fromBase64, ownBytes, toBase64 } from "../crypto/encoding.ts";
import type { KeyProvider } from "../crypto/key-provider.ts";
import { CofferError } from "../errors.ts";
import type { AttributeValue, Item } from "../store/item-store.ts";

export const ARCHIVE_FORMAT = 1;
const MAGIC = `coffer-archive ${ARCHIVE_FORMAT}\n`;
const NONCE_BYTES = 12;
const KEY_BYTES = 32;
/** Records per frame: frames stay well under a megabyte for ordinary items. */
export const RECORDS_PER_FRAME = 500;
/** scrypt's cost: about two seconds (2.2 s measured on 2 cores) and 128 MiB, once per export or import. */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;

export type Sealing =
  | { kind: "passphrase"; passphrase: string }
  | { kind: "kms"; keyId: string; provider: KeyProvider };

export interface ArchiveHeader {
  format: number;
  archive_id: string;
  created_at: string;
  /** What the archive holds besides configuration and secrets. */
  contents: { tokens: boolean; leases: boolean };
  sealed:
    | { kind: "passphrase"; kdf: "scrypt"; N: number; r: number; p: number; salt: string; key: string }
    | { kind: "kms"; key_id: string; key: string };
}

export type ArchiveRecord = { keyring: { version: number; key: string } } | { item: Record<string, unknown> };

export const archiveContext = (archiveId: string) => ({
  app: "coffer",
  purpose: "archive",
  archive: archiveId,
});

export function invalidArchive(message: string): CofferError {
  return new CofferError("ERR_INVALID_REQUEST", `not a usable archive: ${message}`);
}

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", ownBytes(raw), "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function seal(key: CryptoKey, plaintext: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: ownBytes(additionalData) },
    key,
    ownBytes(plaintext),
  );
  return concatBytes(nonce, new Uint8Array(sealed));
}

async function open(key: CryptoKey, sealed: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
  const bytes = ownBytes(sealed);
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, NONCE_BYTES), additionalData: ownBytes(additionalData) },
      key,
      bytes.subarray(NONCE_BYTES),
    ),
  );
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

function passphraseKey(passphrase: string, salt: Uint8Array, params: { N: number; r: number; p: number }) {
  if (passphrase.length < 12)
    throw new CofferError("ERR_INVALID_REQUEST", "the passphrase must be at least 12 characters");
  return scrypt(utf8.encode(passphrase), salt, { ...params, dkLen: KEY_BYTES, maxmem: 2 ** 28 });
}

function frameAad(headerHash: Uint8Array, index: number, last: boolean): Uint8Array {
  const tail = new Uint8Array(5);
  new DataView(tail.buffer).setUint32(0, index);
  tail[4] = last ? 1 : 0;
  return concatBytes(headerHash, tail);
}

/** Writes an archive of `records` (already in order), sealed as asked. */
export async function writeArchive(
  records: readonly ArchiveRecord[],
  options: { archiveId: string; now: number; contents: ArchiveHeader["contents"]; sealing: Sealing },
): Promise<Uint8Array> {
  const archiveKey = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  let sealed: ArchiveHeader["sealed"];
  if (options.sealing.kind === "passphrase") {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const wrapping = await aesKey(passphraseKey(options.sealing.passphrase, salt, SCRYPT));
    const key = await seal(wrapping, archiveKey, utf8.encode(`coffer archive key ${options.archiveId}`));
    sealed = { kind: "passphrase", kdf: "scrypt", ...SCRYPT, salt: toBase64(salt), key: toBase64(key) };
  } else {
    const dataKey = await options.sealing.provider.generateDataKey(archiveContext(options.archiveId));
    const wrapping = await aesKey(dataKey.plaintext);
    dataKey.plaintext.fill(0);
    const key = await seal(wrapping, archiveKey, utf8.encode(`coffer archive key ${options.archiveId}`));
    sealed = {
      kind: "kms",
      key_id: options.sealing.keyId,
      key: toBase64(concatBytes(u32(dataKey.wrapped.length), dataKey.wrapped, key)),
    };
  }
  const header: ArchiveHeader = {
    format: ARCHIVE_FORMAT,
    archive_id: options.archiveId,
    created_at: new Date(options.now).toISOString(),
    contents: options.contents,
    sealed,
  };
  const head = utf8.encode(`${MAGIC}${JSON.stringify(header)}\n`);
  const headerHash = sha256(head);
  const key = await aesKey(archiveKey);
  archiveKey.fill(0);

  const parts: Uint8Array[] = [head];
  const frames = Math.max(1, Math.ceil(records.length / RECORDS_PER_FRAME));
  for (let index = 0; index < frames; index++) {
    const slice = records.slice(index * RECORDS_PER_FRAME, (index + 1) * RECORDS_PER_FRAME);
    const frame = await seal(
      key,
      utf8.encode(JSON.stringify(slice)),
      frameAad(headerHash, index, index === frames - 1),
    );
    parts.push(u32(frame.length), frame);
  }
  return concatBytes(...parts);
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** The header, readable without the key (to say how to unseal it). */
export function readArchiveHeader(archive: Uint8Array): { header: ArchiveHeader; bodyStart: number } {
  const magic = utf8.encode(MAGIC);
  if (archive.length < magic.length || !magic.every((byte, i) => archive[i] === byte)) {
    const start = new TextDecoder().decode(archive.subarray(0, 15)).replace(/[^ -~]/g, "?");
    throw invalidArchive(
      start.startsWith("coffer-archive ")
        ? `archive format "${start}" is not one this version reads (${ARCHIVE_FORMAT})`
        : "it does not start as a Coffer archive does",
    );
  }
  const end = archive.indexOf(0x0a, magic.length);
  if (end < 0) throw invalidArchive("its header is cut short");
  let header: ArchiveHeader;
  try {
    header = JSON.parse(fromUtf8.decode(archive.subarray(magic.length, end)));
  } catch {
    throw invalidArchive("its header is not JSON");
  }
  if (header?.format !== ARCHIVE_FORMAT || typeof header.archive_id !== "string" || !header.sealed) {
    throw invalidArchive("its header is not one this version reads");
  }
  return { header, bodyStart: end + 1 };
}

/** Every record of the archive, once every frame has verified. */
export async function readArchive(
  archive: Uint8Array,
  unseal: { passphrase?: string; kmsProvider?: (keyId: string) => KeyProvider },
): Promise<{ header: ArchiveHeader; records: ArchiveRecord[] }> {
  const { header, bodyStart } = readArchiveHeader(archive);
  const label = utf8.encode(`coffer archive key ${header.archive_id}`);
  let archiveKey: Uint8Array;
  try {
    if (header.sealed.kind === "passphrase") {
      if (unseal.passphrase === undefined)
        throw invalidArchive("it is sealed to a passphrase, and none was given");
      const { N, r, p, salt, key } = header.sealed;
      if (N > 2 ** 20 || r > 16 || p > 4)
        throw invalidArchive("its key derivation asks for more than this reads");
      const wrapping = await aesKey(passphraseKey(unseal.passphrase, fromBase64(salt), { N, r, p }));
      archiveKey = await open(wrapping, fromBase64(key), label);
    } else {
      if (!unseal.kmsProvider)
        throw invalidArchive("it is sealed to a KMS key, and no KMS client is available");
      const blob = fromBase64(header.sealed.key);
      const wrappedLength = new DataView(blob.buffer, blob.byteOffset).getUint32(0);
      const wrapped = blob.subarray(4, 4 + wrappedLength);
      const dataKey = await unseal
        .kmsProvider(header.sealed.key_id)
        .unwrap(wrapped, archiveContext(header.archive_id));
      archiveKey = await open(await aesKey(dataKey), blob.subarray(4 + wrappedLength), label);
      dataKey.fill(0);
    }
  } catch (error) {
    if (error instanceof CofferError && error.code !== "ERR_DECRYPT_FAILED") throw error;
    throw new CofferError(
      "ERR_INVALID_REQUEST",
      header.sealed.kind === "passphrase"
        ? "the passphrase does not open this archive (or its header was changed)"
        : "the KMS key does not open this archive (or its header was changed)",
    );
  }
  const key = await aesKey(archiveKey);
  archiveKey.fill(0);
  const headerHash = sha256(archive.subarray(0, bodyStart));

  const records: ArchiveRecord[] = [];
  let offset = bodyStart;
  for (let index = 0; offset < archive.length; index++) {
    if (offset + 4 > archive.length) throw invalidArchive("it is cut short");
    const length = new DataView(archive.buffer, archive.byteOffset + offset).getUint32(0);
    const frame = archive.subarray(offset + 4, offset + 4 + length);
    if (frame.length !== length) throw invalidArchive("it is cut short");
    offset += 4 + length;
    let plaintext: Uint8Array;
    try {
      plaintext = await open(key, frame, frameAad(headerHash, index, offset === archive.length));
    } catch {
      throw invalidArchive(`frame ${index} does not verify: the archive was changed, reordered or cut short`);
    }
    records.push(...(JSON.parse(fromUtf8.decode(plaintext)) as ArchiveRecord[]));
  }
  if (offset === bodyStart) throw invalidArchive("it has no content");
  return { header, records };
}

/** An item as the archive holds it. */
export function encodeItem(item: Item): Record<string, unknown> {
  return encodeValue(item as AttributeValue) as Record<string, unknown>;
}

export function decodeItem(encoded: unknown): Item {
  const item = decodeValue(encoded);
  if (item === null || typeof item !== "object" || Array.isArray(item) || item instanceof Uint8Array) {
    throw invalidArchive("an item is not a map");
  }
  if (typeof item.pk !== "string" || typeof item.sk !== "string") throw invalidArchive("an item has no key");
  return item as Item;
}

function encodeValue(value: AttributeValue): unknown {
  if (value instanceof Uint8Array) return { $b: toBase64(value) };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value !== null && typeof value === "object") {
    return {
      $m: Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, encodeValue(inner)])),
    };
  }
  return value;
}

function decodeValue(value: unknown): AttributeValue {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === "object") {
    const tagged = value as { $b?: unknown; $m?: unknown };
    if (typeof tagged.$b === "string") return fromBase64(tagged.$b);
    if (tagged.$m !== null && typeof tagged.$m === "object") {
      return Object.fromEntries(
        Object.entries(tagged.$m as Record<string, unknown>).map(([name, inner]) => [
          name,
          decodeValue(inner),
        ]),
      );
    }
    throw invalidArchive("a value is neither a map nor binary");
  }
  if (
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean" ||
    value === null
  ) {
    return value;
  }
  throw invalidArchive("a value has no type the store holds");
}
