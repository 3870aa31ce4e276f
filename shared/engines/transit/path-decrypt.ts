/** `decrypt/<name>`: `vault:v<N>:...` in, base64 plaintext out, one item or a batch. */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { batchResponse, itemString, requestItems, settleItems } from "./batch.ts";
import { carriesNonce, decryptItem, itemBytes, NONCE_IGNORED, refusePadding } from "./item-crypto.ts";
import { checkKeyName } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const ITEM_FIELDS = ["ciphertext", "context", "nonce", "associated_data", "reference", "padding_scheme"];
const FIELDS = [...ITEM_FIELDS, "batch_input", "partial_failure_response_code"];

export function decryptRoute(transit: TransitMount): Route {
  async function decrypt(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, FIELDS);
    const input = requestItems(request.data, ITEM_FIELDS);
    return withKey(transit, name, async (policy, fresh) => {
      if (!policy) throw invalidRequest("encryption key not found");
      let nonceIgnored = false;
      const results = await settleItems(input.items, ITEM_FIELDS, async (item) => {
        const ciphertext = itemString(item, "ciphertext");
        if (ciphertext === "") throw invalidRequest("missing ciphertext to decrypt");
        refusePadding(item, "padding_scheme");
        nonceIgnored ||= carriesNonce(item);
        const plaintext = await decryptItem(
          transit,
          policy,
          fresh,
          ciphertext,
          itemBytes(item, "context"),
          itemBytes(item, "associated_data"),
        );
        return { plaintext: toBase64(plaintext) };
      });
      return batchResponse(input, results, nonceIgnored ? [NONCE_IGNORED] : []);
    });
  }

  return { pattern: /^decrypt\/(?<name>[^/]+)$/, operations: { update: decrypt } };
}
