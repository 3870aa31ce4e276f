/**
 * sys/leases/: Vault's lease endpoints (lookup, LIST by prefix, renew, revoke,
 * revoke-prefix, revoke-force) in Vault's paths and shapes, plus revoke-identity, a Coffer
 * extension that revokes every lease one identity (a service account) obtained.
 */
import type { Broker } from "../broker.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engines/engine.ts";
import { CofferError, invalidRequest } from "../errors.ts";
import { optionalBoolean, optionalDuration, optionalString, rejectUnknownFields } from "../http/fields.ts";
import { hasControlCharacters } from "../http/request.ts";
import type { Lease } from "../leases/lease.ts";
import type { RevokeOptions, RevokeSummary } from "../leases/lease-manager.ts";

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
function leaseIdOf(request: EngineRequest, known: readonly string[]): string {
  rejectUnknownFields(request.data, known);
  const fromPath = request.params.id;
  const fromBody = optionalString(request.data, "lease_id");
  if (fromPath !== undefined && fromBody !== undefined && fromBody !== fromPath) {
    throw invalidRequest("the lease id in the path and in the body differ");
  }
  return checkLeasePath(fromPath ?? fromBody ?? "", "lease_id");
}

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

  const revokeWith =
    (
      run: (target: string, options: RevokeOptions) => Promise<RevokeSummary>,
      target: (r: EngineRequest) => string,
    ) =>
    async (request: EngineRequest): Promise<EngineResponse> => {
      const subject = target(request);
      const sync = optionalBoolean(request.data, "sync") ?? true;
      return revokeResponse(await run(subject, { requestId: request.id, sync }), sync);
    };

  const prefixOf = (request: EngineRequest) => {
    rejectUnknownFields(request.data, ["sync"]);
    return checkLeasePath(request.params.prefix ?? "", "prefix");
  };

  const lookup = async (request: EngineRequest): Promise<EngineResponse> => {
    const id = leaseIdOf(request, ["lease_id"]);
    const lease = await leases.lookup(id);
    if (!lease) throw invalidRequest("invalid lease");
    return { data: describeLease(lease, broker.now()) };
  };

  const renew = async (request: EngineRequest): Promise<EngineResponse> => {
    const id = leaseIdOf(request, ["lease_id", "increment"]);
    const increment = optionalDuration(request.data, "increment") ?? 0;
    const lease = await leases.renew(id, increment);
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

  const revoke = async (request: EngineRequest): Promise<EngineResponse> => {
    const id = leaseIdOf(request, ["lease_id", "sync"]);
    const sync = optionalBoolean(request.data, "sync") ?? true;
    return revokeResponse(await leases.revoke(id, { requestId: request.id, sync }), sync);
  };

  const entityOf = (request: EngineRequest) => {
    rejectUnknownFields(request.data, ["entity_id", "sync"]);
    const fromPath = request.params.entity;
    const fromBody = optionalString(request.data, "entity_id");
    if (fromPath !== undefined && fromBody !== undefined && fromBody !== fromPath) {
      throw invalidRequest("the entity id in the path and in the body differ");
    }
    const entity = fromPath ?? fromBody ?? "";
    if (entity === "") throw invalidRequest('missing required field "entity_id"');
    if (entity.length > 256 || hasControlCharacters(entity)) throw invalidRequest("invalid entity_id");
    return entity;
  };
  const revokeIdentity = revokeWith((entity, options) => leases.revokeByIdentity(entity, options), entityOf);

  return [
    { pattern: /^leases\/lookup$/, operations: { update: lookup } },
    {
      pattern: /^leases\/lookup\/(?<prefix>.*)$/,
      sudo: true,
      operations: {
        list: async (request) => {
          const prefix = request.params.prefix ?? "";
          if (prefix !== "") checkLeasePath(prefix, "prefix");
          const keys = await leases.list(prefix);
          if (keys.length === 0) return { status: 404, raw: { errors: [] } };
          return { data: { keys } };
        },
      },
    },
    { pattern: /^leases\/renew$/, operations: { update: renew } },
    { pattern: /^leases\/renew\/(?<id>.+)$/, operations: { update: renew } },
    { pattern: /^leases\/revoke$/, operations: { update: revoke } },
    { pattern: /^leases\/revoke\/(?<id>.+)$/, operations: { update: revoke } },
    {
      pattern: /^leases\/revoke-prefix\/(?<prefix>.+)$/,
      sudo: true,
      operations: { update: revokeWith((prefix, options) => leases.revokePrefix(prefix, options), prefixOf) },
    },
    {
      pattern: /^leases\/revoke-force\/(?<prefix>.+)$/,
      sudo: true,
      operations: {
        update: async (request) => {
          const prefix = checkLeasePath(request.params.prefix ?? "", "prefix");
          rejectUnknownFields(request.data, []);
          return revokeResponse(
            await leases.revokePrefix(prefix, { requestId: request.id, force: true }),
            true,
          );
        },
      },
    },
    { pattern: /^leases\/revoke-identity$/, sudo: true, operations: { update: revokeIdentity } },
    {
      pattern: /^leases\/revoke-identity\/(?<entity>.+)$/,
      sudo: true,
      operations: { update: revokeIdentity },
    },
  ];
}
