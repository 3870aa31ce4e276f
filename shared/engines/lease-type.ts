/**
 * Lease types, as Vault's secret types: an engine that issues leases declares, for each
 * kind of credential, how it is revoked and (optionally) renewed. The lease manager is
 * handed a resolver that finds a lease's type through the engine of the mount that issued
 * it (shared/broker.ts), and knows nothing else about it.
 */
import type { JsonObject } from "./json.ts";

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
