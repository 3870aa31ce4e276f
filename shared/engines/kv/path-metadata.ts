/**
 * `<mount>/metadata/<path>`: read a secret's metadata, create or replace its settings
 * (POST), patch them (PATCH, JSON merge patch), delete the secret with every version
 * (DELETE), and LIST the secrets in a folder.
 */
import { invalidRequest } from "../../errors.ts";
import {
  ignoredFieldsWarning,
  optionalBoolean,
  optionalDuration,
  optionalInteger,
  optionalObject,
} from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engine.ts";
import { notFoundResponse } from "../engine.ts";
import { describeMetadata } from "./describe.ts";
import { requireMergePatch, secretPathOf, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkCustomMetadata, MAX_VERSIONS_LIMIT } from "./limits.ts";
import { listFolder } from "./listing.ts";
import type { SecretMetadata } from "./storage.ts";

const FIELDS = ["max_versions", "cas_required", "delete_version_after", "custom_metadata"];

interface MetadataSettings {
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: number;
  /** null values remove keys (PATCH only); a null map removes them all. */
  custom_metadata?: Record<string, string | null> | null;
}

/** The settings a body gives; `patch` allows nulls, which remove what they name. */
function settingsOf(data: JsonObject, patch: boolean): MetadataSettings {
  const settings: MetadataSettings = {
    max_versions: optionalInteger(data, "max_versions", { min: 0, max: MAX_VERSIONS_LIMIT }),
    cas_required: optionalBoolean(data, "cas_required"),
    delete_version_after: optionalDuration(data, "delete_version_after"),
  };
  if (patch && data.custom_metadata === null) {
    settings.custom_metadata = null;
    return settings;
  }
  const custom = optionalObject(data, "custom_metadata");
  if (custom) {
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

  async function read(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const metadata = await kv.secrets.metadata(path);
    if (!metadata) return notFoundResponse();
    return withWarnings({ data: describeMetadata(metadata) }, [ignoredFieldsWarning(request.data, [])]);
  }

  async function write(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const settings = settingsOf(request.data, false);
    const ignored = ignoredFieldsWarning(request.data, FIELDS);
    if (Object.values(settings).every((value) => value === undefined)) return withWarnings({}, [ignored]);
    await kv.secrets.change(
      path,
      (metadata) => {
        applySettings(metadata, settings, false);
        return true;
      },
      { create: true },
    );
    return withWarnings({}, [ignored, await casWarning(settings)]);
  }

  async function patch(request: EngineRequest): Promise<EngineResponse> {
    requireMergePatch(request);
    const path = secretPathOf(request);
    const settings = settingsOf(request.data, true);
    const changed = await kv.secrets.change(path, (metadata) => {
      applySettings(metadata, settings, true);
      return true;
    });
    if (!changed) return notFoundResponse();
    return withWarnings({}, [ignoredFieldsWarning(request.data, FIELDS), await casWarning(settings)]);
  }

  async function remove(request: EngineRequest): Promise<EngineResponse> {
    await kv.secrets.remove(secretPathOf(request));
    return {};
  }

  return {
    pattern: /^metadata(?:\/(?<path>.*))?$/,
    exists: (request) => kv.secrets.exists(secretPathOf(request)),
    operations: {
      read,
      list: (request) => listFolder(kv.store, kv.mountUuid, request.params.path ?? ""),
      create: write,
      update: write,
      patch,
      delete: remove,
    },
  };
}
