/**
 * What an archive holds, by partition. Everything the broker stores is configuration or
 * secrets (mounts, KV data and metadata with every version, policies, auth methods and
 * roles, transit keys, engine configurations) except two families an operator chooses:
 * tokens (with their accessors, expiry, parent and identity indexes and the root token
 * registry) and leases (with
 * their expiry, identity and token indexes). The keyring travels apart, as keys; an
 * import's own progress never travels.
 */
export const KEYRING_PARTITION = "keyring";
export const IMPORT_PARTITION = "import";

// Token roles (pk "token-role") are configuration, not tokens: they always travel.
const TOKEN_PARTITIONS = [
  "token/",
  "accessor/",
  "auth-tokens/",
  "token-exp/",
  "token-children/",
  "token-entity/",
  "root-tokens",
];
const LEASE_PARTITIONS = ["lease/", "lease-exp/", "lease-identity/", "lease-token/"];

export type PartitionFamily = "keyring" | "import" | "tokens" | "leases" | "data";

export function familyOf(pk: string): PartitionFamily {
  if (pk === KEYRING_PARTITION) return "keyring";
  if (pk === IMPORT_PARTITION) return "import";
  if (TOKEN_PARTITIONS.some((prefix) => pk === prefix || pk.startsWith(prefix))) return "tokens";
  if (LEASE_PARTITIONS.some((prefix) => pk.startsWith(prefix))) return "leases";
  return "data";
}
