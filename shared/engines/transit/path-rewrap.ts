/**
 * `rewrap/<name>`: decrypts and encrypts again under the latest version (or `key_version`)
 * inside the broker, so the caller moves ciphertext forward without ever seeing, or being
 * allowed to see, the plaintext. `associated_data` is accepted too (Vault's rewrap lacks
 * it), or ciphertext made with it could never be rewrapped.
 */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { BATCH_FIELDS, batchResponse, requestItems, settleItems } from "./batch.ts";
import {
  bytesOf,
  carriesNonce,
  decryptItem,
  encryptItem,
  ITEM_FIELDS,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { checkKeyName, KEY_NAME } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const REWRAP_ITEM = {
  ciphertext: {
    type: "string",
    description: "The ciphertext to move to the latest (or key_version) version.",
  },
  decrypt_padding_scheme: { type: "string", description: "RSA only: refused for AES keys." },
  encrypt_padding_scheme: { type: "string", description: "RSA only: refused for AES keys." },
  ...ITEM_FIELDS,
} as const satisfies FieldSchema;

export function rewrapRoute(transit: TransitMount): Route {
  return route({
    pattern: /^rewrap\/(?<name>[^/]+)$/,
    fields: { name: KEY_NAME, ...REWRAP_ITEM, ...BATCH_FIELDS },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const name = checkKeyName(request.fields.name);
        const input = requestItems(request.fields, REWRAP_ITEM);
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("encryption key not found");
          let nonceIgnored = false;
          const results = await settleItems(input.items, REWRAP_ITEM, async (item) => {
            if (!item.ciphertext) throw invalidRequest("missing ciphertext to decrypt");
            refusePadding({
              decrypt_padding_scheme: item.decrypt_padding_scheme,
              encrypt_padding_scheme: item.encrypt_padding_scheme,
            });
            nonceIgnored ||= carriesNonce(item);
            const context = bytesOf(item.context, "context");
            const associatedData = bytesOf(item.associated_data, "associated_data");
            const plaintext = await decryptItem(
              transit,
              policy,
              fresh,
              item.ciphertext,
              context,
              associatedData,
            );
            try {
              return {
                ...(await encryptItem(transit, policy, fresh, {
                  plaintext,
                  context,
                  associatedData,
                  keyVersion: item.key_version,
                })),
              };
            } finally {
              plaintext.fill(0);
            }
          });
          return batchResponse(input, results, nonceIgnored ? [NONCE_IGNORED] : []);
        });
      },
    },
  });
}
