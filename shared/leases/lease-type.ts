/**
 * Lease types, as Vault's secret types: an engine that issues leases declares, for each
 * kind of credential, how it is revoked and (optionally) renewed. The lease manager finds
 * the type through the engine of the mount that issued the lease, loaded on first use
 * from the broker's engine registry, and knows nothing else about it.
 */
import type { Broker } from "../broker.ts";
import type { Engine, JsonObject } from "../engines/engine.ts";
import { CofferError } from "../errors.ts";
import type { Lease } from "./lease.ts";

/** What a lease type sees of a lease. */
export interface LeaseView {
  id: string;
  /** The engine's own revoke data, as given at issue. */
  data: JsonObject;
  issuedAt: number;
  expiresAt: number;
  /**
   * Null on the first call. Set when this call is the clean-up after an early revocation
   * that asked for one (see RevokeOutcome.followUpAt).
   */
  revokedAt: number | null;
}

export interface RevokeOutcome {
  /**
   * The credential is ended, but the revocation left something behind that becomes
   * unnecessary once the credential would have expired anyway (epoch ms). The lease stays,
   * invisible, and revoke is called once more after that time.
   */
  followUpAt?: number;
  /** Facts for the audit record. Numbers and booleans only: audit hashes every string. */
  audit?: Record<string, number | boolean>;
  /** Something an operator should know about this revocation; logged as a warning. */
  warning?: string;
}

export interface LeaseType {
  name: string;
  /**
   * Ends the credential. Must be idempotent: a revoker that dies between this call and the
   * deletion of the lease leaves the lease to the next sweep, which calls it again.
   */
  revoke(lease: LeaseView, now: number): Promise<RevokeOutcome | undefined>;
  /** Called before a renewal is recorded; throw to refuse it. Absent: renewals need no engine work. */
  renew?(lease: LeaseView, incrementSeconds: number): Promise<void>;
}

export type LeaseTypes = Readonly<Record<string, LeaseType>>;

/** An engine that issues leases. (A separate interface so engines that issue none are unchanged.) */
export interface LeaseIssuingEngine extends Engine {
  leaseTypes: LeaseTypes;
}

export function issuesLeases(engine: Engine): engine is LeaseIssuingEngine {
  const types = (engine as Partial<LeaseIssuingEngine>).leaseTypes;
  return typeof types === "object" && types !== null;
}

export type LeaseTypeResolver = (lease: Lease) => Promise<LeaseType>;

/**
 * Finds a lease's type through the engine of the mount that issued it. A lease whose mount
 * is gone (disabled, or replaced by another mount at the same path) has no type: its
 * revocation fails and is retried, visibly, until an operator forces it.
 */
export function engineLeaseTypes(broker: () => Broker): LeaseTypeResolver {
  return async (lease) => {
    const mounts = await broker().mounts.list();
    const mount = mounts.find((candidate) => candidate.uuid === lease.mount.uuid);
    if (!mount) {
      throw new CofferError(
        "ERR_NOT_FOUND",
        `the mount that issued the lease (${lease.mount.path}) no longer exists`,
      );
    }
    const engine = await broker().engineFor(mount);
    const type = issuesLeases(engine) ? engine.leaseTypes[lease.type] : undefined;
    if (!type)
      throw new CofferError("ERR_INTERNAL", `the ${mount.type} engine has no lease type "${lease.type}"`);
    return type;
  };
}
