/** A token in Vault's `auth` block: what a login, a token creation or a renewal answers. */
import type { AuthBlock } from "../../engines/engine.ts";
import type { TokenRecord } from "./token-record.ts";

/**
 * `lease_duration` is the TTL the creation or renewal granted, in whole seconds, not the
 * time left counted afresh: a client that asked for 3600 reads 3600.
 */
export function authBlock(record: TokenRecord, token: string): AuthBlock {
  return {
    client_token: token,
    accessor: record.accessor,
    policies: record.policies,
    token_policies: record.policies,
    metadata: Object.keys(record.meta).length > 0 ? record.meta : null,
    lease_duration: record.expiresAt === null ? 0 : record.ttl,
    renewable: record.renewable,
    entity_id: record.identity?.entityId ?? "",
    token_type: "service",
    orphan: record.parent === "",
    num_uses: Math.max(0, record.numUses),
  };
}
