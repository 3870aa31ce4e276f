/**
 * `<mount>/subkeys/<path>`: a version's structure without its values. Every leaf (a
 * value that is not an object, or an empty object) becomes null; `depth` > 0 treats
 * keys at that depth as leaves.
 */
import { type JsonObject, type Route, route } from "../engine.ts";
import { versionMetadata } from "./describe.ts";
import { SECRET_PATH } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkSecretPath } from "./limits.ts";
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
  return route({
    pattern: /^subkeys\/(?<path>.+)$/,
    fields: {
      path: SECRET_PATH,
      version: { type: "integer", min: 0, description: "The version to read; 0 or none reads the latest." },
      depth: {
        type: "integer",
        min: 0,
        default: 0,
        description: "Keys at this depth are leaves; 0 descends all the way.",
      },
    },
    operations: {
      async read(request) {
        const path = checkSecretPath(request.fields.path);
        const result = await kv.secrets.read(path, request.fields.version || undefined);
        if (result.kind !== "live") return unreadable(path, result, "subkeys");
        return {
          data: {
            subkeys: subkeysOf(result.data, request.fields.depth),
            metadata: versionMetadata(result.metadata, result.version),
          },
        };
      },
    },
  });
}
