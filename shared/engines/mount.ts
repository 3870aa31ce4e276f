/**
 * A mount as every backend sees it: where it is mounted, what it is, and the settings an
 * operator gave it. The mount table (shared/mounts/mount-table.ts) keeps them; an engine
 * receives its own in its EngineContext.
 */

export interface MountConfig {
  default_lease_ttl: number;
  max_lease_ttl: number;
}

export interface Mount {
  /** With a trailing slash: "secret/", "auth/kubernetes/". */
  path: string;
  type: string;
  description: string;
  accessor: string;
  /** Distinguishes a mount from an earlier one at the same path: data is keyed by it. */
  uuid: string;
  options: Record<string, string>;
  config: MountConfig;
  builtin: boolean;
}
