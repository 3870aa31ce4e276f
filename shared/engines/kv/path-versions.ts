/**
 * `<mount>/delete/<path>`, `undelete/<path>` and `destroy/<path>`, each with
 * `{"versions": [...]}`. Soft deletion only sets a deletion time; undelete clears it (and
 * re-arms delete_version_after); destroy removes the data for good. As in Vault, versions
 * that do not exist, or are destroyed already, are passed over: Coffer names the ones that
 * do not exist in a warning.
 */
import { invalidRequest } from "../../errors.ts";
import { type EngineResponse, type Route, route } from "../engine.ts";
import { SECRET_PATH, withWarnings } from "./kv-request.ts";
import type { KvV2Mount } from "./kv-v2-mount.ts";
import { checkSecretPath } from "./limits.ts";
import { deletionTimeFor } from "./mount-config.ts";
import { isGone, type SecretMetadata } from "./storage.ts";

function versionsOf(versions: number[] | undefined): number[] {
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

/** One of the three routes: its change to the given versions of the secret at a path. */
function versionsRoute(
  pattern: RegExp,
  change: (path: string, versions: number[]) => Promise<SecretMetadata | undefined>,
): Route {
  return route({
    pattern,
    fields: {
      path: SECRET_PATH,
      versions: { type: "integerList", min: 1, description: "The versions to change." },
    },
    operations: {
      async update(request): Promise<EngineResponse> {
        const path = checkSecretPath(request.fields.path);
        const versions = versionsOf(request.fields.versions);
        const metadata = await change(path, versions);
        return withWarnings({}, [missingWarning(path, versions, metadata)]);
      },
    },
  });
}

export function versionRoutes(kv: KvV2Mount): Route[] {
  const softDelete = (path: string, versions: number[]) =>
    kv.secrets.change(path, (metadata) => {
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

  const undelete = async (path: string, versions: number[]) => {
    const config = await kv.config.get();
    return kv.secrets.change(path, (metadata) => {
      let changed = false;
      for (const version of versions) {
        const state = metadata.versions[String(version)];
        if (!state || state.destroyed) continue;
        state.deletion_time = deletionTimeFor(kv.now(), metadata, config);
        changed = true;
      }
      return changed;
    });
  };

  return [
    versionsRoute(/^delete\/(?<path>.+)$/, softDelete),
    versionsRoute(/^undelete\/(?<path>.+)$/, undelete),
    versionsRoute(/^destroy\/(?<path>.+)$/, (path, versions) => kv.secrets.destroy(path, versions)),
  ];
}
