/**
 * The built-in sys/ backend: health and seal status, the secrets engines' mount table,
 * and (in their own files) auth mounts, policies, leases and sys/internal/ui/mounts.
 */
import type { BuiltinFactory } from "../broker.ts";
import { type Engine, type JsonObject, type Mount, route } from "../engines/engine.ts";
import { type FieldSchema, requireValue } from "../engines/fields.ts";
import { invalidRequest } from "../errors.ts";
import { AUTH_TYPES, authMountRoutes } from "./auth-mounts.ts";
import { capabilityRoutes } from "./capabilities.ts";
import { disableMount } from "./disable-mount.ts";
import { isInitialized } from "./init.ts";
import { internalUiMountRoutes } from "./internal-ui-mounts.ts";
import { internalUiMountsListingRoutes } from "./internal-ui-mounts-listing.ts";
import { leaseRoutes } from "./leases.ts";
import { legacyLeaseRoutes } from "./legacy-lease-routes.ts";
import { describeMount, describeTuning, MOUNT_FIELDS, mountConfig, mountOptions } from "./mount-shape.ts";
import { policyRoutes } from "./policies.ts";
import { remountRoutes } from "./remount.ts";
import { TUNE_FIELDS, tuneMount } from "./tune.ts";

/** Mount types that are built in and cannot be enabled through sys/mounts. */
const BUILTIN_TYPES = new Set(["system", "token"]);

const statusCode = (description: string) => ({ type: "integer", min: 100, max: 599, description }) as const;

/** sys/health's query parameters, as Vault's: the status codes to answer in each state. */
const HEALTH_FIELDS = {
  activecode: statusCode("The status of an initialized broker (200)."),
  uninitcode: statusCode("The status before `coffer operator init` (501)."),
  standbyok: { type: "boolean", description: "Kept for Vault clients: Coffer has no standbys." },
  perfstandbyok: { type: "boolean", description: "Kept for Vault clients: Coffer has no standbys." },
  standbycode: statusCode("Kept for Vault clients: Coffer has no standbys."),
  performancestandbycode: statusCode("Kept for Vault clients: Coffer has no standbys."),
  drsecondarycode: statusCode("Kept for Vault clients: Coffer has no replication."),
  haunhealthycode: statusCode("Kept for Vault clients: Coffer has no HA cluster."),
  sealedcode: statusCode("Kept for Vault clients: Coffer is never sealed."),
  removedcode: statusCode("Kept for Vault clients: Coffer has no raft nodes."),
} as const satisfies FieldSchema;

/** Vault's "kv-v2" is "kv" with options.version "2". */
function normalizeType(
  type: string,
  options: Record<string, string>,
): { type: string; options: Record<string, string> } {
  if (type === "kv-v2") return { type: "kv", options: { ...options, version: "2" } };
  if (type === "kv") return { type, options: { ...options, version: options.version ?? "1" } };
  return { type, options };
}

export const createSysEngine: BuiltinFactory = (broker, mount): Engine => {
  let initialized = false;
  const initializedNow = async () => {
    // Once true it stays true: skip the store read on every health probe afterwards.
    initialized ||= await isInitialized(broker);
    return initialized;
  };

  const sealStatus = async (): Promise<JsonObject> => ({
    type: broker.info.keyProvider === "kms" ? "awskms" : "shamir",
    initialized: await initializedNow(),
    sealed: false,
    t: 1,
    n: 1,
    progress: 0,
    nonce: "",
    version: broker.info.version,
    build_date: "",
    migration: false,
    cluster_name: broker.info.clusterName,
    cluster_id: broker.info.clusterName,
    recovery_seal: broker.info.keyProvider === "kms",
    storage_type: broker.info.storage,
  });

  /** The secrets engine mounted at `path` ("secret", "/secret/"), or a 400 naming the path. */
  async function secretsMountAt(path: string): Promise<Mount> {
    const mountPath = `${path.replace(/^\/+|\/+$/g, "")}/`;
    const mount = (await broker.mounts.list()).find((candidate) => candidate.path === mountPath);
    if (!mount || mount.path.startsWith("auth/")) throw invalidRequest(`no matching mount at "${mountPath}"`);
    return mount;
  }

  return {
    routes: [
      route({
        pattern: /^health$/,
        unauthenticated: true,
        fields: HEALTH_FIELDS,
        operations: {
          read: async (request) => {
            const ready = await initializedNow();
            return {
              status: ready ? (request.fields.activecode ?? 200) : (request.fields.uninitcode ?? 501),
              raw: {
                initialized: ready,
                sealed: false,
                standby: false,
                performance_standby: false,
                replication_performance_mode: "disabled",
                replication_dr_mode: "disabled",
                server_time_utc: Math.floor(broker.now() / 1000),
                version: broker.info.version,
                cluster_name: broker.info.clusterName,
                cluster_id: broker.info.clusterName,
              },
            };
          },
        },
      }),
      route({
        pattern: /^seal-status$/,
        unauthenticated: true,
        fields: {},
        operations: { read: async () => ({ raw: await sealStatus() }) },
      }),
      route({
        pattern: /^leader$/,
        unauthenticated: true,
        fields: {},
        operations: {
          read: async () => ({
            raw: {
              ha_enabled: false,
              is_self: true,
              active_time: "0001-01-01T00:00:00Z",
              leader_address: "",
              leader_cluster_address: "",
              performance_standby: false,
              performance_standby_last_remote_wal: 0,
            },
          }),
        },
      }),
      route({
        pattern: /^init$/,
        unauthenticated: true,
        fields: {},
        operations: { read: async () => ({ raw: { initialized: await initializedNow() } }) },
      }),
      route({
        pattern: /^mounts\/?$/,
        fields: {},
        operations: {
          read: async () => {
            const mounts = (await broker.mounts.list()).filter((mount) => !mount.path.startsWith("auth/"));
            return {
              data: Object.fromEntries(
                mounts.map((mount) => [mount.path, describeMount(mount, broker.info.version)]),
              ),
            };
          },
        },
      }),
      route({
        pattern: /^mounts\/(?<path>.+)\/tune$/,
        fields: TUNE_FIELDS,
        operations: {
          read: async (request) => ({ data: describeTuning(await secretsMountAt(request.fields.path)) }),
          update: async (request) =>
            tuneMount(broker, await secretsMountAt(request.fields.path), request.fields),
        },
      }),
      route({
        pattern: /^mounts\/(?<path>.+)$/,
        fields: MOUNT_FIELDS,
        operations: {
          read: async (request) => ({
            data: describeMount(await secretsMountAt(request.fields.path), broker.info.version),
          }),
          update: async (request) => {
            const fields = request.fields;
            const path = fields.path;
            if (path.replace(/^\/+/, "").startsWith("auth/")) {
              throw invalidRequest("auth methods are enabled through sys/auth");
            }
            const requested = normalizeType(requireValue(fields.type, "type"), mountOptions(fields.options));
            if (
              BUILTIN_TYPES.has(requested.type) ||
              AUTH_TYPES.has(requested.type) ||
              !broker.engines.types[requested.type]
            ) {
              throw invalidRequest(`plugin not found in the catalog: ${requested.type}`);
            }
            if (
              requested.type === "kv" &&
              requested.options.version !== "1" &&
              requested.options.version !== "2"
            ) {
              throw invalidRequest('invalid KV version: options.version must be "1" or "2"');
            }
            await broker.mounts.enable({
              path,
              type: requested.type,
              description: fields.description,
              options: requested.options,
              config: mountConfig(fields.config),
            });
            return {};
          },
          delete: async (request) => {
            const path = request.fields.path;
            if (path.replace(/^\/+/, "").startsWith("auth/")) {
              throw invalidRequest("auth methods are disabled through sys/auth");
            }
            await disableMount(broker, path);
            return {};
          },
        },
      }),
      ...leaseRoutes(broker),
      ...legacyLeaseRoutes(leaseRoutes(broker)),
      ...capabilityRoutes(broker),
      ...remountRoutes(broker),
      ...internalUiMountRoutes(broker),
      ...internalUiMountsListingRoutes(broker),
      ...policyRoutes(broker, mount),
      ...authMountRoutes(broker),
    ],
  };
};
