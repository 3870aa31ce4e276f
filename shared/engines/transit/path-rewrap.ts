/**
 * `rewrap/<name>`: decrypts and encrypts again under the latest version (or `key_version`)
 * inside the broker, so the caller moves ciphertext forward without ever seeing, or being
 * allowed to see, the plaintext. `associated_data` is accepted too (Vault's rewrap lacks
 * it), or ciphertext made with it could never be rewrapped.
 */
import { invalidRequest } from "../../errors.ts";
import { rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { batchResponse, itemString, requestItems, settleItems } from "./batch.ts";
import {
  carriesNonce,
  decryptItem,
  encryptItem,
  itemBytes,
  itemKeyVersion,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { checkKeyName } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const ITEM_FIELDS = [
  "ciphertext",
  "context",
  "nonce",
  "key_version",
  "associated_data",
  "reference",
  "decrypt_padding_scheme",
  "encrypt_padding_scheme",
];
const FIELDS = [...ITEM_FIELDS, "batch_input", "partial_failure_response_code"];

export function rewrapRoute(transit: TransitMount): Route {
  async function rewrap(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, FIELDS);
    const input = requestItems(request.data, ITEM_FIELDS);
    return withKey(transit, name, async (policy, fresh) => {
      if (!policy) throw invalidRequest("encryption key not found");
      let nonceIgnored = false;
      const results = await settleItems(input.items, ITEM_FIELDS, async (item) => {
        const ciphertext = itemString(item, "ciphertext");
        if (ciphertext === "") throw invalidRequest("missing ciphertext to decrypt");
        refusePadding(item, "decrypt_padding_scheme", "encrypt_padding_scheme");
        nonceIgnored ||= carriesNonce(item);
        const context = itemBytes(item, "context");
        const associatedData = itemBytes(item, "associated_data");
        const keyVersion = itemKeyVersion(item);
        const plaintext = await decryptItem(transit, policy, fresh, ciphertext, context, associatedData);
        try {
          return {
            ...(await encryptItem(transit, policy, fresh, {
              plaintext,
              context,
              associatedData,
              keyVersion,
            })),
          };
        } finally {
          plaintext.fill(0);
        }
      });
      return batchResponse(input, results, nonceIgnored ? [NONCE_IGNORED] : []);
    });
  }

  return { pattern: /^rewrap\/(?<name>[^/]+)$/, operations: { update: rewrap } };
}
