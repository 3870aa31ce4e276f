/**
 * `keys` and `keys/<name>`: list, create, read and delete transit keys. Reads show the
 * versions and their creation times, never key material.
 */
import { invalidRequest } from "../../errors.ts";
import {
  optionalBoolean,
  optionalDuration,
  optionalInteger,
  optionalString,
  rejectUnknownFields,
} from "../../http/fields.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  notFoundResponse,
  type Route,
} from "../engine.ts";
import { createKey, deleteKey } from "./key-lifecycle.ts";
import {
  checkKeyName,
  describeKey,
  KEY_TYPE,
  type KeyPolicy,
  MIN_AUTO_ROTATE_SECONDS,
} from "./key-policy.ts";
import type { TransitMount } from "./transit-mount.ts";

/** Types Vault knows that Coffer does not implement, for a clearer refusal than "unknown". */
const VAULT_ONLY_TYPES = new Set([
  "aes128-gcm96",
  "chacha20-poly1305",
  "xchacha20-poly1305",
  "ed25519",
  "ecdsa-p256",
  "ecdsa-p384",
  "ecdsa-p521",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "hmac",
  "managed_key",
  "aes128-cmac",
  "aes256-cmac",
  "ml-dsa",
  "hybrid",
]);

const CREATE_FIELDS = [
  "type",
  "derived",
  "convergent_encryption",
  "exportable",
  "allow_plaintext_backup",
  "auto_rotate_period",
  "key_size",
  "managed_key_name",
  "managed_key_id",
  "parameter_set",
  "hybrid_key_type_pqc",
  "hybrid_key_type_ec",
];

export function checkKeyType(type: string): void {
  if (type === KEY_TYPE) return;
  if (VAULT_ONLY_TYPES.has(type))
    throw invalidRequest(`key type ${type} is not supported: Coffer implements ${KEY_TYPE}`);
  throw invalidRequest(`unknown key type ${type}`);
}

/** Vault's flags that would let key material leave the broker: Coffer refuses to set them. */
export function refuseExport(data: JsonObject): void {
  if (optionalBoolean(data, "exportable")) {
    throw invalidRequest("exportable keys are not supported: transit key material never leaves Coffer");
  }
  if (optionalBoolean(data, "allow_plaintext_backup")) {
    throw invalidRequest("plaintext backups are not supported: transit key material never leaves Coffer");
  }
}

/** Seconds, or undefined when absent; 0 disables, anything else must be an hour or more. */
export function autoRotatePeriod(data: JsonObject): number | undefined {
  const period = optionalDuration(data, "auto_rotate_period");
  if (period !== undefined && period !== 0 && period < MIN_AUTO_ROTATE_SECONDS) {
    throw invalidRequest("auto rotate period must be 0 to disable or at least an hour");
  }
  return period;
}

/** Refuses non-empty values of Vault parameters for features Coffer does not have. */
export function refuseUnsupported(data: JsonObject, names: readonly string[], feature: string): void {
  for (const name of names) {
    const value = data[name];
    if (value !== undefined && value !== null && value !== "" && value !== 0) {
      throw invalidRequest(`${name} is not supported: Coffer has no ${feature}`);
    }
  }
}

/** The read-key response of `policy`, with its versions' creation times from storage. */
export async function keyResponse(
  transit: TransitMount,
  policy: KeyPolicy,
  warnings: string[] = [],
): Promise<EngineResponse> {
  const versions: Record<string, number> = {};
  for (const stored of await transit.storage.versions(policy))
    versions[String(stored.version)] = stored.createdAt;
  return { data: describeKey(policy, versions), warnings: warnings.length > 0 ? warnings : undefined };
}

export function keysRoutes(transit: TransitMount): Route[] {
  async function create(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    const data = request.data;
    rejectUnknownFields(data, CREATE_FIELDS);
    checkKeyType(optionalString(data, "type") ?? KEY_TYPE);
    refuseExport(data);
    if (optionalInteger(data, "key_size"))
      throw invalidRequest(`key_size is not valid for algorithm ${KEY_TYPE}`);
    refuseUnsupported(data, ["managed_key_name", "managed_key_id"], "managed keys");
    refuseUnsupported(
      data,
      ["parameter_set", "hybrid_key_type_pqc", "hybrid_key_type_ec"],
      "post-quantum keys",
    );
    const derived = optionalBoolean(data, "derived") ?? false;
    const convergent = optionalBoolean(data, "convergent_encryption") ?? false;
    if (convergent && !derived)
      throw invalidRequest("convergent encryption requires derivation to be enabled");
    const period = autoRotatePeriod(data) ?? 0;
    const { policy, created } = await createKey(transit, {
      name,
      derived,
      convergent,
      autoRotatePeriod: period,
    });
    // Like Vault: creating an existing key changes nothing and says so.
    return keyResponse(transit, policy, created ? [] : [`key ${name} already existed`]);
  }

  async function read(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    const policy = await transit.storage.policy(name, { fresh: true });
    if (!policy) return notFoundResponse();
    return keyResponse(transit, policy);
  }

  async function remove(request: EngineRequest): Promise<EngineResponse> {
    await deleteKey(transit, checkKeyName(request.params.name ?? ""));
    return {};
  }

  async function list(): Promise<EngineResponse> {
    const names = await transit.storage.names();
    if (names.length === 0) return notFoundResponse();
    return { data: { keys: names } };
  }

  return [
    { pattern: /^keys\/?$/, operations: { list } },
    { pattern: /^keys\/(?<name>[^/]+)$/, operations: { read, update: create, delete: remove } },
  ];
}
