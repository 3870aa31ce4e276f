/**
 * The built-in token auth method at auth/token/: what a token holder may ask about its
 * own token. Vault clients call lookup-self right after login to learn their policies
 * and TTL, and renew-self to stay logged in.
 */
import type { Engine, EngineFactory, EngineRequest, EngineResponse, JsonObject } from "../../engines/engine.ts";
import { CofferError } from "../../errors.ts";
import { optionalDuration } from "../../http/fields.ts";
import type { TokenRecord } from "./token-store.ts";

export function describeToken(record: TokenRecord, token: string | undefined, now: number): JsonObject {
  const remaining = record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - now) / 1000));
  return {
    accessor: record.accessor,
    creation_time: Math.floor(record.issuedAt / 1000),
    creation_ttl: record.creationTtl,
    display_name: record.displayName,
    entity_id: record.entityId,
    expire_time: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    explicit_max_ttl: record.maxExpiresAt === null ? 0 : Math.floor((record.maxExpiresAt - record.issuedAt) / 1000),
    id: token ?? "",
    issue_time: new Date(record.issuedAt).toISOString(),
    meta: Object.keys(record.meta).length > 0 ? record.meta : null,
    num_uses: 0,
    orphan: true,
    path: record.path,
    policies: record.policies,
    renewable: record.renewable,
    ttl: remaining,
    type: "service",
  };
}

export function authBlock(record: TokenRecord, token: string, now: number): NonNullable<EngineResponse["auth"]> {
  return {
    client_token: token,
    accessor: record.accessor,
    policies: record.policies,
    token_policies: record.policies,
    metadata: Object.keys(record.meta).length > 0 ? record.meta : null,
    lease_duration: record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - now) / 1000)),
    renewable: record.renewable,
    entity_id: record.entityId,
    token_type: "service",
    orphan: true,
  };
}

function caller(request: EngineRequest): TokenRecord {
  if (!request.token) throw new CofferError("ERR_PERMISSION_DENIED", "permission denied");
  return request.token;
}

export const createTokenEngine: EngineFactory = (_mount, broker): Engine => {
  const lookupSelf = async (request: EngineRequest): Promise<EngineResponse> => ({
    data: describeToken(caller(request), request.clientToken, broker.now()),
  });

  return {
    routes: [
      { pattern: /^lookup-self$/, operations: { read: lookupSelf, update: lookupSelf } },
      {
        pattern: /^renew-self$/,
        operations: {
          update: async (request) => {
            const record = caller(request);
            const increment = optionalDuration(request.data, "increment") ?? record.creationTtl;
            const renewed = await broker.tokens.renew(record, increment);
            return { auth: authBlock(renewed, request.clientToken ?? "", broker.now()) };
          },
        },
      },
      {
        pattern: /^revoke-self$/,
        operations: {
          update: async (request) => {
            await broker.tokens.revoke(caller(request));
            return {};
          },
        },
      },
    ],
  };
};
