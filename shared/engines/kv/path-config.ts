/**
 * `<mount>/config`: the mount-wide max_versions, cas_required and delete_version_after
 * that every secret falls back to. A negative delete_version_after turns the setting off
 * for every secret; zero clears it (Vault's rules).
 */
import { type Route, route } from "../engine.ts";
import { parseDuration } from "../fields.ts";
import { describeConfig } from "./describe.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { MAX_VERSIONS_LIMIT } from "./limits.ts";
import { DELETE_VERSION_AFTER_DISABLED } from "./mount-config.ts";

/** A signed duration: negative values (-1, "-1s") mean "disabled". */
function signedDuration(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const negative =
    (typeof value === "number" && value < 0) || (typeof value === "string" && value.trim().startsWith("-"));
  if (!negative) return parseDuration(value, name);
  parseDuration(typeof value === "number" ? -value : value.trim().slice(1), name);
  return DELETE_VERSION_AFTER_DISABLED;
}

export function configRoute(kv: KvV2Mount): Route {
  return route({
    pattern: /^config$/,
    fields: {
      max_versions: {
        type: "integer",
        min: 0,
        max: MAX_VERSIONS_LIMIT,
        description: "Versions each secret keeps unless it says otherwise; 0 is Vault's default of 10.",
      },
      cas_required: { type: "boolean", description: "Every write to every secret must give options.cas." },
      delete_version_after: {
        type: "any",
        description: "How long after a write its version is deleted; negative turns it off everywhere.",
      },
    },
    operations: {
      read: async () => ({ data: describeConfig(await kv.config.get()) }),
      async update(request) {
        const { max_versions: maxVersions, cas_required: casRequired } = request.fields;
        const deleteVersionAfter = signedDuration(
          request.fields.delete_version_after,
          "delete_version_after",
        );
        if (maxVersions === undefined && casRequired === undefined && deleteVersionAfter === undefined)
          return {};
        await kv.config.update((config) => {
          if (maxVersions !== undefined) config.max_versions = maxVersions;
          if (casRequired !== undefined) config.cas_required = casRequired;
          if (deleteVersionAfter !== undefined) config.delete_version_after = deleteVersionAfter;
        });
        return {};
      },
    },
  });
}
