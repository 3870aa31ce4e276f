import type { TokenRecord } from "../../shared/auth/tokens/token-store.ts";

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
    renewable: false,
    entityId: "",
    ...overrides,
  };
}
