/**
 * `verify/<name>(/<hash>)`: whether a signature (from sign) or an HMAC (from hmac) is
 * valid for base64 input, one item or a batch, as Vault answers it: `{valid}`; a
 * malformed signature, or one whose version policy no longer allows, is a 400 (an error
 * in its batch result).
 */
import { invalidRequest } from "../../errors.ts";
import { type JsonObject, type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { itemsResponse, requestItems, settleItems } from "./batch.ts";
import { decodeInput } from "./go-base64.ts";
import { DEFAULT_HASH } from "./hash-algorithms.ts";
import { checkKeyName, KEY_NAME } from "./key-policy.ts";
import { KEY_TYPES, supportsSigning } from "./key-types.ts";
import { HMAC_VERIFY_ITEM, verifyHmacs } from "./path-hmac.ts";
import { contextBytes, SIGNATURE_FIELDS, signatureOptions } from "./signature-fields.ts";
import { checkSignatureOptions, signatureVersion, verifyInput } from "./signing.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const SIGNATURE_ITEM = {
  input: { type: "string", description: "The base64 input the signature or HMAC is of." },
  signature: { type: "string", description: "The signature to check, vault:v<N>:<base64>." },
  context: SIGNATURE_FIELDS.context,
  reference: { type: "string", description: "Echoed in the item's batch result." },
} as const satisfies FieldSchema;

const CMAC = { type: "string", description: "Refused: CMAC keys are Vault Enterprise's." } as const;

/** Every field an item may carry, whatever it verifies. */
const VERIFY_ITEM = { ...SIGNATURE_ITEM, ...HMAC_VERIFY_ITEM, cmac: CMAC } as const satisfies FieldSchema;

const CMAC_ENTERPRISE_ONLY = "CMAC operations are only available in enterprise versions of Vault";

/**
 * What the request verifies: Vault's rules and messages for signature, hmac and cmac. An
 * item carrying several is taken as the first of signature, hmac, cmac, as in Vault.
 */
function verifying(items: readonly JsonObject[], batch: boolean): "signature" | "hmac" {
  const kinds = new Set(
    items.map((item) =>
      "signature" in item ? "signature" : "hmac" in item ? "hmac" : "cmac" in item ? "cmac" : "missing",
    ),
  );
  const found = (["signature", "hmac", "cmac"] as const).filter((kind) => kinds.has(kind));
  if (!batch && found.length === 0) {
    throw invalidRequest("missing 'signature', 'hmac' or 'cmac' were given to verify");
  }
  if (found.length > 1) {
    throw invalidRequest("elements of batch_input must all provide either 'signature', 'hmac' or 'cmac'");
  }
  const [kind] = found;
  if (kind === undefined) throw invalidRequest("no batch_input elements have 'signature', 'hmac' or 'cmac'");
  if (kinds.has("missing")) throw invalidRequest(`some elements of batch_input are missing '${kind}'`);
  if (kind === "cmac") throw invalidRequest(CMAC_ENTERPRISE_ONLY);
  return kind as "signature" | "hmac";
}

export function verifyRoute(transit: TransitMount): Route {
  return route({
    pattern: /^verify\/(?<name>[^/]+)(?:\/(?<urlalgorithm>.+))?$/,
    fields: {
      name: KEY_NAME,
      input: SIGNATURE_ITEM.input,
      signature: SIGNATURE_ITEM.signature,
      hmac: HMAC_VERIFY_ITEM.hmac,
      cmac: CMAC,
      mac_length: { type: "integer", description: "CMAC only: ignored, as CMAC is refused." },
      ...SIGNATURE_FIELDS,
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const fields = request.fields;
        const name = checkKeyName(fields.name);
        const single: JsonObject = { input: fields.input ?? "", context: fields.context ?? "" };
        for (const kind of ["signature", "hmac", "cmac"] as const) {
          if (fields[kind] !== undefined) single[kind] = fields[kind];
        }
        const input = requestItems({ ...fields, ...single }, VERIFY_ITEM);
        if (verifying(input.items, input.batch) === "hmac") {
          const algorithm =
            fields.urlalgorithm || (fields.hash_algorithm ?? fields.algorithm ?? DEFAULT_HASH);
          return verifyHmacs(transit, name, algorithm, input);
        }
        const options = signatureOptions(fields);
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("signature verification key not found");
          const type = KEY_TYPES[policy.type];
          if (!supportsSigning(type)) {
            throw invalidRequest(`key type ${policy.type} does not support verification`);
          }
          checkSignatureOptions(type, options, false);
          const results = await settleItems(input.items, SIGNATURE_ITEM, async (item) => {
            if (item.input === undefined) throw invalidRequest("missing input");
            const bytes = decodeInput(item.input);
            if (item.signature === undefined) throw invalidRequest("missing signature");
            const { version, payload } = signatureVersion(policy, fresh, item.signature);
            const context = contextBytes(item.context);
            return { valid: await verifyInput(transit, policy, version, payload, bytes, context, options) };
          });
          return itemsResponse(input, results, { valid: false });
        });
      },
    },
  });
}
