/**
 * The documented limits of KV secrets, all answered with 413 except malformed values.
 *
 * A version item holds the sealed JSON of one version: its partition key (at most
 * 3 + 36 + 1 + MAX_SECRET_PATH_BYTES bytes), a 12-byte sort key, the attribute names,
 * the envelope (plaintext + ENVELOPE_OVERHEAD_BYTES) and the item MAC (36 bytes with its
 * name). MAX_SECRET_BYTES leaves over 15 KB
 * of DynamoDB's 400 KB item limit for all of that. The metadata item holds at most
 * MAX_VERSIONS_LIMIT version states (about 110 bytes each) and the custom metadata
 * (at most 64 × (128 + 512) bytes), so it stays well below the limit too.
 */
import { invalidRequest, payloadTooLarge } from "../../errors.ts";
import type { JsonObject } from "../engine.ts";

/** Largest secret, as its UTF-8 JSON encoding. */
export const MAX_SECRET_BYTES = 384 * 1024;
/** Most keys in one secret, counting the keys of nested objects. */
export const MAX_SECRET_KEYS = 1024;
/** Deepest nesting of objects and arrays in one secret. */
export const MAX_SECRET_DEPTH = 32;
/** Longest secret path below the mount's data/ (or the mount, for KV v1), in UTF-8 bytes. */
export const MAX_SECRET_PATH_BYTES = 512;
/** Vault's limits on custom_metadata. */
export const MAX_CUSTOM_METADATA_KEYS = 64;
export const MAX_CUSTOM_METADATA_KEY_BYTES = 128;
export const MAX_CUSTOM_METADATA_VALUE_BYTES = 512;
/** Highest max_versions a secret or a mount may set. */
export const MAX_VERSIONS_LIMIT = 1000;

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

/** The secret path of a request, checked: it names a secret, not a folder, within the length limit. */
export function checkSecretPath(path: string | undefined): string {
  if (!path || path.endsWith("/"))
    throw invalidRequest("invalid secret path: it must name a secret, not a folder");
  if (byteLength(path) > MAX_SECRET_PATH_BYTES) {
    throw payloadTooLarge(`secret path exceeds the limit of ${MAX_SECRET_PATH_BYTES} bytes`);
  }
  return path;
}

/**
 * Checks nesting and key count without recursion, so a hostile document cannot exhaust
 * the stack before the limits refuse it.
 */
export function checkShape(value: unknown, what: string): void {
  let keys = 0;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (current === null || typeof current !== "object") continue;
    if (depth >= MAX_SECRET_DEPTH)
      throw payloadTooLarge(`${what} nests deeper than the limit of ${MAX_SECRET_DEPTH} levels`);
    const children = Array.isArray(current) ? current : Object.values(current);
    if (!Array.isArray(current)) {
      keys += children.length;
      if (keys > MAX_SECRET_KEYS)
        throw payloadTooLarge(`${what} has more than the limit of ${MAX_SECRET_KEYS} keys`);
    }
    for (const child of children) pending.push({ value: child, depth: depth + 1 });
  }
}

/** The bytes to seal for a secret's data, after every limit is checked. */
export function encodeSecretData(data: JsonObject): Uint8Array {
  checkShape(data, "secret data");
  const bytes = encoder.encode(JSON.stringify(data));
  if (bytes.length > MAX_SECRET_BYTES) {
    throw payloadTooLarge(`secret data exceeds the limit of ${MAX_SECRET_BYTES} bytes`);
  }
  return bytes;
}

// Go's unicode.IsPrint, which Vault applies: no control, format, private-use or unassigned
// characters, and no space but the ASCII one.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** Vault's rules for custom_metadata; sizes over the limits are 413, malformed entries 400. */
export function checkCustomMetadata(metadata: Record<string, string>): void {
  const entries = Object.entries(metadata);
  if (entries.length > MAX_CUSTOM_METADATA_KEYS) {
    throw payloadTooLarge(
      `custom_metadata validation failed: payload must contain at most ${MAX_CUSTOM_METADATA_KEYS} keys, provided ${entries.length}`,
    );
  }
  for (const [key, value] of entries) {
    if (key === "" || value === "") {
      throw invalidRequest("custom_metadata validation failed: keys and values must not be empty");
    }
    if (byteLength(key) > MAX_CUSTOM_METADATA_KEY_BYTES) {
      throw payloadTooLarge(
        `custom_metadata validation failed: key ${JSON.stringify(key.slice(0, 32))}... is longer than ${MAX_CUSTOM_METADATA_KEY_BYTES} bytes`,
      );
    }
    if (byteLength(value) > MAX_CUSTOM_METADATA_VALUE_BYTES) {
      throw payloadTooLarge(
        `custom_metadata validation failed: the value for key ${JSON.stringify(key)} is longer than ${MAX_CUSTOM_METADATA_VALUE_BYTES} bytes`,
      );
    }
    if (UNPRINTABLE.test(key) || UNPRINTABLE.test(value)) {
      throw invalidRequest(
        `custom_metadata validation failed: key ${JSON.stringify(key)} or its value contains unprintable characters`,
      );
    }
  }
}
