/**
 * KV v2's answers in Vault's JSON shapes: a version's metadata (returned with data, on
 * writes and in 404s for deleted versions), a secret's metadata, and the mount's config.
 */
import type { JsonObject } from "../engine.ts";
import type { KvConfig } from "./mount-config.ts";
import type { SecretMetadata } from "./storage.ts";

/** Seconds as Go's time.Duration prints them, which Vault uses: "0s", "45s", "1h0m0s", "-1s". */
export function goDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const sign = seconds < 0 ? "-" : "";
  let rest = Math.abs(seconds);
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  if (hours > 0) return `${sign}${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${sign}${minutes}m${rest}s`;
  return `${sign}${rest}s`;
}

const customMetadataOf = (metadata: SecretMetadata) =>
  Object.keys(metadata.custom_metadata).length > 0 ? metadata.custom_metadata : null;

export function versionMetadata(metadata: SecretMetadata, version: number): JsonObject {
  const state = metadata.versions[String(version)];
  return {
    created_time: state?.created_time ?? "",
    custom_metadata: customMetadataOf(metadata),
    deletion_time: state?.deletion_time ?? "",
    destroyed: state?.destroyed ?? false,
    version,
  };
}

export function describeMetadata(metadata: SecretMetadata): JsonObject {
  return {
    cas_required: metadata.cas_required,
    created_time: metadata.created_time,
    current_version: metadata.current_version,
    custom_metadata: customMetadataOf(metadata),
    delete_version_after: goDuration(metadata.delete_version_after),
    max_versions: metadata.max_versions,
    oldest_version: metadata.oldest_version,
    updated_time: metadata.updated_time,
    versions: metadata.versions,
  };
}

export function describeConfig(config: KvConfig): JsonObject {
  return {
    cas_required: config.cas_required,
    delete_version_after: goDuration(config.delete_version_after),
    max_versions: config.max_versions,
  };
}
