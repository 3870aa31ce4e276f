/**
 * `keys/<name>/trim`: deletes the versions below `min_available_version` for good. The
 * policy change and the deletions are one write when they fit in one (99 versions);
 * beyond that the rest follow at once, already unusable since the policy refuses them.
 */
import { invalidRequest } from "../../errors.ts";
import { type Route, route } from "../engine.ts";
import { changeKey } from "./key-lifecycle.ts";
import { checkKeyName, KEY_NAME, type KeyPolicy } from "./key-policy.ts";
import { keyResponse } from "./path-keys.ts";
import type { TransitMount } from "./transit-mount.ts";

export function trimmedPolicy(before: KeyPolicy, minAvailable: number): KeyPolicy {
  if (minAvailable < before.minAvailableVersion)
    throw invalidRequest("minimum available version cannot be decremented");
  if (before.minEncryptionVersion === 0) {
    throw invalidRequest(
      "minimum available version cannot be set when minimum encryption version is not set",
    );
  }
  if (before.minDecryptionVersion === 0) {
    throw invalidRequest(
      "minimum available version cannot be set when minimum decryption version is not set",
    );
  }
  if (minAvailable > before.minEncryptionVersion) {
    throw invalidRequest("minimum available version cannot be greater than minimum encryption version");
  }
  if (minAvailable > before.minDecryptionVersion) {
    throw invalidRequest("minimum available version cannot be greater than minimum decryption version");
  }
  if (minAvailable < 0) throw invalidRequest("minimum available version cannot be negative");
  if (minAvailable === 0) throw invalidRequest("minimum available version should be positive");
  return { ...before, minAvailableVersion: minAvailable };
}

export function trimRoute(transit: TransitMount): Route {
  return route({
    pattern: /^keys\/(?<name>[^/]+)\/trim$/,
    fields: {
      name: KEY_NAME,
      min_available_version: { type: "integer", description: "Versions below it are deleted for good." },
    },
    operations: {
      async update(request) {
        const name = checkKeyName(request.fields.name);
        const minAvailable = request.fields.min_available_version;
        if (minAvailable === undefined) throw invalidRequest("missing min_available_version");
        const policy = await changeKey(transit, name, (before) => trimmedPolicy(before, minAvailable));
        if (!policy) throw invalidRequest("invalid key name");
        return keyResponse(transit, policy);
      },
    },
  });
}
