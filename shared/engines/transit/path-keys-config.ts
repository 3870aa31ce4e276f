/**
 * `keys/<name>/config`: the tunable part of a key's policy, with Vault's rules and
 * messages. Only fields that are present change; an update that changes nothing writes
 * nothing.
 */
import { invalidRequest } from "../../errors.ts";
import { optionalBoolean, optionalInteger, rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engine.ts";
import { changeKey } from "./key-lifecycle.ts";
import { checkKeyName, type KeyPolicy } from "./key-policy.ts";
import { autoRotatePeriod, keyResponse, refuseExport } from "./path-keys.ts";
import type { TransitMount } from "./transit-mount.ts";

const FIELDS = [
  "min_decryption_version",
  "min_encryption_version",
  "deletion_allowed",
  "exportable",
  "allow_plaintext_backup",
  "auto_rotate_period",
];

/** The policy `data` asks for, validated against `before`; `warnings` collects notes for the caller. */
export function configuredPolicy(before: KeyPolicy, data: JsonObject, warnings: string[]): KeyPolicy {
  const after = { ...before };
  const minDecryption = optionalInteger(data, "min_decryption_version");
  if (minDecryption !== undefined) {
    if (minDecryption < 0) throw invalidRequest("min decryption version cannot be negative");
    let wanted = minDecryption;
    if (wanted === 0) {
      wanted = 1;
      warnings.push("since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1");
    }
    if (wanted !== before.minDecryptionVersion && wanted > before.latestVersion) {
      throw invalidRequest(
        `cannot set min decryption version of ${wanted}, latest key version is ${before.latestVersion}`,
      );
    }
    after.minDecryptionVersion = wanted;
  }
  const minEncryption = optionalInteger(data, "min_encryption_version");
  if (minEncryption !== undefined) {
    if (minEncryption < 0) throw invalidRequest("min encryption version cannot be negative");
    if (minEncryption !== before.minEncryptionVersion && minEncryption > before.latestVersion) {
      throw invalidRequest(
        `cannot set min encryption version of ${minEncryption}, latest key version is ${before.latestVersion}`,
      );
    }
    after.minEncryptionVersion = minEncryption;
  }
  if (after.minEncryptionVersion > 0 && after.minEncryptionVersion < after.minDecryptionVersion) {
    throw invalidRequest(
      `cannot set min encryption/decryption values; min encryption version of ${after.minEncryptionVersion} must be greater than or equal to min decryption version of ${after.minDecryptionVersion}`,
    );
  }
  after.deletionAllowed = optionalBoolean(data, "deletion_allowed") ?? before.deletionAllowed;
  refuseExport(data);
  after.autoRotatePeriod = autoRotatePeriod(data) ?? before.autoRotatePeriod;
  if (before.minAvailableVersion > 0) {
    if (after.minAvailableVersion > after.minEncryptionVersion) {
      throw invalidRequest("min encryption version should not be less than min available version");
    }
    if (after.minAvailableVersion > after.minDecryptionVersion) {
      throw invalidRequest("min decryption version should not be less than min available version");
    }
  }
  return after;
}

export function keyConfigRoute(transit: TransitMount): Route {
  async function configure(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, FIELDS);
    let warnings: string[] = [];
    const policy = await changeKey(transit, name, (before) => {
      warnings = [];
      return configuredPolicy(before, request.data, warnings);
    });
    if (!policy) throw invalidRequest(`no existing key named ${name} could be found`);
    return keyResponse(transit, policy, warnings);
  }

  return { pattern: /^keys\/(?<name>[^/]+)\/config$/, operations: { update: configure } };
}
