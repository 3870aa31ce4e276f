/**
 * A secrets engine for exercising the lease manager without any cloud: mounted like any
 * other (type "leasing"), it issues leases at `creds/<name>` and records every call to
 * its lease type's revoke and renew, so tests count exactly how often an engine was asked
 * to revoke. Tests decide how revocations behave (fail, ask for a clean-up call later, be
 * slow) through `behaviour`. It plugs into the broker's engine registry, the extension
 * point every engine uses; nothing of the product is replaced.
 */
import type { EngineType } from "../../shared/broker.ts";
import { type Engine, type EngineFactory, route } from "../../shared/engines/engine.ts";
import type { LeaseTypes, LeaseView, RevokeOutcome } from "../../shared/engines/lease-type.ts";

export const TEST_LEASE_TYPE = "test-credential";

export interface RevokeCall {
  id: string;
  /** Non-null for the clean-up call after an early revocation. */
  revokedAt: number | null;
  data: Record<string, unknown>;
}

export interface LeaseTestEngine {
  /** The engine's entry for the broker's registry. */
  type: EngineType;
  revokeCalls: RevokeCall[];
  renewCalls: { id: string; increment: number }[];
  /** How many times revoke was called per lease id. */
  revokeCount(id: string): number;
  behaviour: {
    /** Throws to fail the revocation; returns an outcome to shape it. */
    revoke?: (
      lease: LeaseView,
      now: number,
    ) => Promise<RevokeOutcome | undefined> | RevokeOutcome | undefined;
    renew?: (lease: LeaseView, increment: number) => void;
    /** Runs at the end of the engine's purge, after its leases are revoked; throws to fail it. */
    purge?: () => Promise<void> | void;
  };
}

export function createLeaseTestEngine(): LeaseTestEngine {
  const engine: LeaseTestEngine = {
    revokeCalls: [],
    renewCalls: [],
    behaviour: {},
    revokeCount: (id) => engine.revokeCalls.filter((call) => call.id === id).length,
    type: { load: async () => factory },
  };

  const leaseTypes: LeaseTypes = {
    [TEST_LEASE_TYPE]: {
      name: TEST_LEASE_TYPE,
      async revoke(lease, now) {
        engine.revokeCalls.push({ id: lease.id, revokedAt: lease.revokedAt, data: lease.data });
        return (await engine.behaviour.revoke?.(lease, now)) ?? undefined;
      },
      async renew(lease, increment) {
        engine.renewCalls.push({ id: lease.id, increment });
        engine.behaviour.renew?.(lease, increment);
      },
    },
  };

  const factory: EngineFactory = ({ leases, now }): Engine => ({
    routes: [
      route({
        pattern: /^creds\/(?<name>[^/]+)$/,
        fields: {
          name: { type: "string", path: true, description: "What the credential is for." },
          ttl: { type: "duration", default: 60, description: "The lease's TTL." },
        },
        operations: {
          read: async (request) => {
            const ttl = request.fields.ttl;
            const leaseId = await leases.issue({
              path: request.path,
              type: TEST_LEASE_TYPE,
              caller: request.caller,
              expiresAt: now() + ttl * 1000,
              maxExpiresAt: now() + 10 * ttl * 1000,
              renewable: true,
              data: { name: request.fields.name },
            });
            return {
              data: { username: request.fields.name },
              leaseId,
              leaseDuration: ttl,
              renewable: true,
            };
          },
        },
      }),
    ],
    async purge() {
      await leases.revokeAll();
      await engine.behaviour.purge?.();
    },
    leaseTypes,
  });

  return engine;
}
