/**
 * `datakey/plaintext/<name>` and `datakey/wrapped/<name>`: a fresh random key of `bits`
 * bits, returned encrypted under the named key and, on the plaintext path only, also in
 * clear. Which of the two a caller may use is a matter of policy on the path.
 */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import {
  bytesOf,
  carriesNonce,
  encryptItem,
  ITEM_FIELDS,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { checkKeyName, KEY_NAME } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const BITS = [128, 256, 512];

export function datakeyRoute(transit: TransitMount): Route {
  return route({
    pattern: /^datakey\/(?<kind>[^/]+)\/(?<name>[^/]+)$/,
    fields: {
      kind: { type: "string", path: true, description: '"plaintext" (the key in clear too) or "wrapped".' },
      name: KEY_NAME,
      bits: { type: "integer", default: 256, description: "The data key's length: 128, 256 or 512." },
      context: ITEM_FIELDS.context,
      nonce: ITEM_FIELDS.nonce,
      key_version: ITEM_FIELDS.key_version,
      padding_scheme: { type: "string", description: "RSA only: refused for AES keys." },
    },
    // Nothing written: served in either region (shared/mounts/request-region.ts).
    region: { update: "local" },
    operations: {
      async update(request) {
        const { kind, bits } = request.fields;
        if (kind !== "plaintext" && kind !== "wrapped") {
          throw invalidRequest(
            `invalid path: expected "datakey/plaintext/<name>" or "datakey/wrapped/<name>"`,
          );
        }
        const name = checkKeyName(request.fields.name);
        if (!BITS.includes(bits)) throw invalidRequest("invalid bits length: use 128, 256 or 512");
        refusePadding({ padding_scheme: request.fields.padding_scheme });
        const context = bytesOf(request.fields.context, "context");
        return withKey(transit, name, async (policy, fresh) => {
          if (!policy) throw invalidRequest("encryption key not found");
          const plaintext = crypto.getRandomValues(new Uint8Array(bits / 8));
          try {
            const encrypted = await encryptItem(transit, policy, fresh, {
              plaintext,
              context,
              associatedData: new Uint8Array(0),
              keyVersion: request.fields.key_version,
            });
            const response =
              kind === "plaintext" ? { ...encrypted, plaintext: toBase64(plaintext) } : { ...encrypted };
            return { data: response, warnings: carriesNonce(request.fields) ? [NONCE_IGNORED] : undefined };
          } finally {
            plaintext.fill(0);
          }
        });
      },
    },
  });
}
