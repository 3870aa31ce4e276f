/**
 * `encrypt/<name>`: base64 plaintext in, `vault:v<N>:...` out, one item or a batch.
 *
 * As in Vault, encrypting under a key that does not exist creates it ("upsert") when the
 * caller holds the `create` capability on the path and the mount's `config/keys` does not
 * disable upserts; the new key is derived when the request carries a context. For a
 * missing key the request is a create, so callers holding only `update` are refused (403).
 */
import { invalidRequest } from "../../errors.ts";
import { type EngineRequest, type Route, route } from "../engine.ts";
import type { FieldSchema } from "../fields.ts";
import { BATCH_FIELDS, batchResponse, requestItems, settleItems } from "./batch.ts";
import {
  bytesOf,
  carriesNonce,
  encryptItem,
  ITEM_FIELDS,
  NONCE_IGNORED,
  refusePadding,
} from "./item-crypto.ts";
import { createKey } from "./key-lifecycle.ts";
import { checkKeyName, isKeyName, KEY_NAME, type KeyPolicy } from "./key-policy.ts";
import { DEFAULT_KEY_TYPE, type KeyTypeName, keyTypeNamed } from "./key-types.ts";
import { type TransitMount, withKey } from "./transit-mount.ts";

const ENCRYPT_ITEM = {
  plaintext: { type: "string", description: "The base64 plaintext." },
  padding_scheme: { type: "string", description: "RSA only: refused for AES keys." },
  ...ITEM_FIELDS,
} as const satisfies FieldSchema;

/** The type of a key encrypt creates: one that encrypts, with Vault's refusals of the others. */
function upsertType(name: string): KeyTypeName {
  const type = keyTypeNamed(name);
  if (type.kind === "aes") return type.name;
  if (type.kind === "ecdsa") throw invalidRequest(`key type ${name} not supported for this operation`);
  if (type.kind === "ed25519") throw invalidRequest(`unknown key type ${name}`);
  throw invalidRequest(
    `key type ${name} is not supported for encryption: Coffer encrypts with ${DEFAULT_KEY_TYPE} keys`,
  );
}

export function encryptRoute(transit: TransitMount): Route {
  async function upsert(
    request: EngineRequest<{ type: string; convergent_encryption: boolean }>,
    name: string,
    derived: boolean,
    warnings: string[],
  ) {
    // The router checked the key's existence: only a request authorized as "create" may
    // create it (one that found the key, deleted since, was authorized as "update" only).
    if (request.operation !== "create" || (await transit.storage.settings()).disableUpsert) {
      throw invalidRequest("encryption key not found");
    }
    const type = upsertType(request.fields.type);
    const convergent = request.fields.convergent_encryption;
    if (convergent && !derived) {
      throw invalidRequest("convergent encryption requires derivation to be enabled, so context is required");
    }
    const { policy, created } = await createKey(transit, {
      name,
      type,
      derived,
      convergent,
      autoRotatePeriod: 0,
    });
    if (!created) {
      warnings.push(
        "Attempted creation of the key during the encrypt operation, but it was created beforehand",
      );
    }
    return policy;
  }

  const encrypt = async (
    request: EngineRequest<{
      name: string;
      type: string;
      convergent_encryption: boolean;
      plaintext: string | undefined;
    }>,
  ) => {
    const name = checkKeyName(request.fields.name);
    const input = requestItems(request.fields, ENCRYPT_ITEM);
    if (!input.batch && request.fields.plaintext === undefined) {
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
      const results = await settleItems(input.items, ENCRYPT_ITEM, async (item) => {
        if (item.plaintext === undefined) throw invalidRequest("missing plaintext to encrypt");
        refusePadding({ padding_scheme: item.padding_scheme });
        nonceIgnored ||= carriesNonce(item);
        const encrypted = await encryptItem(transit, policy, fresh || !found, {
          plaintext: bytesOf(item.plaintext, "plaintext"),
          context: bytesOf(item.context, "context"),
          associatedData: bytesOf(item.associated_data, "associated_data"),
          keyVersion: item.key_version,
        });
        return { ...encrypted };
      });
      if (nonceIgnored) warnings.push(NONCE_IGNORED);
      return batchResponse(input, results, warnings);
    });
  };

  return route({
    pattern: /^encrypt\/(?<name>[^/]+)$/,
    fields: {
      name: KEY_NAME,
      ...ENCRYPT_ITEM,
      ...BATCH_FIELDS,
      type: { type: "string", default: DEFAULT_KEY_TYPE, description: "The type of a key encrypt creates." },
      convergent_encryption: {
        type: "boolean",
        default: false,
        description: "Whether a key encrypt creates is convergent (needs a context).",
      },
    },
    exists: async (request) => {
      const name = request.fields.name;
      // An invalid name names no key; the handler answers it with a 400.
      if (!isKeyName(name)) return false;
      return (await transit.storage.policy(name)) !== undefined;
    },
    operations: { create: encrypt, update: encrypt },
  });
}
