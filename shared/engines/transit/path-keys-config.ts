/**
 * `keys/<name>/config`: the tunable part of a key's policy, with Vault's rules and
 * messages. Only fields that are present change; an update that changes nothing writes
 * nothing.
 */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { changeKey } from "./key-lifecycle.ts";
import { checkKeyName, KEY_NAME, type KeyPolicy } from "./key-policy.ts";
import {
  AUTO_ROTATE_PERIOD,
  autoRotatePeriod,
  EXPORT_FIELDS,
  keyResponse,
  refuseExport,
} from "./path-keys.ts";
import type { TransitMount } from "./transit-mount.ts";

/** What a configuration request asks to change; undefined leaves a setting as it is. */
interface KeyConfigFields {
  min_decryption_version: number | undefined;
  min_encryption_version: number | undefined;
  deletion_allowed: boolean | undefined;
  exportable: boolean | undefined;
  allow_plaintext_backup: boolean | undefined;
  auto_rotate_period: number | undefined;
}

/** The policy `fields` ask for, validated against `before`; `warnings` collects notes for the caller. */
export function configuredPolicy(before: KeyPolicy, fields: KeyConfigFields, warnings: string[]): KeyPolicy {
  const after = { ...before };
  const minDecryption = fields.min_decryption_version;
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
  const minEncryption = fields.min_encryption_version;
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
  after.deletionAllowed = fields.deletion_allowed ?? before.deletionAllowed;
  refuseExport(fields);
  after.autoRotatePeriod = autoRotatePeriod(fields.auto_rotate_period) ?? before.autoRotatePeriod;
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
  return route({
    pattern: /^keys\/(?<name>[^/]+)\/config$/,
    fields: {
      name: KEY_NAME,
      min_decryption_version: { type: "integer", description: "The oldest version that may decrypt." },
      min_encryption_version: {
        type: "integer",
        description: "The oldest version that may encrypt; 0 is the latest.",
      },
      deletion_allowed: { type: "boolean", description: "Whether the key may be deleted." },
      ...EXPORT_FIELDS,
      auto_rotate_period: AUTO_ROTATE_PERIOD,
    },
    operations: {
      async update(request) {
        const name = checkKeyName(request.fields.name);
        let warnings: string[] = [];
        const policy = await changeKey(transit, name, (before) => {
          warnings = [];
          return configuredPolicy(before, request.fields, warnings);
        });
        if (!policy) throw invalidRequest(`no existing key named ${name} could be found`);
        return keyResponse(transit, policy, warnings);
      },
    },
  });
}
