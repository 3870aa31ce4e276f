/**
 * `hmac/<name>(/<algorithm>)`: the HMAC of base64 input under a key version's HMAC key,
 * `vault:v<N>:<base64>`, one item or a batch; and its check, which `verify/<name>` runs
 * when given `hmac`. Every key has an HMAC key per version, whatever its type, as in
 * Vault; it derives from the version's secret and never leaves the broker.
 */
import { constantTimeEqual, toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { type EngineResponse, type JsonObject, type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { BATCH_FIELDS, itemsResponse, type RequestItems, requestItems, settleItems } from "./batch.ts";
import { decodeGoBase64, decodeInput, illegalBase64 } from "./go-base64.ts";
import { DEFAULT_HASH, type HashAlgorithm, hashAlgorithm, hmacOf } from "./hash-algorithms.ts";
import { hmacKey, StaleKeyVersion } from "./key-material.ts";
import { checkKeyName, holdsVersion, KEY_NAME, type KeyPolicy } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";
import { formatVersioned, splitVersioned } from "./versioned-text.ts";

const HMAC_ITEM = {
  input: { type: "string", description: "The base64 input." },
  reference: { type: "string", description: "Echoed in the item's batch result." },
} as const satisfies FieldSchema;

export const HMAC_VERIFY_ITEM = {
  ...HMAC_ITEM,
  hmac: { type: "string", description: "The HMAC to check, vault:v<N>:<base64>." },
} as const satisfies FieldSchema;

/** Vault's refusal of an unknown algorithm. */
function hmacAlgorithm(name: string): HashAlgorithm {
  const algorithm = hashAlgorithm(name);
  if (!algorithm) throw invalidRequest(`unsupported algorithm ${JSON.stringify(name)}`);
  return algorithm;
}

/** The version an HMAC is made with, by Vault's rules and messages for hmac. */
function hmacVersion(policy: KeyPolicy, requested: number | undefined): number {
  const version = requested || policy.latestVersion;
  if (
    version !== policy.latestVersion &&
    policy.minEncryptionVersion > 0 &&
    version < policy.minEncryptionVersion
  ) {
    throw invalidRequest("cannot generate HMAC: version is too old (disallowed by policy)");
  }
  if (version < 0) throw invalidRequest("key version does not exist (cannot be negative)");
  if (version > policy.latestVersion) {
    throw invalidRequest(`key version does not exist; latest key version is ${policy.latestVersion}`);
  }
  if (!holdsVersion(policy, version)) throw invalidRequest("no such key version");
  return version;
}

/** Runs `use` with a version's HMAC key, wiped afterwards. */
async function withHmacKey<T>(
  transit: TransitMount,
  policy: KeyPolicy,
  version: number,
  use: (key: Uint8Array) => T,
): Promise<T> {
  const key = await hmacKey(await transit.material.versionKey(policy, version));
  try {
    return use(key);
  } finally {
    key.fill(0);
  }
}

export function hmacRoute(transit: TransitMount): Route {
  return route({
    pattern: /^hmac\/(?<name>[^/]+)(?:\/(?<urlalgorithm>.+))?$/,
    fields: {
      name: KEY_NAME,
      urlalgorithm: { type: "string", path: true, description: "The hash algorithm, in the path." },
      input: HMAC_ITEM.input,
      algorithm: {
        type: "string",
        default: DEFAULT_HASH,
        description:
          "sha1, sha2-224, sha2-256 (the default), sha2-384, sha2-512, sha3-224, sha3-256, sha3-384 or sha3-512.",
      },
      key_version: { type: "integer", description: "The version to use; 0 is the latest." },
      batch_input: BATCH_FIELDS.batch_input,
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const fields = request.fields;
        const name = checkKeyName(fields.name);
        const input = requestItems(fields, HMAC_ITEM);
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("encryption key not found");
          if (!fresh && (fields.key_version ?? 0) > policy.latestVersion) {
            throw new StaleKeyVersion(
              `version ${fields.key_version} is newer than the cached policy of ${name}`,
            );
          }
          const version = hmacVersion(policy, fields.key_version);
          const algorithm = hmacAlgorithm(fields.urlalgorithm || fields.algorithm);
          if (!input.batch && fields.input === undefined) throw invalidRequest("missing input for HMAC");
          const results = await withHmacKey(transit, policy, version, (key) =>
            settleItems(input.items, HMAC_ITEM, async (item) => {
              if (item.input === undefined) throw invalidRequest("missing input for HMAC");
              const mac = hmacOf(algorithm, key, decodeInput(item.input));
              return { hmac: formatVersioned(version, toBase64(mac)) };
            }),
          );
          return itemsResponse(input, results);
        });
      },
    },
  });
}

/** Whether `text` (vault:v<N>:<base64>) is the HMAC of `input`, by Vault's rules and messages. */
async function checkHmac(
  transit: TransitMount,
  policy: KeyPolicy,
  fresh: boolean,
  algorithm: HashAlgorithm,
  input: Uint8Array,
  text: string,
): Promise<JsonObject> {
  const split = splitVersioned(text);
  if ("problem" in split) {
    if (split.problem === "no prefix") throw invalidRequest("invalid HMAC to verify: no prefix");
    if (split.problem === "wrong number of fields")
      throw invalidRequest("invalid HMAC: wrong number of fields");
    throw invalidRequest("invalid HMAC: version number could not be decoded");
  }
  const decoded = decodeGoBase64(split.payload);
  if (!("bytes" in decoded)) {
    throw invalidRequest(`unable to decode verification HMAC as base64: ${illegalBase64(decoded.corruptAt)}`);
  }
  const version = split.version;
  if (!fresh && version > policy.latestVersion) {
    throw new StaleKeyVersion(`HMAC version ${version} is newer than the cached policy of ${policy.name}`);
  }
  if (version > policy.latestVersion) throw invalidRequest("invalid HMAC: version is too new");
  if (version < policy.minDecryptionVersion) {
    throw invalidRequest("cannot verify HMAC: version is too old (disallowed by policy)");
  }
  if (!holdsVersion(policy, version)) throw invalidRequest("no such key version");
  const valid = await withHmacKey(transit, policy, version, (key) =>
    constantTimeEqual(hmacOf(algorithm, key, input), decoded.bytes),
  );
  return { valid };
}

/**
 * `verify/<name>` with `hmac`: the hash is the path's, else `hash_algorithm` if sent, else
 * the deprecated `algorithm` if sent, else sha2-256.
 */
export function verifyHmacs(
  transit: TransitMount,
  name: string,
  algorithmName: string,
  input: RequestItems,
): Promise<EngineResponse> {
  return withKey(transit, name, async (policy, fresh) => {
    if (!policy) throw invalidRequest("encryption key not found");
    const algorithm = hmacAlgorithm(algorithmName);
    const results = await settleItems(input.items, HMAC_VERIFY_ITEM, async (item) => {
      if (item.input === undefined) throw invalidRequest("missing input");
      const bytes = decodeInput(item.input);
      if (item.hmac === undefined) throw invalidRequest("missing hmac");
      return checkHmac(transit, policy, fresh, algorithm, bytes, item.hmac);
    });
    return itemsResponse(input, results, { valid: false });
  });
}
