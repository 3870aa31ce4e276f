import type { TokenRecord } from "../../shared/auth/tokens/token-store.ts";
import type { ProvenIdentity } from "../../shared/engines/proven-identity.ts";

/** A token from a Kubernetes login with nothing else set, for code that only reads a record. */
export function tokenRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    hmac: "h",
    accessor: "a",
    policies: [],
    displayName: "",
    meta: {},
    path: "auth/kubernetes/login",
    issuedAt: 0,
    expiresAt: null,
    maxExpiresAt: null,
    creationTtl: 0,
    ttl: 0,
    explicitMaxTtl: 0,
    period: 0,
    numUses: 0,
    lastRenewedAt: null,
    renewable: false,
    parent: "",
    role: "",
    state: "active",
    revokeMode: "tree",
    revision: 1,
    dueAt: 0,
    attempts: 0,
    ...overrides,
  };
}

/** The identity a Kubernetes login proves for a service account, as the login records it. */
export function provenIdentity(
  namespace: string,
  name: string,
  entityId = `${namespace}/${name}`,
): ProvenIdentity {
  return {
    entityId,
    mountAccessor: "auth_kubernetes_0a1b2c3d",
    aliasName: `${namespace}/${name}`,
    metadata: { service_account_namespace: namespace, service_account_name: name },
  };
}
