/**
 * A mount as every backend sees it: where it is mounted, what it is, and the settings an
 * operator gave it. The mount table (shared/mounts/mount-table.ts) keeps them; an engine
 * receives its own in its EngineContext.
 */

export interface MountConfig {
  default_lease_ttl: number;
  max_lease_ttl: number;
  /** "unauth" lists the mount in sys/internal/ui/mounts for tokens without a policy on it; "" or "hidden" do not. */
  listing_visibility?: string;
  /** Kept and shown for Vault clients; Coffer's audit records hash every string value regardless. */
  audit_non_hmac_request_keys?: string[];
  audit_non_hmac_response_keys?: string[];
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
