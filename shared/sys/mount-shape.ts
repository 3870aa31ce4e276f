/**
 * How a mount looks on the wire, in sys/mounts, sys/auth and sys/internal/ui/mounts alike:
 * Vault's mount shape, and the `options` map a caller enables a mount with.
 */
import type { JsonObject } from "../engines/engine.ts";
import type { Mount } from "../engines/mount.ts";
import { invalidRequest } from "../errors.ts";

export function describeMount(mount: Mount, version: string, extraConfig: JsonObject = {}): JsonObject {
  return {
    type: mount.type,
    description: mount.description,
    accessor: mount.accessor,
    uuid: mount.uuid,
    config: {
      default_lease_ttl: mount.config.default_lease_ttl,
      max_lease_ttl: mount.config.max_lease_ttl,
      force_no_cache: false,
      ...extraConfig,
    },
    options: Object.keys(mount.options).length > 0 ? mount.options : null,
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    plugin_version: "",
    running_plugin_version: `v${version}+builtin.coffer`,
    running_sha256: "",
  };
}

/** What sys/mounts/<path>/tune and sys/auth/<path>/tune read. */
export function describeTuning(mount: Mount, extra: JsonObject = {}): JsonObject {
  return {
    description: mount.description,
    default_lease_ttl: mount.config.default_lease_ttl,
    max_lease_ttl: mount.config.max_lease_ttl,
    force_no_cache: false,
    ...extra,
    options: Object.keys(mount.options).length > 0 ? mount.options : null,
  };
}

/** A mount's `options`: a map of strings (numbers are accepted and kept as strings). */
export function mountOptions(value: JsonObject | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, inner] of Object.entries(value ?? {})) {
    if (typeof inner !== "string" && typeof inner !== "number") {
      throw invalidRequest(`invalid value for "options.${key}": expected a string`);
    }
    result[key] = String(inner);
  }
  return result;
}
