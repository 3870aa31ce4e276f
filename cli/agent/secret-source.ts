/**
 * Reads the secrets the agent renders and knows when each must be read again: a secret
 * without a lease (KV) after the refresh interval; a leased secret (AWS or database
 * credentials) is renewed at two thirds of its lease while renewal still extends it, and
 * read anew (new credentials) once it no longer does.
 *
 * A request is a read (GET, with "?k=v" parameters) or, for a consul-template `secret`
 * with "k=v" arguments, a write (PUT) whose answer is the secret. Reads from a template
 * in Vault Agent's language follow consul-template on KV version 2 mounts: the mount is
 * looked up once (sys/internal/ui/mounts) and `data/` is put into a path that lacks it.
 */
import { ApiError, type CofferClient, type VaultResponse } from "../client.ts";

export interface SecretRequest {
  path: string;
  /** A write's fields ("k=v" arguments); a read when absent. */
  data?: Record<string, string>;
  /** Insert `data/` on KV version 2 mounts, as consul-template does. */
  kvShim: boolean;
}

export interface FetchedSecret {
  request: SecretRequest;
  response: VaultResponse;
  values: Record<string, unknown>;
  leaseId?: string;
  /** When to renew the lease or read the secret again, ms since the epoch. */
  refreshAt: number;
  renewable: boolean;
  leaseMs: number;
  /** The lease's duration when it was issued, to tell when renewals stop extending it. */
  issuedLeaseMs: number;
}

/** One key per distinct request: the same secret read twice is read once. */
export function requestKey(request: SecretRequest): string {
  const data = request.data ? Object.entries(request.data).sort(([a], [b]) => (a < b ? -1 : 1)) : null;
  return JSON.stringify([request.path, data, request.kvShim]);
}

/** A KV version 2 read answers {data, metadata}; the secret is the inner data. */
export function secretValues(response: VaultResponse | undefined): Record<string, unknown> {
  const data = response?.data ?? {};
  const inner = data.data;
  const isKv =
    inner !== null && typeof inner === "object" && !Array.isArray(inner) && data.metadata !== undefined;
  return isKv ? (inner as Record<string, unknown>) : data;
}

/** What sys/internal/ui/mounts says of a path: the mount, if it is KV version 2. */
export type KvMounts = Map<string, string | null>;

async function kvV2Mount(client: CofferClient, path: string, mounts: KvMounts): Promise<string | null> {
  const known = [...mounts.entries()].find(([prefix]) => path.startsWith(prefix));
  if (known) return known[1];
  try {
    const response = await client.request("GET", `sys/internal/ui/mounts/${path}`);
    const mount = typeof response?.data?.path === "string" ? response.data.path : undefined;
    const options = response?.data?.options as Record<string, unknown> | null | undefined;
    const isV2 = mount !== undefined && options?.version === "2";
    if (mount !== undefined) mounts.set(mount, isV2 ? mount : null);
    return isV2 ? (mount as string) : null;
  } catch (error) {
    // As consul-template: a path whose mount cannot be looked up is read as it is.
    if (error instanceof ApiError && error.status < 500) return null;
    throw error;
  }
}

/** consul-template's path rule: `<mount>/x` becomes `<mount>/data/x` unless it is already data/ or metadata/. */
function withDataSegment(path: string, mount: string): string {
  const rest = path.slice(mount.length);
  if (rest === "" || rest.startsWith("data/") || rest.startsWith("metadata/")) return path;
  return `${mount}data/${rest}`;
}

/** Explains a KV version 2 read that found a deleted or destroyed version. */
function deletedVersion(error: ApiError): ApiError | undefined {
  const metadata = error.body?.data?.metadata as Record<string, unknown> | undefined;
  if (error.status !== 404 || !metadata) return undefined;
  const version = metadata.version;
  const reason = metadata.destroyed
    ? `version ${version} of this secret was destroyed`
    : metadata.deletion_time
      ? `version ${version} of this secret was deleted at ${metadata.deletion_time}`
      : undefined;
  if (!reason) return undefined;
  return new ApiError(
    404,
    [`${reason}: undelete it or write a new version`],
    error.method,
    error.path,
    error.body,
  );
}

/** A refused read of `<kv v2 mount>/x` is most often a path without `data/`: say so. */
async function withoutDataHint(client: CofferClient, path: string, error: ApiError, mounts: KvMounts) {
  if (error.status !== 403 && error.status !== 404) return undefined;
  const mount = await kvV2Mount(client, path, mounts).catch(() => null);
  if (!mount) return undefined;
  const corrected = withDataSegment(path, mount);
  if (corrected === path) return undefined;
  return new ApiError(
    error.status,
    [...error.errors, `${path} is on a KV version 2 mount, whose secrets are read at ${corrected}`],
    error.method,
    error.path,
    error.body,
  );
}

export async function fetchSecret(
  client: CofferClient,
  request: SecretRequest,
  refreshIntervalMs: number,
  now: () => number,
  mounts: KvMounts,
): Promise<FetchedSecret> {
  // "aws/creds/deploy?ttl=15m": parameters of the read, as a Vault client sends them.
  const [rawPath = "", parameters = ""] = request.path.split("?", 2);
  const query = parameters === "" ? undefined : Object.fromEntries(new URLSearchParams(parameters));
  let apiPath = rawPath;
  if (request.kvShim && !request.data) {
    const mount = await kvV2Mount(client, rawPath, mounts);
    if (mount) apiPath = withDataSegment(rawPath, mount);
  }
  let response: VaultResponse | undefined;
  try {
    response = request.data
      ? await client.request("PUT", apiPath, { body: request.data })
      : await client.request("GET", apiPath, { query });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    throw (
      deletedVersion(error) ??
      (request.kvShim ? undefined : await withoutDataHint(client, apiPath, error, mounts)) ??
      error
    );
  }
  if (!response)
    throw new ApiError(204, [`${apiPath} answered with no secret`], request.data ? "PUT" : "GET", apiPath);
  const values = secretValues(response);
  const fetched = { request, response, values };
  if (response.lease_id && response.lease_duration > 0) {
    const leaseMs = response.lease_duration * 1000;
    return {
      ...fetched,
      leaseId: response.lease_id,
      refreshAt: now() + (leaseMs * 2) / 3,
      renewable: response.renewable,
      leaseMs,
      issuedLeaseMs: leaseMs,
    };
  }
  return { ...fetched, refreshAt: now() + refreshIntervalMs, renewable: false, leaseMs: 0, issuedLeaseMs: 0 };
}

/** Renews a leased secret; undefined when it must be read anew instead. */
export async function renewSecret(client: CofferClient, secret: FetchedSecret, now: number) {
  if (!secret.leaseId || !secret.renewable) return undefined;
  const response = await client.request("PUT", "sys/leases/renew", { body: { lease_id: secret.leaseId } });
  const leaseMs = (response?.lease_duration ?? 0) * 1000;
  if (leaseMs < secret.issuedLeaseMs / 3) return undefined;
  return {
    ...secret,
    response: { ...secret.response, lease_duration: leaseMs / 1000, renewable: response?.renewable ?? false },
    leaseMs,
    refreshAt: now + (leaseMs * 2) / 3,
    renewable: response?.renewable ?? false,
  };
}
