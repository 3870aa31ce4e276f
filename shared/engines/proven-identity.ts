/**
 * The proven identity: who holds a token, as an auth method verified it at login (the
 * entity, and the alias it was proven through). Only a login sets it; a token made by
 * another inherits its parent's, an orphan has none, and no request field reaches it.
 * Everything that names, tags or authorizes by identity reads it and nothing else: STS
 * session tags and names, database usernames, templated policies, the identity on leases
 * and so revoke-identity. A token's `meta` is free-form data that grants nothing.
 */
export interface ProvenIdentity {
  /** The same alias through the same auth mount is the same entity on every login. */
  entityId: string;
  /** The accessor of the auth mount that proved it ("auth_kubernetes_1a2b3c4d"). */
  mountAccessor: string;
  /** The alias name: the service account's uid, or "<namespace>/<name>". */
  aliasName: string;
  /** Alias metadata: service_account_name, service_account_namespace, ... */
  metadata: Record<string, string>;
}

/** A Kubernetes service account, as engines name and tag credentials after it. */
export interface Workload {
  namespace: string;
  serviceAccount: string;
}

/** The service account a proven identity is, or undefined for any other identity (or none). */
export function workloadOf(identity: ProvenIdentity | undefined): Workload | undefined {
  const namespace = identity?.metadata.service_account_namespace ?? "";
  const serviceAccount = identity?.metadata.service_account_name ?? "";
  return namespace && serviceAccount ? { namespace, serviceAccount } : undefined;
}
