/**
 * `keys` and `keys/<name>`: list, create, read and delete transit keys. Reads show each
 * version's creation time, or a signing key's public keys; never private material.
 */
import { invalidRequest } from "../../errors.ts";
import { type EngineResponse, notFoundResponse, type Route, route } from "../engine.ts";
import { createKey, deleteKey } from "./key-lifecycle.ts";
import {
  checkKeyName,
  describeKey,
  KEY_NAME,
  type KeyPolicy,
  MIN_AUTO_ROTATE_SECONDS,
} from "./key-policy.ts";
import { DEFAULT_KEY_TYPE, KEY_TYPES, type KeyType, keyTypeNamed } from "./key-types.ts";
import { describeVersions } from "./key-versions-view.ts";
import { contextBytes } from "./signature-fields.ts";
import type { TransitMount } from "./transit-mount.ts";

/** The export flags of a key's fields, as keys/<name> and keys/<name>/config take them. */
export const EXPORT_FIELDS = {
  exportable: { type: "boolean", description: "Refused: transit key material never leaves Coffer." },
  allow_plaintext_backup: {
    type: "boolean",
    description: "Refused: transit key material never leaves Coffer.",
  },
} as const;

export const AUTO_ROTATE_PERIOD = {
  type: "duration",
  description: "Rotate the key when its latest version is this old; 0 never (at least an hour).",
} as const;

/**
 * Vault's rules on derivation per key type (its lock manager's, with its messages): ECDSA
 * and RSA keys derive nothing, Ed25519 keys derive but are never convergent.
 */
function checkDerivation(type: KeyType, derived: boolean, convergent: boolean): void {
  if ((type.kind === "ecdsa" || type.kind === "rsa") && (derived || convergent)) {
    throw invalidRequest(
      `key derivation and convergent encryption not supported for keys of type ${type.name}`,
    );
  }
  if (type.kind === "ed25519" && convergent) {
    throw invalidRequest(`convergent encryption not supported for keys of type ${type.name}`);
  }
}

/** Vault's flags that would let key material leave the broker: Coffer refuses to set them. */
export function refuseExport(flags: { exportable?: boolean; allow_plaintext_backup?: boolean }): void {
  if (flags.exportable) {
    throw invalidRequest("exportable keys are not supported: transit key material never leaves Coffer");
  }
  if (flags.allow_plaintext_backup) {
    throw invalidRequest("plaintext backups are not supported: transit key material never leaves Coffer");
  }
}

/** Seconds, or undefined when absent; 0 disables, anything else must be an hour or more. */
export function autoRotatePeriod(period: number | undefined): number | undefined {
  if (period !== undefined && period !== 0 && period < MIN_AUTO_ROTATE_SECONDS) {
    throw invalidRequest("auto rotate period must be 0 to disable or at least an hour");
  }
  return period;
}

/** Refuses non-empty values of Vault parameters for features Coffer does not have. */
export function refuseUnsupported(values: Record<string, unknown>, feature: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "" && value !== 0) {
      throw invalidRequest(`${name} is not supported: Coffer has no ${feature}`);
    }
  }
}

/**
 * The read-key response of `policy`, with its versions from storage; `context` shows a
 * derived Ed25519 key's public keys for that context.
 */
export async function keyResponse(
  transit: TransitMount,
  policy: KeyPolicy,
  warnings: string[] = [],
  context: Uint8Array = new Uint8Array(0),
): Promise<EngineResponse> {
  const keys = await describeVersions(transit, policy, context);
  return { data: describeKey(policy, keys), warnings: warnings.length > 0 ? warnings : undefined };
}

const unsupported = (what: string) =>
  ({ type: "string", description: `Refused when set: Coffer has no ${what}.` }) as const;

export function keysRoutes(transit: TransitMount): Route[] {
  return [
    route({
      pattern: /^keys\/?$/,
      fields: {},
      operations: {
        async list() {
          const names = await transit.storage.names();
          if (names.length === 0) return notFoundResponse();
          return { data: { keys: names } };
        },
      },
    }),
    route({
      pattern: /^keys\/(?<name>[^/]+)$/,
      fields: {
        name: KEY_NAME,
        type: {
          type: "string",
          default: DEFAULT_KEY_TYPE,
          description: `The key's type: ${Object.keys(KEY_TYPES).join(", ")}.`,
        },
        derived: { type: "boolean", default: false, description: "Derive a key per context (AES, Ed25519)." },
        convergent_encryption: {
          type: "boolean",
          default: false,
          description: "The same plaintext and context give the same ciphertext (needs derived).",
        },
        ...EXPORT_FIELDS,
        auto_rotate_period: AUTO_ROTATE_PERIOD,
        key_size: { type: "integer", description: "For HMAC keys only: refused." },
        managed_key_name: unsupported("managed keys"),
        managed_key_id: unsupported("managed keys"),
        parameter_set: unsupported("post-quantum keys"),
        hybrid_key_type_pqc: unsupported("post-quantum keys"),
        hybrid_key_type_ec: unsupported("post-quantum keys"),
        context: {
          type: "string",
          description: "Reading a derived Ed25519 key: the base64 context whose public keys to show.",
        },
      },
      operations: {
        async update(request) {
          const fields = request.fields;
          const name = checkKeyName(fields.name);
          const type = keyTypeNamed(fields.type);
          refuseExport(fields);
          if (fields.key_size) throw invalidRequest(`key_size is not valid for algorithm ${type.name}`);
          refuseUnsupported(
            { managed_key_name: fields.managed_key_name, managed_key_id: fields.managed_key_id },
            "managed keys",
          );
          refuseUnsupported(
            {
              parameter_set: fields.parameter_set,
              hybrid_key_type_pqc: fields.hybrid_key_type_pqc,
              hybrid_key_type_ec: fields.hybrid_key_type_ec,
            },
            "post-quantum keys",
          );
          if (fields.convergent_encryption && !fields.derived)
            throw invalidRequest("convergent encryption requires derivation to be enabled");
          checkDerivation(type, fields.derived, fields.convergent_encryption);
          const { policy, created } = await createKey(transit, {
            name,
            type: type.name,
            derived: fields.derived,
            convergent: fields.convergent_encryption,
            autoRotatePeriod: autoRotatePeriod(fields.auto_rotate_period) ?? 0,
          });
          // Like Vault: creating an existing key changes nothing and says so.
          return keyResponse(transit, policy, created ? [] : [`key ${name} already existed`]);
        },

        async read(request) {
          const policy = await transit.storage.policy(checkKeyName(request.fields.name), { fresh: true });
          if (!policy) return notFoundResponse();
          const context = contextBytes(request.fields.context);
          return keyResponse(transit, policy, [], context);
        },

        async delete(request) {
          await deleteKey(transit, checkKeyName(request.fields.name));
          return {};
        },
      },
    }),
  ];
}
