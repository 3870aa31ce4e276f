/**
 * `keys/<name>/trim`: deletes the versions below `min_available_version` for good. The
 * policy change and the deletions are one write when they fit in one (99 versions);
 * beyond that the rest follow at once, already unusable since the policy refuses them.
 */
import { invalidRequest } from "../../errors.ts";
import { optionalInteger, rejectUnknownFields } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { changeKey } from "./key-lifecycle.ts";
import { checkKeyName, type KeyPolicy } from "./key-policy.ts";
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
  async function trim(request: EngineRequest): Promise<EngineResponse> {
    const name = checkKeyName(request.params.name ?? "");
    rejectUnknownFields(request.data, ["min_available_version"]);
    const minAvailable = optionalInteger(request.data, "min_available_version");
    if (minAvailable === undefined) throw invalidRequest("missing min_available_version");
    const policy = await changeKey(transit, name, (before) => trimmedPolicy(before, minAvailable));
    if (!policy) throw invalidRequest("invalid key name");
    return keyResponse(transit, policy);
  }

  return { pattern: /^keys\/(?<name>[^/]+)\/trim$/, operations: { update: trim } };
}
