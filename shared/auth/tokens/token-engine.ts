/**
 * The built-in token auth method at auth/token/: what a token holder may ask about its
 * own token (Vault clients call lookup-self right after login to learn their policies
 * and TTL, and renew-self to stay logged in), and what a privileged caller may do with
 * other tokens: create them (as children, orphans, or against a role), look them up,
 * renew and revoke them by token or by accessor, list their accessors, and manage token
 * roles.
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
import { ROOT_POLICY_NAME } from "../../policy/policy-store.ts";
import { authBlock } from "./auth-block.ts";
import { revocationResponse } from "./revocation-response.ts";
import { CREATE_FIELDS, createToken } from "./token-create.ts";
import { policyIdentityOf, type TokenRecord } from "./token-record.ts";
import { ROLE_NAME, readTokenRole, tokenRoleRoutes } from "./token-roles.ts";

const seconds = (ms: number) => Math.floor(ms / 1000);
const rfc3339 = (ms: number) => new Date(ms).toISOString();

/** Vault's lookup answer. Only `orphan` tells of the parent: Vault never shows it, which would escalate. */
export function describeToken(record: TokenRecord, token: string | undefined, now: number): JsonObject {
  const left = record.expiresAt === null ? 0 : Math.max(0, Math.ceil((record.expiresAt - now) / 1000));
  return {
    accessor: record.accessor,
    creation_time: seconds(record.issuedAt),
    creation_ttl: record.creationTtl,
    display_name: record.displayName,
    entity_id: record.identity?.entityId ?? "",
    expire_time: record.expiresAt === null ? null : rfc3339(record.expiresAt),
    explicit_max_ttl: record.explicitMaxTtl,
    id: token ?? "",
    issue_time: rfc3339(record.issuedAt),
    meta: Object.keys(record.meta).length > 0 ? record.meta : null,
    num_uses: record.numUses,
    orphan: record.parent === "",
    path: record.path,
    policies: record.policies,
    renewable: record.renewable && record.expiresAt !== null && left > 0,
    ttl: left,
    type: "service",
    ...(record.lastRenewedAt === null
      ? {}
      : { last_renewal_time: seconds(record.lastRenewedAt), last_renewal: rfc3339(record.lastRenewedAt) }),
    ...(record.period > 0 ? { period: record.period } : {}),
    ...(record.role ? { role: record.role } : {}),
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
const INCREMENT = {
  increment: { type: "duration", description: "The new TTL from now; 0 or none grants the last TTL again." },
} as const;

export const createTokenEngine: BuiltinFactory = (broker, mount): Engine => {
  const lookupSelf = async (request: EngineRequest): Promise<EngineResponse> => {
    const { record, token } = caller(request);
    return { data: describeToken(record, token, broker.now()) };
  };

  const renew = async (record: TokenRecord, token: string, increment: number | undefined) => {
    const renewal = await broker.tokens.renew(record, increment);
    return {
      auth: authBlock(renewal.record, token),
      ...(renewal.warnings.length > 0 ? { warnings: renewal.warnings } : {}),
    };
  };

  return {
    routes: [
      route({
        pattern: /^create(?:-orphan)?$/,
        fields: CREATE_FIELDS,
        operations: {
          update: (request) =>
            createToken(broker, mount, caller(request), { path: request.path, fields: request.fields }),
        },
      }),
      route({
        pattern: new RegExp(`^create/(?<role_name>${ROLE_NAME.source})$`),
        fields: {
          ...CREATE_FIELDS,
          role_name: { type: "string", path: true, description: "The token role." },
        },
        operations: {
          update: async (request) => {
            const role = await readTokenRole(broker.store, request.fields.role_name);
            if (!role) throw invalidRequest(`unknown role ${request.fields.role_name}`);
            return createToken(broker, mount, caller(request), {
              path: request.path,
              fields: request.fields,
              role,
            });
          },
        },
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
        pattern: /^lookup-self$/,
        fields: SELF_TOKEN,
        operations: { read: lookupSelf, update: lookupSelf },
      }),
      route({
        pattern: /^renew$/,
        fields: { ...TOKEN, ...INCREMENT },
        operations: {
          update: async (request) => {
            const record = await broker.tokens.lookup(request.fields.token);
            if (!record) throw invalidRequest("token not found");
            return renew(record, request.fields.token, request.fields.increment);
          },
        },
      }),
      route({
        pattern: /^renew-accessor$/,
        fields: { ...ACCESSOR, ...INCREMENT },
        operations: {
          // As in Vault, the answer carries no token: the caller knew only the accessor.
          update: async (request) =>
            renew(await accessorNamed(broker, request.fields.accessor), "", request.fields.increment),
        },
      }),
      route({
        pattern: /^renew-self$/,
        fields: { ...SELF_TOKEN, ...INCREMENT },
        operations: {
          update: async (request) => {
            const { record, token } = caller(request);
            return renew(record, token, request.fields.increment);
          },
        },
      }),
      route({
        pattern: /^revoke$/,
        fields: TOKEN,
        operations: {
          update: async (request) => {
            // Like Vault, a token already gone is revoked; one being revoked is finished here.
            const record = await broker.tokens.find(request.fields.token);
            if (!record) return {};
            return revocationResponse(await broker.tokens.revoke(record, { requestId: request.id }));
          },
        },
      }),
      route({
        pattern: /^revoke-accessor$/,
        fields: ACCESSOR,
        operations: {
          update: async (request) => {
            const record = await broker.tokens.findByAccessor(request.fields.accessor);
            if (!record) return { warnings: ["No token found with this accessor"] };
            return revocationResponse(await broker.tokens.revoke(record, { requestId: request.id }));
          },
        },
      }),
      route({
        pattern: /^revoke-self$/,
        fields: {},
        operations: {
          update: async (request) =>
            revocationResponse(await broker.tokens.revoke(caller(request).record, { requestId: request.id })),
        },
      }),
      route({
        pattern: /^revoke-orphan$/,
        fields: TOKEN,
        operations: {
          update: async (request) => {
            const { record: maker } = caller(request);
            const sudo =
              maker.policies.includes(ROOT_POLICY_NAME) ||
              (await broker.policies.acl(maker.policies, policyIdentityOf(maker)))
                .capabilities(`${mount.path}revoke-orphan`)
                .has("sudo");
            if (!sudo) throw invalidRequest("root or sudo privileges required to revoke and orphan");
            const record = await broker.tokens.find(request.fields.token);
            if (!record) throw invalidRequest("token to revoke not found");
            return revocationResponse(await broker.tokens.revokeOrphan(record, { requestId: request.id }));
          },
        },
      }),
      route({
        pattern: /^accessors\/?$/,
        sudo: true,
        fields: {},
        operations: { list: async () => ({ data: { keys: await broker.tokens.listAccessors() } }) },
      }),
      ...tokenRoleRoutes(broker.store),
    ],
  };
};
