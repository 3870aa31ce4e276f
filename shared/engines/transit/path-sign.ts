/**
 * `sign/<name>(/<hash>)`: the signature of base64 input with a signing key's latest
 * version (or `key_version`), `vault:v<N>:<base64>`, one item or a batch. A derived
 * Ed25519 key signs with the key of each item's context and returns its public key.
 */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { type JsonObject, type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { itemsResponse, requestItems, settleItems } from "./batch.ts";
import { decodeInput } from "./go-base64.ts";
import { StaleKeyVersion } from "./key-material.ts";
import { checkKeyName, KEY_NAME, signingVersion } from "./key-policy.ts";
import { KEY_TYPES, supportsSigning } from "./key-types.ts";
import { contextBytes, SIGNATURE_FIELDS, signatureOptions } from "./signature-fields.ts";
import { checkSignatureOptions, signInput } from "./signing.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const SIGN_ITEM = {
  input: { type: "string", description: "The base64 input to sign." },
  context: SIGNATURE_FIELDS.context,
  reference: { type: "string", description: "Echoed in the item's batch result." },
} as const satisfies FieldSchema;

export function signRoute(transit: TransitMount): Route {
  return route({
    pattern: /^sign\/(?<name>[^/]+)(?:\/(?<urlalgorithm>.+))?$/,
    fields: {
      name: KEY_NAME,
      input: SIGN_ITEM.input,
      key_version: { type: "integer", description: "The version to sign with; 0 is the latest." },
      ...SIGNATURE_FIELDS,
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const fields = request.fields;
        const name = checkKeyName(fields.name);
        const options = signatureOptions(fields);
        const requested = fields.key_version;
        const input = requestItems(fields, SIGN_ITEM);
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("signing key not found");
          const type = KEY_TYPES[policy.type];
          if (!supportsSigning(type))
            throw invalidRequest(`key type ${policy.type} does not support signing`);
          checkSignatureOptions(type, options, true);
          if (!fresh && (requested ?? 0) > policy.latestVersion) {
            throw new StaleKeyVersion(`version ${requested} is newer than the cached policy of ${name}`);
          }
          const results = await settleItems(input.items, SIGN_ITEM, async (item) => {
            // A single request without input signs the empty input, as Vault's does.
            if (item.input === undefined && input.batch) throw invalidRequest("missing input");
            const bytes = decodeInput(item.input ?? "");
            const context = contextBytes(item.context);
            const version = signingVersion(policy, requested);
            const signed = await signInput(transit, policy, version, bytes, context, options);
            const result: JsonObject = { signature: signed.signature, key_version: version };
            // Vault names it differently in a batch.
            if (signed.publicKey)
              result[input.batch ? "publickey" : "public_key"] = toBase64(signed.publicKey);
            return result;
          });
          return itemsResponse(input, results, { key_version: 0 });
        });
      },
    },
  });
}
