/**
 * The built-in token auth method at auth/token/: what a token holder may ask about its
 * own token (Vault clients call lookup-self right after login to learn their policies
 * and TTL, and renew-self to stay logged in), and what a privileged caller may do with
 * other tokens: create, look up and revoke them by token or by accessor.
 */
import type { Broker, BuiltinFactory } from "../../broker.ts";
import {
  type Engine,
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  route,
} from "../../engines/engine.ts";
import { CofferError, invalidRequest, permissionDenied } from "../../errors.ts";
import { type CallerToken, callerTokenOf } from "../../mounts/caller-token.ts";
import { authBlock } from "./auth-block.ts";
import { CREATE_FIELDS, createToken } from "./token-create.ts";
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
async function tokenNamed(broker: Broker, token: string): Promise<TokenRecord> {
  const record = await broker.tokens.lookup(token);
  if (!record) throw new CofferError("ERR_PERMISSION_DENIED", "bad token");
  return record;
}

async function accessorNamed(broker: Broker, accessor: string): Promise<TokenRecord> {
  const record = await broker.tokens.lookupByAccessor(accessor);
  if (!record) throw invalidRequest("invalid accessor");
  return record;
}

const TOKEN = { token: { type: "string", required: true, description: "The token." } } as const;
const ACCESSOR = {
  accessor: { type: "string", required: true, description: "The token's accessor." },
} as const;
/** Vault's self endpoints take a token field too, which they ignore: the caller's own token counts. */
const SELF_TOKEN = {
  token: { type: "string", description: "Ignored: the caller's own token counts." },
} as const;

export const createTokenEngine: BuiltinFactory = (broker, mount): Engine => {
  const lookupSelf = async (request: EngineRequest): Promise<EngineResponse> => {
    const { record, token } = caller(request);
    return { data: describeToken(record, token, broker.now()) };
  };

  return {
    routes: [
      route({
        pattern: /^create$/,
        fields: CREATE_FIELDS,
        operations: { update: (request) => createToken(broker, mount, caller(request), request.fields) },
      }),
      // POST only: a token in a query string would end up in access logs.
      route({
        pattern: /^lookup$/,
        fields: TOKEN,
        operations: {
          update: async (request) => {
            const record = await tokenNamed(broker, request.fields.token);
            return { data: describeToken(record, request.fields.token, broker.now()) };
          },
        },
      }),
      route({
        pattern: /^lookup-accessor$/,
        fields: ACCESSOR,
        operations: {
          update: async (request) => ({
            data: describeToken(
              await accessorNamed(broker, request.fields.accessor),
              undefined,
              broker.now(),
            ),
          }),
        },
      }),
      route({
        pattern: /^revoke$/,
        fields: TOKEN,
        operations: {
          update: async (request) => {
            // Like Vault: revoking a token that is already gone succeeds.
            const record = await broker.tokens.lookup(request.fields.token);
            if (record) await broker.tokens.revoke(record);
            return {};
          },
        },
      }),
      route({
        pattern: /^revoke-accessor$/,
        fields: ACCESSOR,
        operations: {
          update: async (request) => {
            await broker.tokens.revoke(await accessorNamed(broker, request.fields.accessor));
            return {};
          },
        },
      }),
      route({
        pattern: /^lookup-self$/,
        fields: SELF_TOKEN,
        operations: { read: lookupSelf, update: lookupSelf },
      }),
      route({
        pattern: /^renew-self$/,
        fields: {
          ...SELF_TOKEN,
          increment: { type: "duration", description: "The new TTL from now; 0 or none is the token's own." },
        },
        operations: {
          update: async (request) => {
            const { record, token } = caller(request);
            const renewed = await broker.tokens.renew(record, request.fields.increment);
            return { auth: authBlock(renewed, token, broker.now()) };
          },
        },
      }),
      route({
        pattern: /^revoke-self$/,
        fields: {},
        operations: {
          update: async (request) => {
            await broker.tokens.revoke(caller(request).record);
            return {};
          },
        },
      }),
    ],
  };
};
