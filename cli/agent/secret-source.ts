/**
 * Reads the secrets the agent renders and knows when each must be read again: a secret
 * without a lease (KV) after the refresh interval; a leased secret (AWS credentials) is
 * renewed at two thirds of its lease while renewal still extends it, and read anew (new
 * credentials) once it no longer does.
 */
import type { CofferClient, VaultResponse } from "../client.ts";

export interface FetchedSecret {
  values: Record<string, unknown>;
  leaseId?: string;
  /** When to renew the lease or read the secret again, ms since the epoch. */
  refreshAt: number;
  renewable: boolean;
  leaseMs: number;
  /** The lease's duration when it was issued, to tell when renewals stop extending it. */
  issuedLeaseMs: number;
}

/** A KV version 2 read answers {data, metadata}; the secret is the inner data. */
export function secretValues(response: VaultResponse | undefined): Record<string, unknown> {
  const data = response?.data ?? {};
  const inner = data.data;
  const isKv =
    inner !== null && typeof inner === "object" && !Array.isArray(inner) && data.metadata !== undefined;
  return isKv ? (inner as Record<string, unknown>) : data;
}

export async function fetchSecret(
  client: CofferClient,
  path: string,
  refreshIntervalMs: number,
  now: number,
): Promise<FetchedSecret> {
  // "aws/creds/deploy?ttl=15m": parameters of the read, as a Vault client sends them.
  const [apiPath = "", parameters = ""] = path.split("?", 2);
  const query = parameters === "" ? undefined : Object.fromEntries(new URLSearchParams(parameters));
  const response = await client.request("GET", apiPath, { query });
  const values = secretValues(response);
  if (response?.lease_id && response.lease_duration > 0) {
    const leaseMs = response.lease_duration * 1000;
    return {
      values,
      leaseId: response.lease_id,
      refreshAt: now + (leaseMs * 2) / 3,
      renewable: response.renewable,
      leaseMs,
      issuedLeaseMs: leaseMs,
    };
  }
  return { values, refreshAt: now + refreshIntervalMs, renewable: false, leaseMs: 0, issuedLeaseMs: 0 };
}

/** Renews a leased secret; undefined when it must be read anew instead. */
export async function renewSecret(client: CofferClient, secret: FetchedSecret, now: number) {
  if (!secret.leaseId || !secret.renewable) return undefined;
  const response = await client.request("PUT", "sys/leases/renew", { body: { lease_id: secret.leaseId } });
  const leaseMs = (response?.lease_duration ?? 0) * 1000;
  if (leaseMs < secret.issuedLeaseMs / 3) return undefined;
  return { ...secret, leaseMs, refreshAt: now + (leaseMs * 2) / 3, renewable: response?.renewable ?? false };
}
