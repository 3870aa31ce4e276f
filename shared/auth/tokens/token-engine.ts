/**
 * The built-in token auth method at auth/token/: what a token holder may ask about its
 * own token (Vault clients call lookup-self right after login to learn their policies
 * and TTL, and renew-self to stay logged in), and what a privileged caller may do with
 * other tokens: create, look up and revoke them by token or by accessor.
 */
import type { Broker, BuiltinFactory } from "../../broker.ts";
import type { Engine, EngineRequest, EngineResponse, JsonObject } from "../../engines/engine.ts";
import { CofferError, invalidRequest, permissionDenied } from "../../errors.ts";
import { optionalDuration, rejectUnknownFields, requiredString } from "../../http/fields.ts";
import { type CallerToken, callerTokenOf } from "../../mounts/caller-token.ts";
import { authBlock } from "./auth-block.ts";
import { createToken } from "./token-create.ts";
import type { TokenRecord } from "./token-store.ts";

export function describeToken(record: TokenRecord, token: string | undefined, now: number): JsonObject {
  const remaining = record.expiresAt === null ? 0 : Math.max(0, Math.floor((record.expiresAt - now) / 1000));
  return {
    accessor: record.accessor,
    creation_time: Math.floor(record.issuedAt / 1000),
    creation_ttl: record.creationTtl,
    display_name: record.displayName,
    entity_id: record.identity?.entityId ?? "",
    expire_time: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    explicit_max_ttl:
      record.maxExpiresAt === null ? 0 : Math.floor((record.maxExpiresAt - record.issuedAt) / 1000),
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

function caller(request: EngineRequest): CallerToken {
  const token = callerTokenOf(request);
  if (!token) throw permissionDenied();
  return token;
}

/** The token named by the `token` field; Vault answers "bad token" for one it does not know. */
async function tokenNamed(
  broker: Broker,
  request: EngineRequest,
): Promise<{ token: string; record: TokenRecord }> {
  rejectUnknownFields(request.data, ["token"]);
  const token = requiredString(request.data, "token");
  const record = await broker.tokens.lookup(token);
  if (!record) throw new CofferError("ERR_PERMISSION_DENIED", "bad token");
  return { token, record };
}

async function accessorNamed(broker: Broker, request: EngineRequest): Promise<TokenRecord> {
  rejectUnknownFields(request.data, ["accessor"]);
  const record = await broker.tokens.lookupByAccessor(requiredString(request.data, "accessor"));
  if (!record) throw invalidRequest("invalid accessor");
  return record;
}

export const createTokenEngine: BuiltinFactory = (broker, mount): Engine => {
  const lookupSelf = async (request: EngineRequest): Promise<EngineResponse> => {
    const { record, token } = caller(request);
    return { data: describeToken(record, token, broker.now()) };
  };
  const lookup = async (request: EngineRequest): Promise<EngineResponse> => {
    const { token, record } = await tokenNamed(broker, request);
    return { data: describeToken(record, token, broker.now()) };
  };
  const lookupAccessor = async (request: EngineRequest): Promise<EngineResponse> => ({
    data: describeToken(await accessorNamed(broker, request), undefined, broker.now()),
  });

  return {
    routes: [
      { pattern: /^create$/, operations: { update: (request) => createToken(broker, mount, request) } },
      // POST only: a token in a query string would end up in access logs.
      { pattern: /^lookup$/, operations: { update: lookup } },
      { pattern: /^lookup-accessor$/, operations: { update: lookupAccessor } },
      {
        pattern: /^revoke$/,
        operations: {
          update: async (request) => {
            rejectUnknownFields(request.data, ["token"]);
            // Like Vault: revoking a token that is already gone succeeds.
            const record = await broker.tokens.lookup(requiredString(request.data, "token"));
            if (record) await broker.tokens.revoke(record);
            return {};
          },
        },
      },
      {
        pattern: /^revoke-accessor$/,
        operations: {
          update: async (request) => {
            await broker.tokens.revoke(await accessorNamed(broker, request));
            return {};
          },
        },
      },
      { pattern: /^lookup-self$/, operations: { read: lookupSelf, update: lookupSelf } },
      {
        pattern: /^renew-self$/,
        operations: {
          update: async (request) => {
            const { record, token } = caller(request);
            const renewed = await broker.tokens.renew(record, optionalDuration(request.data, "increment"));
            return { auth: authBlock(renewed, token, broker.now()) };
          },
        },
      },
      {
        pattern: /^revoke-self$/,
        operations: {
          update: async (request) => {
            await broker.tokens.revoke(caller(request).record);
            return {};
          },
        },
      },
    ],
  };
};
