/** `decrypt/<name>`: `vault:v<N>:...` in, base64 plaintext out, one item or a batch. */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { BATCH_FIELDS, batchResponse, requestItems, settleItems } from "./batch.ts";
import {
  bytesOf,
  carriesNonce,
  decryptItem,
  ITEM_FIELDS,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { checkKeyName, KEY_NAME } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const DECRYPT_ITEM = {
  ciphertext: { type: "string", description: "The ciphertext, vault:v<N>:<base64>." },
  padding_scheme: { type: "string", description: "RSA only: refused for AES keys." },
  ...ITEM_FIELDS,
} as const satisfies FieldSchema;

export function decryptRoute(transit: TransitMount): Route {
  return route({
    pattern: /^decrypt\/(?<name>[^/]+)$/,
    fields: { name: KEY_NAME, ...DECRYPT_ITEM, ...BATCH_FIELDS },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const name = checkKeyName(request.fields.name);
        const input = requestItems(request.fields, DECRYPT_ITEM);
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("encryption key not found");
          let nonceIgnored = false;
          const results = await settleItems(input.items, DECRYPT_ITEM, async (item) => {
            if (!item.ciphertext) throw invalidRequest("missing ciphertext to decrypt");
            refusePadding({ padding_scheme: item.padding_scheme });
            nonceIgnored ||= carriesNonce(item);
            const plaintext = await decryptItem(
              transit,
              policy,
              fresh,
              item.ciphertext,
              bytesOf(item.context, "context"),
              bytesOf(item.associated_data, "associated_data"),
            );
            return { plaintext: toBase64(plaintext) };
          });
          return batchResponse(input, results, nonceIgnored ? [NONCE_IGNORED] : []);
        });
      },
    },
  });
}
