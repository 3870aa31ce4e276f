/**
 * `<mount>/metadata/<path>`: read a secret's metadata, create or replace its settings
 * (POST), patch them (PATCH, JSON merge patch), delete the secret with every version
 * (DELETE), and LIST the secrets in a folder.
 */
import { invalidRequest } from "../../errors.ts";
import { type EngineResponse, notFoundResponse, type Route, route } from "../engine.ts";
import { describeMetadata } from "./describe.ts";
import { requireMergePatch, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkCustomMetadata, checkSecretPath, MAX_VERSIONS_LIMIT } from "./limits.ts";
import { listFolder } from "./listing.ts";
import type { SecretMetadata } from "./storage.ts";

interface MetadataSettings {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: number;
  /** null values remove keys (PATCH only); a null map removes them all. */
  custom_metadata?: Record<string, string | null> | null;
}

/** What a request gives of the settings, as its fields parsed it. */
interface MetadataFields {
  max_versions: number | undefined;
  cas_required: boolean | undefined;
  delete_version_after: number | undefined;
  custom_metadata: unknown;
}

/** The settings a request gives; `patch` allows nulls, which remove what they name. */
function settingsOf(fields: MetadataFields, patch: boolean): MetadataSettings {
  const settings: MetadataSettings = {
    max_versions: fields.max_versions,
    cas_required: fields.cas_required,
    delete_version_after: fields.delete_version_after,
  };
  const custom = fields.custom_metadata;
  if (custom === null && patch) {
    settings.custom_metadata = null;
    return settings;
  }
  if (custom !== undefined && custom !== null) {
    if (typeof custom !== "object" || Array.isArray(custom)) {
      throw invalidRequest('invalid value for "custom_metadata": expected an object');
    }
    const entries: [string, string | null][] = Object.entries(custom).map(([key, value]) => {
      if (typeof value === "string") return [key, value];
      if (typeof value === "number" && Number.isFinite(value)) return [key, String(value)];
      if (value === null && patch) return [key, null];
      throw invalidRequest(
        `invalid value for "custom_metadata": the value of ${JSON.stringify(key)} must be a string`,
      );
    });
    settings.custom_metadata = Object.fromEntries(entries);
    checkCustomMetadata(
      Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== null)),
    );
  }
  return settings;
}

function applySettings(metadata: SecretMetadata, settings: MetadataSettings, patch: boolean): void {
  if (settings.max_versions !== undefined) metadata.max_versions = settings.max_versions;
  if (settings.cas_required !== undefined) metadata.cas_required = settings.cas_required;
  if (settings.delete_version_after !== undefined)
    metadata.delete_version_after = settings.delete_version_after;
  const custom = settings.custom_metadata;
  if (custom === undefined) return;
  if (!patch || custom === null) {
    metadata.custom_metadata = (custom ?? {}) as Record<string, string>;
    return;
  }
  const merged: Record<string, string> = Object.fromEntries(Object.entries(metadata.custom_metadata));
  for (const [key, value] of Object.entries(custom)) {
    if (value === null) delete merged[key];
    else Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
  }
  // The merge can grow past the limits that each patch alone respects.
  checkCustomMetadata(merged);
  metadata.custom_metadata = merged;
}

export function metadataRoute(kv: KvV2Mount): Route {
  async function casWarning(settings: MetadataSettings): Promise<string | undefined> {
    if (settings.cas_required !== false || !(await kv.config.get()).cas_required) return undefined;
    return '"cas_required" set to false, but is mandated by backend config. This value will be ignored.';
  }

  return route({
    pattern: /^metadata(?:\/(?<path>.*))?$/,
    fields: {
      path: { type: "string", path: true, description: "The secret's path, or the folder to list." },
      max_versions: {
        type: "integer",
        min: 0,
        max: MAX_VERSIONS_LIMIT,
        description: "Versions kept; 0 takes the mount's setting.",
      },
      cas_required: { type: "boolean", description: "Every write must give options.cas." },
      delete_version_after: {
        type: "duration",
        description: "How long after a write its version is deleted; 0 takes the mount's setting.",
      },
      custom_metadata: {
        type: "any",
        description: "String values kept with the secret; in a patch, null removes a key or all of them.",
      },
    },
    exists: (request) => kv.secrets.exists(checkSecretPath(request.fields.path)),
    operations: {
      async read(request) {
        const metadata = await kv.secrets.metadata(checkSecretPath(request.fields.path));
        if (!metadata) return notFoundResponse();
        return { data: describeMetadata(metadata) };
      },

      list: (request) => listFolder(kv.store, kv.mountUuid, request.fields.path),

      create: (request) => write(request.fields),
      update: (request) => write(request.fields),

      async patch(request) {
        requireMergePatch(request);
        const path = checkSecretPath(request.fields.path);
        const settings = settingsOf(request.fields, true);
        const changed = await kv.secrets.change(path, (metadata) => {
          applySettings(metadata, settings, true);
          return true;
        });
        if (!changed) return notFoundResponse();
        return withWarnings({}, [await casWarning(settings)]);
      },

      async delete(request) {
        await kv.secrets.remove(checkSecretPath(request.fields.path));
        return {};
      },
    },
  });

  async function write(fields: MetadataFields & { path: string }): Promise<EngineResponse> {
    const path = checkSecretPath(fields.path);
    const settings = settingsOf(fields, false);
    if (Object.values(settings).every((value) => value === undefined)) return {};
    await kv.secrets.change(
      path,
      (metadata) => {
        applySettings(metadata, settings, false);
        return true;
      },
      { create: true },
    );
    return withWarnings({}, [await casWarning(settings)]);
  }
}
