/**
 * The `default` policy, attached to every token except root tokens and those created with
 * `no_default_policy`: what any token may do about itself, as in Vault's default policy.
 * Operators may edit it; it cannot be deleted.
 */
export const DEFAULT_POLICY_NAME = "default";

export const DEFAULT_POLICY = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Allow a token to renew and look up a lease it holds, by lease id in the request body
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

path "sys/leases/lookup" {
  capabilities = ["update"]
}
`;
