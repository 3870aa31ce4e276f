/**
 * `<mount>/config`: the mount-wide max_versions, cas_required and delete_version_after
 * that every secret falls back to. A negative delete_version_after turns the setting off
 * for every secret; zero clears it (Vault's rules).
 */
import { ignoredFieldsWarning, optionalBoolean, optionalInteger, parseDuration } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engine.ts";
import { describeConfig } from "./describe.ts";
import { withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { MAX_VERSIONS_LIMIT } from "./limits.ts";
import { DELETE_VERSION_AFTER_DISABLED } from "./mount-config.ts";

const FIELDS = ["max_versions", "cas_required", "delete_version_after"];

/** A signed duration: negative values (-1, "-1s") mean "disabled". */
function signedDuration(data: JsonObject, name: string): number | undefined {
  const value = data[name];
  if (value === undefined || value === null || value === "") return undefined;
  const negative =
    (typeof value === "number" && value < 0) || (typeof value === "string" && value.trim().startsWith("-"));
  if (!negative) return parseDuration(value, name);
  parseDuration(typeof value === "number" ? -value : value.trim().slice(1), name);
  return DELETE_VERSION_AFTER_DISABLED;
}

export function configRoute(kv: KvV2Mount): Route {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    return withWarnings({ data: describeConfig(await kv.config.get()) }, [
      ignoredFieldsWarning(request.data, []),
    ]);
  }

  async function write(request: EngineRequest): Promise<EngineResponse> {
    const maxVersions = optionalInteger(request.data, "max_versions", { min: 0, max: MAX_VERSIONS_LIMIT });
    const casRequired = optionalBoolean(request.data, "cas_required");
    const deleteVersionAfter = signedDuration(request.data, "delete_version_after");
    const ignored = ignoredFieldsWarning(request.data, FIELDS);
    if (maxVersions === undefined && casRequired === undefined && deleteVersionAfter === undefined) {
      return withWarnings({}, [ignored]);
    }
    await kv.config.update((config) => {
      if (maxVersions !== undefined) config.max_versions = maxVersions;
      if (casRequired !== undefined) config.cas_required = casRequired;
      if (deleteVersionAfter !== undefined) config.delete_version_after = deleteVersionAfter;
    });
    return withWarnings({}, [ignored]);
  }

  return { pattern: /^config$/, operations: { read, update: write } };
}
