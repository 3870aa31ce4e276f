/** A token in Vault's `auth` block: what a login, a token creation or a renewal answers. */
import type { AuthBlock } from "../../engines/engine.ts";
import type { TokenRecord } from "./token-store.ts";

export function authBlock(record: TokenRecord, token: string, now: number): AuthBlock {
  return {
    client_token: token,
    accessor: record.accessor,
    policies: record.policies,
    token_policies: record.policies,
    metadata: Object.keys(record.meta).length > 0 ? record.meta : null,
    lease_duration: record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - now) / 1000)),
    renewable: record.renewable,
    entity_id: record.identity?.entityId ?? "",
    token_type: "service",
    orphan: true,
  };
}
