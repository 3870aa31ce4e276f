/**
 * sys/leases/: Vault's lease endpoints (lookup, LIST by prefix, renew, revoke,
 * revoke-prefix, revoke-force) in Vault's paths and shapes, plus revoke-identity, a Coffer
 * extension that revokes every token of one identity (a service account's logins and the
 * tokens they made, with their trees) and every lease it obtained.
 */
import { revocationResponse } from "../auth/tokens/revocation-response.ts";
import { policyIdentityOf } from "../auth/tokens/token-record.ts";
import type { Broker } from "../broker.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  type Route,
  route,
} from "../engines/engine.ts";
import type { FieldSchema } from "../engines/fields.ts";
import { CofferError, invalidRequest } from "../errors.ts";
import { hasControlCharacters } from "../http/request.ts";
import type { Lease } from "../leases/lease.ts";
import type { RevokeSummary } from "../leases/lease-manager.ts";
import { ROOT_POLICY_NAME } from "../policy/policy-store.ts";

/** Longest lease id or prefix accepted: DynamoDB sort keys stop at 1024 bytes. */
export const MAX_LEASE_ID_BYTES = 512;
const encoder = new TextEncoder();

function checkLeasePath(value: string, name: string): string {
  if (value === "") throw invalidRequest(`missing required field "${name}"`);
  if (encoder.encode(value).length > MAX_LEASE_ID_BYTES) {
    throw invalidRequest(`"${name}" exceeds the limit of ${MAX_LEASE_ID_BYTES} bytes`);
  }
  const segments = value.replace(/\/$/, "").split("/");
  if (
    value.startsWith("/") ||
    segments.some((segment) => segment === "" || segment === "." || segment === "..")
  ) {
    throw invalidRequest(`invalid ${name}: "${value}"`);
  }
  // The HTTP edge refuses them in paths, but a body may carry them.
  if (hasControlCharacters(value)) throw invalidRequest(`${name} contains control characters`);
  return value;
}

/** The lease id from the path (…/<id>) or, as Vault also accepts, from the body's lease_id. */
function leaseIdOf(fields: { id?: string; lease_id?: string }): string {
  const fromPath = fields.id;
  const fromBody = fields.lease_id;
  if (fromPath !== undefined && fromBody !== undefined && fromBody !== fromPath) {
    throw invalidRequest("the lease id in the path and in the body differ");
  }
  return checkLeasePath(fromPath ?? fromBody ?? "", "lease_id");
}

const LEASE_ID = { type: "string", description: "The lease's id, when the path does not give it." } as const;
const PATH_LEASE_ID = { type: "string", path: true, description: "The lease's id." } as const;
const PREFIX = { type: "string", path: true, description: "A prefix of lease ids." } as const;
const SYNC = {
  type: "boolean",
  default: true,
  description: "Wait for the revocation (true), or only mark the leases for the revoker (false).",
} as const;

const rfc3339 = (ms: number) => new Date(ms).toISOString();

export function describeLease(lease: Lease, now: number): JsonObject {
  return {
    id: lease.id,
    issue_time: rfc3339(lease.issuedAt),
    expire_time: rfc3339(lease.expiresAt),
    last_renewal: lease.lastRenewedAt === null ? null : rfc3339(lease.lastRenewedAt),
    renewable: lease.renewable,
    ttl: Math.max(0, Math.floor((lease.expiresAt - now) / 1000)),
  };
}

/**
 * 204 only when every lease was seen ended, 202 when queued (sync: false), 503 naming a
 * lease whose engine failed (it stays marked and is retried) or that another revoker was
 * still revoking when the wait ran out (docs/leases.md: what a revoke answers).
 */
export function revokeResponse(summary: RevokeSummary, sync: boolean): EngineResponse {
  const [failed] = summary.failed;
  if (failed) {
    throw new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `failed to revoke ${summary.failed.length} of ${summary.matched} leases; they remain marked for revocation ` +
        `and the revoker retries them: ${failed.id}: ${failed.error}`,
    );
  }
  const [pending] = summary.pending;
  if (pending) {
    throw new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `${summary.pending.length} of ${summary.matched} leases are still being revoked by another request or ` +
        `the revoker; retry to see them finished: ${pending}`,
    );
  }
  return { status: sync ? 204 : 202 };
}

export function leaseRoutes(broker: Broker): Route[] {
  const leases = broker.leases;

  /** Whether the caller has sudo on the lookup path: only such a caller learns whose token took a lease. */
  const sudoOnLookup = async (request: EngineRequest): Promise<boolean> => {
    const caller = request.caller;
    if (!caller) return false;
    if (caller.policies.includes(ROOT_POLICY_NAME)) return true;
    const acl = await broker.policies.acl(caller.policies, policyIdentityOf(caller));
    return acl.capabilities("sys/leases/lookup").has("sudo");
  };

  const lookup = async (
    request: EngineRequest<{ id?: string; lease_id?: string }>,
  ): Promise<EngineResponse> => {
    const lease = await leases.lookup(leaseIdOf(request.fields));
    if (!lease) throw invalidRequest("invalid lease");
    const data = describeLease(lease, broker.now());
    return {
      data: (await sudoOnLookup(request)) ? { ...data, token_accessor: lease.identity.accessor } : data,
    };
  };

  const renew = async (
    request: EngineRequest<{ id?: string; lease_id?: string; increment: number | undefined }>,
  ): Promise<EngineResponse> => {
    const lease = await leases.renew(leaseIdOf(request.fields), request.fields.increment ?? 0);
    return {
      leaseId: lease.id,
      renewable: lease.renewable,
      // What was granted, counted from the renewal itself.
      leaseDuration: Math.max(
        0,
        Math.round((lease.expiresAt - (lease.lastRenewedAt ?? broker.now())) / 1000),
      ),
    };
  };

  const revoke = async (
    request: EngineRequest<{ id?: string; lease_id?: string; sync: boolean }>,
  ): Promise<EngineResponse> => {
    const { sync } = request.fields;
    return revokeResponse(
      await leases.revoke(leaseIdOf(request.fields), { requestId: request.id, sync }),
      sync,
    );
  };

  const revokePrefix = async (
    request: EngineRequest<{ prefix: string; sync: boolean }>,
  ): Promise<EngineResponse> => {
    const prefix = checkLeasePath(request.fields.prefix, "prefix");
    const { sync } = request.fields;
    return revokeResponse(await leases.revokePrefix(prefix, { requestId: request.id, sync }), sync);
  };

  const revokeIdentity = async (
    request: EngineRequest<{ entity?: string; entity_id?: string; sync: boolean }>,
  ): Promise<EngineResponse> => {
    const fromPath = request.fields.entity;
    const fromBody = request.fields.entity_id;
    if (fromPath !== undefined && fromBody !== undefined && fromBody !== fromPath) {
      throw invalidRequest("the entity id in the path and in the body differ");
    }
    const entity = fromPath ?? fromBody ?? "";
    if (entity === "") throw invalidRequest('missing required field "entity_id"');
    if (entity.length > 256 || hasControlCharacters(entity)) throw invalidRequest("invalid entity_id");
    const { sync } = request.fields;
    // The identity's tokens first, with their trees: once they are marked, none of them takes
    // a new lease, so the leases revoked next are all there will be.
    const tokens = await broker.tokens.revokeByEntity(entity, { requestId: request.id, walk: sync });
    if (sync) revocationResponse(tokens, "the identity's tokens are revoked and can no longer be used");
    return revokeResponse(await leases.revokeByIdentity(entity, { requestId: request.id, sync }), sync);
  };

  const lookupFields = { lease_id: LEASE_ID } as const satisfies FieldSchema;
  const renewFields = {
    lease_id: LEASE_ID,
    increment: { type: "duration", description: "The new TTL from now; 0 or none is the lease's last." },
  } as const satisfies FieldSchema;
  const revokeFields = { lease_id: LEASE_ID, sync: SYNC } as const satisfies FieldSchema;
  const identityFields = {
    entity_id: { type: "string", description: "The entity, when the path does not give it." },
    sync: SYNC,
  } as const satisfies FieldSchema;

  return [
    route({ pattern: /^leases\/lookup$/, fields: lookupFields, operations: { update: lookup } }),
    route({
      pattern: /^leases\/lookup\/(?<prefix>.*)$/,
      sudo: true,
      fields: { prefix: PREFIX },
      operations: {
        list: async (request) => {
          const prefix = request.fields.prefix;
          if (prefix !== "") checkLeasePath(prefix, "prefix");
          const keys = await leases.list(prefix);
          if (keys.length === 0) return { status: 404, raw: { errors: [] } };
          return { data: { keys } };
        },
      },
    }),
    route({ pattern: /^leases\/renew$/, fields: renewFields, operations: { update: renew } }),
    route({
      pattern: /^leases\/renew\/(?<id>.+)$/,
      fields: { id: PATH_LEASE_ID, ...renewFields },
      operations: { update: renew },
    }),
    route({ pattern: /^leases\/revoke$/, fields: revokeFields, operations: { update: revoke } }),
    route({
      pattern: /^leases\/revoke\/(?<id>.+)$/,
      fields: { id: PATH_LEASE_ID, ...revokeFields },
      operations: { update: revoke },
    }),
    route({
      pattern: /^leases\/revoke-prefix\/(?<prefix>.+)$/,
      sudo: true,
      fields: { prefix: PREFIX, sync: SYNC },
      operations: { update: revokePrefix },
    }),
    route({
      pattern: /^leases\/revoke-force\/(?<prefix>.+)$/,
      sudo: true,
      fields: { prefix: PREFIX },
      operations: {
        update: async (request) => {
          const prefix = checkLeasePath(request.fields.prefix, "prefix");
          return revokeResponse(
            await leases.revokePrefix(prefix, { requestId: request.id, force: true }),
            true,
          );
        },
      },
    }),
    route({
      pattern: /^leases\/revoke-identity$/,
      sudo: true,
      fields: identityFields,
      operations: { update: revokeIdentity },
    }),
    route({
      pattern: /^leases\/revoke-identity\/(?<entity>.+)$/,
      sudo: true,
      fields: { entity: { type: "string", path: true, description: "The entity." }, ...identityFields },
      operations: { update: revokeIdentity },
    }),
  ];
}
