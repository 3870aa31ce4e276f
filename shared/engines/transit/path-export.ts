/**
 * `export/<type>/<name>(/<version>)`, for `public-key`: a signing key's public keys per
 * version, as Vault exports them (PEM for ECDSA and RSA, base64 for Ed25519). Every other
 * export type asks for private material, which no Coffer key allows: Vault's answer for
 * a key that is not exportable.
 */
import { invalidRequest } from "../../errors.ts";
import { type JsonObject, notFoundResponse, type Route, route } from "../engine.ts";
import { goAtoi } from "./go-atoi.ts";
import { checkKeyName, KEY_NAME, type KeyPolicy } from "./key-policy.ts";
import type { StoredVersion } from "./key-storage.ts";
import { KEY_TYPES, supportsSigning } from "./key-types.ts";
import { shownPublicKey, shownVersions } from "./key-versions-view.ts";
import type { TransitMount } from "./transit-mount.ts";

const PRIVATE_EXPORTS = ["encryption-key", "signing-key", "hmac-key"];

/** The versions asked for: all that are shown, or one ("latest", "3" or "v3"). */
function exported(policy: KeyPolicy, shown: readonly StoredVersion[], version: string): StoredVersion[] {
  if (version === "") return [...shown];
  let number = policy.latestVersion;
  if (version !== "latest") {
    const parsed = goAtoi(version.replace(/^v/, ""));
    if ("error" in parsed) throw invalidRequest("invalid key version");
    number = parsed.value;
  }
  if (number < policy.minDecryptionVersion) {
    throw invalidRequest("version for export is below minimum decryption version");
  }
  const found = shown.find((stored) => stored.version === number);
  if (!found) throw invalidRequest("version does not exist or cannot be found");
  return [found];
}

export function exportRoute(transit: TransitMount): Route {
  return route({
    pattern: /^export\/(?<type>[^/]+)\/(?<name>[^/]+)(?:\/(?<version>[^/]+))?$/,
    fields: {
      type: {
        type: "string",
        path: true,
        description: '"public-key"; Vault\'s other export types are refused (no Coffer key is exportable).',
      },
      name: KEY_NAME,
      version: { type: "string", path: true, description: 'A version, "v<N>" or "latest"; all when absent.' },
    },
    operations: {
      async read(request) {
        const { type: exportType, version } = request.fields;
        if (exportType === "cmac-key") {
          throw invalidRequest("CMAC operations are only available in enterprise versions of Vault");
        }
        if (![...PRIVATE_EXPORTS, "public-key", "certificate-chain"].includes(exportType)) {
          throw invalidRequest(`invalid export type: ${exportType}`);
        }
        const policy = await transit.storage.policy(checkKeyName(request.fields.name), { fresh: true });
        if (!policy) return notFoundResponse();
        if (PRIVATE_EXPORTS.includes(exportType))
          throw invalidRequest("private key material is not exportable");
        const type = KEY_TYPES[policy.type];
        if (exportType === "certificate-chain") {
          if (!supportsSigning(type)) {
            throw invalidRequest("certificate chain not supported for keys that do not support signing");
          }
          throw invalidRequest("selected key version does not have a certificate chain imported");
        }
        if (!supportsSigning(type)) {
          throw invalidRequest(`unknown key type ${policy.type} for export type ${exportType}`);
        }
        const keys: JsonObject = {};
        for (const stored of exported(policy, await shownVersions(transit, policy), version)) {
          const text = await shownPublicKey(transit, policy, stored, new Uint8Array(0));
          // Vault trims its ECDSA and Ed25519 exports, not its RSA ones.
          keys[String(stored.version)] = type.kind === "rsa" ? text : text.trim();
        }
        return { data: { keys, name: policy.name, type: policy.type } };
      },
    },
  });
}
