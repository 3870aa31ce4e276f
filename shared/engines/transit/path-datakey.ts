/**
 * `datakey/plaintext/<name>` and `datakey/wrapped/<name>`: a fresh random key of `bits`
 * bits, returned encrypted under the named key and, on the plaintext path only, also in
 * clear. Which of the two a caller may use is a matter of policy on the path.
 */
import { toBase64 } from "../../crypto/encoding.ts";
import { invalidRequest } from "../../errors.ts";
import { optionalInteger, rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import {
  carriesNonce,
  encryptItem,
  itemBytes,
  itemKeyVersion,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { checkKeyName } from "./key-policy.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const FIELDS = ["context", "nonce", "bits", "key_version", "padding_scheme"];
const BITS = [128, 256, 512];

export function datakeyRoute(transit: TransitMount): Route {
  async function datakey(request: EngineRequest): Promise<EngineResponse> {
    const kind = request.params.kind ?? "";
    if (kind !== "plaintext" && kind !== "wrapped") {
      throw invalidRequest(`invalid path: expected "datakey/plaintext/<name>" or "datakey/wrapped/<name>"`);
    }
    const name = checkKeyName(request.params.name ?? "");
    const data = request.data;
    rejectUnknownFields(data, FIELDS);
    const bits = optionalInteger(data, "bits") ?? 256;
    if (!BITS.includes(bits)) throw invalidRequest("invalid bits length: use 128, 256 or 512");
    refusePadding(data, "padding_scheme");
    const context = itemBytes(data, "context");
    const keyVersion = itemKeyVersion(data);
    return withKey(transit, name, async (policy, fresh) => {
      if (!policy) throw invalidRequest("encryption key not found");
      const plaintext = crypto.getRandomValues(new Uint8Array(bits / 8));
      try {
        const encrypted = await encryptItem(transit, policy, fresh, {
          plaintext,
          context,
          associatedData: new Uint8Array(0),
          keyVersion,
        });
        const response =
          kind === "plaintext" ? { ...encrypted, plaintext: toBase64(plaintext) } : { ...encrypted };
        return { data: response, warnings: carriesNonce(data) ? [NONCE_IGNORED] : undefined };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  return { pattern: /^datakey\/(?<kind>[^/]+)\/(?<name>[^/]+)$/, operations: { update: datakey } };
}
