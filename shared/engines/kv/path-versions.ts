/**
 * `<mount>/delete/<path>`, `undelete/<path>` and `destroy/<path>`, each with
 * `{"versions": [...]}`. Soft deletion only sets a deletion time; undelete clears it (and
 * re-arms delete_version_after); destroy removes the data for good. As in Vault, versions
 * that do not exist, or are destroyed already, are passed over: Coffer names the ones that
 * do not exist in a warning.
 */
import { invalidRequest } from "../../errors.ts";
import { ignoredFieldsWarning, optionalIntegerList } from "../../http/fields.ts";
import type { EngineRequest, EngineResponse, Route } from "../engine.ts";
import { secretPathOf, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { deletionTimeFor } from "./mount-config.ts";
import { isGone, type SecretMetadata } from "./storage.ts";

function versionsOf(request: EngineRequest): number[] {
  const versions = optionalIntegerList(request.data, "versions", { min: 1 });
  if (!versions || versions.length === 0)
    throw invalidRequest('no version number provided: "versions" must list at least one');
  return versions;
}

function missingWarning(path: string, versions: readonly number[], metadata: SecretMetadata | undefined) {
  if (!metadata) return `no secret at "${path}": nothing changed`;
  const missing = [...new Set(versions.filter((version) => !metadata.versions[String(version)]))];
  if (missing.length === 0) return undefined;
  return `${missing.length === 1 ? "version" : "versions"} ${missing.join(", ")} of secret "${path}" ${missing.length === 1 ? "does" : "do"} not exist: ignored`;
}

export function versionRoutes(kv: KvV2Mount): Route[] {
  const answer = (
    request: EngineRequest,
    path: string,
    versions: number[],
    metadata: SecretMetadata | undefined,
  ) =>
    withWarnings({}, [
      ignoredFieldsWarning(request.data, ["versions"]),
      missingWarning(path, versions, metadata),
    ]);

  async function softDelete(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const versions = versionsOf(request);
    const metadata = await kv.secrets.change(path, (metadata) => {
      const now = kv.now();
      let changed = false;
      for (const version of versions) {
        const state = metadata.versions[String(version)];
        if (!state || isGone(state, now)) continue;
        state.deletion_time = new Date(now).toISOString();
        changed = true;
      }
      return changed;
    });
    return answer(request, path, versions, metadata);
  }

  async function undelete(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const versions = versionsOf(request);
    const config = await kv.config.get();
    const metadata = await kv.secrets.change(path, (metadata) => {
      let changed = false;
      for (const version of versions) {
        const state = metadata.versions[String(version)];
        if (!state || state.destroyed) continue;
        state.deletion_time = deletionTimeFor(kv.now(), metadata, config);
        changed = true;
      }
      return changed;
    });
    return answer(request, path, versions, metadata);
  }

  async function destroy(request: EngineRequest): Promise<EngineResponse> {
    const path = secretPathOf(request);
    const versions = versionsOf(request);
    const metadata = await kv.secrets.destroy(path, versions);
    return answer(request, path, versions, metadata);
  }

  return [
    { pattern: /^delete\/(?<path>.+)$/, operations: { update: softDelete } },
    { pattern: /^undelete\/(?<path>.+)$/, operations: { update: undelete } },
    { pattern: /^destroy\/(?<path>.+)$/, operations: { update: destroy } },
  ];
}
