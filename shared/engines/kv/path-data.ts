/**
 * `<mount>/data/<path>`: read a version, write a new one (with check-and-set), patch the
 * current one with a JSON merge patch, and soft-delete the latest.
 */
import { type EngineResponse, type JsonObject, notFoundResponse, type Route, route } from "../engine.ts";
import { versionMetadata } from "./describe.ts";
import { casOf, requireMergePatch, SECRET_PATH, secretDataOf, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkSecretPath, checkShape } from "./limits.ts";
import { mergePatch } from "./merge-patch.ts";
import { isGone } from "./storage.ts";
import type { VersionRead } from "./versioned-store.ts";

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
  return route({
    pattern: /^data\/(?<path>.+)$/,
    fields: {
      path: SECRET_PATH,
      version: {
        type: "integer",
        min: 0,
        description: "The version to read; 0 or none reads the latest.",
      },
      options: {
        type: "object",
        description: 'Write options: "cas", the version the write expects to follow.',
      },
      data: { type: "object", description: "The secret's data (a write), or the changes to it (a patch)." },
    },
    exists: (request) => kv.secrets.exists(checkSecretPath(request.fields.path)),
    operations: {
      async read(request) {
        const path = checkSecretPath(request.fields.path);
        const result = await kv.secrets.read(path, request.fields.version || undefined);
        if (result.kind !== "live") return unreadable(path, result, "data");
        return { data: { data: result.data, metadata: versionMetadata(result.metadata, result.version) } };
      },

      create: (request) => write(request.fields),
      update: (request) => write(request.fields),

      async patch(request) {
        requireMergePatch(request);
        const path = checkSecretPath(request.fields.path);
        const changes = secretDataOf(request.fields.data);
        checkShape(changes, "the patch");
        const cas = casOf(request.fields.options);
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
        return withWarnings({ data: versionMetadata(result.metadata, result.version) }, result.warnings);
      },

      async delete(request) {
        const path = checkSecretPath(request.fields.path);
        await kv.secrets.change(path, (metadata) => {
          const state = metadata.versions[String(metadata.current_version)];
          if (!state || isGone(state, kv.now())) return false;
          state.deletion_time = new Date(kv.now()).toISOString();
          return true;
        });
        return {};
      },
    },
  });

  async function write(fields: {
    path: string;
    options?: JsonObject;
    data?: JsonObject;
  }): Promise<EngineResponse> {
    const path = checkSecretPath(fields.path);
    const data = secretDataOf(fields.data);
    const cas = casOf(fields.options);
    const result = await kv.secrets.write(path, { config: await kv.config.get(), cas, next: () => data });
    if (result.kind !== "written") return unreadable(path, result, "data");
    return withWarnings({ data: versionMetadata(result.metadata, result.version) }, result.warnings);
  }
}
