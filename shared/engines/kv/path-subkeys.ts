/**
 * `<mount>/subkeys/<path>`: a version's structure without its values. Every leaf (a
 * value that is not an object, or an empty object) becomes null; `depth` > 0 treats
 * keys at that depth as leaves.
 */
import { ignoredFieldsWarning, optionalInteger } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engine.ts";
import { versionMetadata } from "./describe.ts";
import { secretPathOf, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { unreadable } from "./path-data.ts";

const isNonEmptyObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0;

export function subkeysOf(data: JsonObject, maxDepth: number, depth = 1): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(data)) {
    const descend = isNonEmptyObject(value) && (maxDepth === 0 || depth < maxDepth);
    Object.defineProperty(result, key, {
      value: descend ? subkeysOf(value, maxDepth, depth + 1) : null,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

export function subkeysRoute(kv: KvV2Mount): Route {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const version = optionalInteger(request.data, "version", { min: 0 });
    const depth = optionalInteger(request.data, "depth", { min: 0 }) ?? 0;
    const result = await kv.secrets.read(path, version || undefined);
    const warnings = [ignoredFieldsWarning(request.data, ["version", "depth"])];
    if (result.kind !== "live") return withWarnings(unreadable(path, result, "subkeys"), warnings);
    return withWarnings(
      {
        data: {
          subkeys: subkeysOf(result.data, depth),
          metadata: versionMetadata(result.metadata, result.version),
        },
      },
      warnings,
    );
  }

  return { pattern: /^subkeys\/(?<path>.+)$/, operations: { read } };
}
