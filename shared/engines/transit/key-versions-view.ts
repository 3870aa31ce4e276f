/**
 * What `keys/<name>` shows of each version, as Vault shows it: for AES keys the creation
 * time in unix seconds; for signing keys an object with the public key, its name
 * ("P-256", "ed25519", "rsa-2048"), the creation time (RFC 3339) and an empty certificate
 * chain (Coffer imports no certificates). A derived Ed25519 key has a public key per
 * context: shown for the `context` given, empty without one.
 *
 * As in Vault, only versions from min_decryption_version on are shown: older ones can no
 * longer decrypt or verify, and Vault keeps them apart, in its archive.
 */

import { toBase64 } from "../../crypto/encoding.ts";
import type { JsonObject } from "../engine.ts";
import { publicKeyText } from "./key-pair.ts";
import type { KeyPolicy } from "./key-policy.ts";
import type { StoredVersion } from "./key-storage.ts";
import { KEY_TYPES, type KeyType } from "./key-types.ts";
import { derivedEd25519 } from "./signing.ts";
import type { TransitMount } from "./transit-mount.ts";

/** Go's time.Time in JSON (RFC 3339, no fraction for whole seconds), in UTC. */
export const rfc3339 = (unixSeconds: number) =>
  new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");

function publicKeyName(type: KeyType): string {
  return type.kind === "ecdsa" ? type.curve : type.name;
}

/** The versions of `policy` that are shown, oldest first. */
export async function shownVersions(transit: TransitMount, policy: KeyPolicy): Promise<StoredVersion[]> {
  return (await transit.storage.versions(policy)).filter(
    (stored) => stored.version >= policy.minDecryptionVersion,
  );
}

/** The public key of a version as Vault's read shows it; "" when there is none to show. */
export async function shownPublicKey(
  transit: TransitMount,
  policy: KeyPolicy,
  stored: StoredVersion,
  context: Uint8Array,
): Promise<string> {
  const type = KEY_TYPES[policy.type];
  if (type.kind === "ed25519" && policy.derived) {
    if (context.length === 0) return "";
    return toBase64((await derivedEd25519(transit, policy, stored.version, context)).publicKey);
  }
  return stored.publicKey ? publicKeyText(type, stored.publicKey) : "";
}

export async function describeVersions(
  transit: TransitMount,
  policy: KeyPolicy,
  context: Uint8Array,
): Promise<JsonObject> {
  const type = KEY_TYPES[policy.type];
  const keys: JsonObject = {};
  for (const stored of await shownVersions(transit, policy)) {
    keys[String(stored.version)] =
      type.kind === "aes"
        ? stored.createdAt
        : {
            certificate_chain: "",
            creation_time: rfc3339(stored.createdAt),
            hybrid_public_key: "",
            name: publicKeyName(type),
            public_key: await shownPublicKey(transit, policy, stored, context),
          };
  }
  return keys;
}
