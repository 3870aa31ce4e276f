/**
 * `encrypt/<name>`: base64 plaintext in, `vault:v<N>:...` out, one item or a batch.
 *
 * As in Vault, encrypting under a key that does not exist creates it ("upsert") when the
 * caller holds the `create` capability on the path and the mount's `config/keys` does not
 * disable upserts; the new key is derived when the request carries a context. For a
 * missing key the request is a create, so callers holding only `update` are refused (403).
 */
import { invalidRequest } from "../../errors.ts";
import { optionalBoolean, optionalString, rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { batchResponse, requestItems, settleItems } from "./batch.ts";
import {
  carriesNonce,
  encryptItem,
  itemBytes,
  itemKeyVersion,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { createKey } from "./key-lifecycle.ts";
import { checkKeyName, isKeyName, KEY_TYPE, type KeyPolicy } from "./key-policy.ts";
import { checkKeyType } from "./path-keys.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const ITEM_FIELDS = [
  "plaintext",
  "context",
  "nonce",
  "key_version",
  "associated_data",
  "reference",
  "padding_scheme",
];
const FIELDS = [
  ...ITEM_FIELDS,
  "batch_input",
  "type",
  "convergent_encryption",
  "partial_failure_response_code",
];

export function encryptRoute(transit: TransitMount): Route {
  async function upsert(request: EngineRequest, name: string, derived: boolean, warnings: string[]) {
    // The router checked the key's existence: only a request authorized as "create" may
    // create it (one that found the key, deleted since, was authorized as "update" only).
    if (request.operation !== "create" || (await transit.storage.settings()).disableUpsert) {
      throw invalidRequest("encryption key not found");
    }
    checkKeyType(optionalString(request.data, "type") ?? KEY_TYPE);
    const convergent = optionalBoolean(request.data, "convergent_encryption") ?? false;
    if (convergent && !derived) {
      throw invalidRequest("convergent encryption requires derivation to be enabled, so context is required");
    }
    const { policy, created } = await createKey(transit, { name, derived, convergent, autoRotatePeriod: 0 });
    if (!created) {
      warnings.push(
        "Attempted creation of the key during the encrypt operation, but it was created beforehand",
      );
    }
    return policy;
  }

  async function encrypt(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, FIELDS);
    const input = requestItems(request.data, ITEM_FIELDS);
    if (!input.batch && request.data.plaintext === undefined) {
      throw invalidRequest("missing plaintext to encrypt");
    }
    const hasContext = input.items.map((item) => typeof item.context === "string" && item.context !== "");
    const derived = hasContext[0] ?? false;
    if (hasContext.some((has) => has !== derived)) {
      throw invalidRequest("context should be set either in all the request blocks or in none");
    }

    return withKey(transit, name, async (found, fresh) => {
      const warnings: string[] = [];
      const policy: KeyPolicy = found ?? (await upsert(request, name, derived, warnings));
      let nonceIgnored = false;
      const results = await settleItems(input.items, ITEM_FIELDS, async (item) => {
        if (item.plaintext === undefined || item.plaintext === null) {
          throw invalidRequest("missing plaintext to encrypt");
        }
        refusePadding(item, "padding_scheme");
        nonceIgnored ||= carriesNonce(item);
        const encrypted = await encryptItem(transit, policy, fresh || !found, {
          plaintext: itemBytes(item, "plaintext"),
          context: itemBytes(item, "context"),
          associatedData: itemBytes(item, "associated_data"),
          keyVersion: itemKeyVersion(item),
        });
        return { ...encrypted };
      });
      if (nonceIgnored) warnings.push(NONCE_IGNORED);
      return batchResponse(input, results, warnings);
    });
  }

  return {
    pattern: /^encrypt\/(?<name>[^/]+)$/,
    exists: async (request) => {
      const name = request.params.name ?? "";
      // An invalid name names no key; the handler answers it with a 400.
      if (!isKeyName(name)) return false;
      return (await transit.storage.policy(name)) !== undefined;
    },
    operations: { create: encrypt, update: encrypt },
  };
}
