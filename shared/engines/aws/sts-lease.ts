/**
 * The lease type of STS credentials ("aws-sts"), as Vault's secret_access_keys with is_sts,
 * except that Coffer can revoke them early:
 *
 * - revoked before they expire: the session is denied on its role (shared/engines/aws/
 *   deny-list.ts) and the lease asks to be called again once the credentials would have
 *   expired, plus a margin for clock skew;
 * - that second call prunes the role's deny list;
 * - revoked at or after expiry (the normal sweep): nothing to do, no AWS call at all.
 */
import { CofferError } from "../../errors.ts";
import type { LeaseType, LeaseView } from "../lease-type.ts";
import type { DenyList } from "./deny-list.ts";

export const STS_LEASE_TYPE = "aws-sts";
/** Deny entries outlive the credentials by this much, in case AWS's clock runs behind ours. */
export const EXPIRY_GRACE_MS = 60_000;

/** What a lease of STS credentials stores to revoke them. */
export interface StsLeaseData {
  role_arn: string;
  /** aws:userid of the session: "<RoleId>:<session name>". */
  user_id: string;
  /** When the credentials expire, by AWS's clock (epoch ms). */
  expiration: number;
  /** When AWS issued them: expiration minus duration (epoch ms). */
  issued: number;
}

export function stsLeaseData(lease: LeaseView): StsLeaseData {
  const { role_arn, user_id, expiration, issued } = lease.data;
  if (
    typeof role_arn !== "string" ||
    typeof user_id !== "string" ||
    typeof expiration !== "number" ||
    typeof issued !== "number"
  ) {
    throw new CofferError("ERR_INTERNAL", `lease ${lease.id} does not carry STS revoke data`);
  }
  return { role_arn, user_id, expiration, issued };
}

export function stsLeaseType(denyList: DenyList): LeaseType {
  return {
    name: STS_LEASE_TYPE,
    async revoke(lease, now) {
      const data = stsLeaseData(lease);
      if (lease.revokedAt !== null) {
        await denyList.prune(data.role_arn);
        return undefined;
      }
      if (now >= data.expiration) return undefined;
      const until = data.expiration + EXPIRY_GRACE_MS;
      const result = await denyList.deny(data.role_arn, { [data.user_id]: { until, issued: data.issued } });
      return {
        followUpAt: until,
        warning: result.collapsed
          ? `the deny policy of ${data.role_arn} is full: every session of the role issued before ` +
            `${new Date(result.cutoff ?? 0).toISOString()} is now denied (aws:TokenIssueTime)`
          : undefined,
        audit: {
          session_denied: true,
          token_issue_time_fallback: result.collapsed,
          ...(result.collapsed && result.cutoff !== undefined
            ? { denied_issued_before_unix: Math.floor(result.cutoff / 1000) }
            : {}),
        },
      };
    },
  };
}
