/**
 * `<mount>/data/<path>`: read a version, write a new one (with check-and-set), patch the
 * current one with a JSON merge patch, and soft-delete the latest.
 */
import { ignoredFieldsWarning, optionalInteger } from "../../http/fields.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  notFoundResponse,
  type Route,
} from "../engine.ts";
import { versionMetadata } from "./describe.ts";
import { casOf, requireMergePatch, secretDataOf, secretPathOf, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkShape } from "./limits.ts";
import { mergePatch } from "./merge-patch.ts";
import { isGone } from "./storage.ts";
import type { VersionRead } from "./versioned-store.ts";

const WRITE_FIELDS = ["data", "options", "version"];

/** Vault's answer when a read found no readable version. */
export function unreadable(
  path: string,
  read: Exclude<VersionRead, { kind: "live" }>,
  dataKey: string,
): EngineResponse {
  if (read.kind === "gone") {
    return { status: 404, data: { [dataKey]: null, metadata: versionMetadata(read.metadata, read.version) } };
  }
  if (read.metadata && read.version) {
    return notFoundResponse(`version ${read.version} of secret "${path}" does not exist`);
  }
  return notFoundResponse();
}

export function dataRoute(kv: KvV2Mount): Route {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const version = optionalInteger(request.data, "version", { min: 0 });
    const result = await kv.secrets.read(path, version || undefined);
    const warnings = [ignoredFieldsWarning(request.data, ["version"])];
    if (result.kind !== "live") return withWarnings(unreadable(path, result, "data"), warnings);
    return withWarnings(
      { data: { data: result.data, metadata: versionMetadata(result.metadata, result.version) } },
      warnings,
    );
  }

  async function write(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const data = secretDataOf(request.data);
    const cas = casOf(request.data);
    const result = await kv.secrets.write(path, { config: await kv.config.get(), cas, next: () => data });
    if (result.kind !== "written") return unreadable(path, result, "data");
    return withWarnings({ data: versionMetadata(result.metadata, result.version) }, [
      ignoredFieldsWarning(request.data, WRITE_FIELDS),
      ...result.warnings,
    ]);
  }

  async function patch(request: EngineRequest): Promise<EngineResponse> {
    requireMergePatch(request);
    const path = secretPathOf(request);
    const changes = secretDataOf(request.data);
    checkShape(changes, "the patch");
    const cas = casOf(request.data);
    const result = await kv.secrets.write(path, {
      config: await kv.config.get(),
      cas,
      patch: true,
      next: (current) => mergePatch(current, changes) as JsonObject,
    });
    if (result.kind === "missing") return notFoundResponse();
    // Vault answers a patch of a deleted version with that version's metadata, unwrapped.
    if (result.kind === "gone")
      return { status: 404, data: versionMetadata(result.metadata, result.version) };
    return withWarnings({ data: versionMetadata(result.metadata, result.version) }, [
      ignoredFieldsWarning(request.data, WRITE_FIELDS),
      ...result.warnings,
    ]);
  }

  async function deleteLatest(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    await kv.secrets.change(path, (metadata) => {
      const state = metadata.versions[String(metadata.current_version)];
      if (!state || isGone(state, kv.now())) return false;
      state.deletion_time = new Date(kv.now()).toISOString();
      return true;
    });
    return {};
  }

  return {
    pattern: /^data\/(?<path>.+)$/,
    exists: (request) => kv.secrets.exists(secretPathOf(request)),
    operations: { read, create: write, update: write, patch, delete: deleteLatest },
  };
}
