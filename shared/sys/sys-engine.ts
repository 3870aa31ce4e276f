import type { Engine, EngineFactory, JsonObject } from "../engines/engine.ts";
import { invalidRequest } from "../errors.ts";
import {
  optionalDuration,
  optionalInteger,
  optionalObject,
  optionalString,
  rejectUnknownFields,
  requiredString,
} from "../http/fields.ts";
import { MOUNT_FIELDS } from "../mounts/mount-table.ts";
import { AUTH_TYPES, authMountRoutes } from "./auth-mounts.ts";
import { disableMount } from "./disable-mount.ts";
import { isInitialized } from "./init.ts";
import { internalUiMountRoutes } from "./internal-ui-mounts.ts";
import { internalUiMountsListingRoutes } from "./internal-ui-mounts-listing.ts";
import { leaseRoutes } from "./leases.ts";
import { describeMount, describeTuning, mountOptions } from "./mount-shape.ts";
import { policyRoutes } from "./policies.ts";

/** Mount types that are built in and cannot be enabled through sys/mounts. */
const BUILTIN_TYPES = new Set(["system", "token"]);

/** Vault's "kv-v2" is "kv" with options.version "2". */
function normalizeType(
  type: string,
  options: Record<string, string>,
): { type: string; options: Record<string, string> } {
  if (type === "kv-v2") return { type: "kv", options: { ...options, version: "2" } };
  if (type === "kv") return { type, options: { ...options, version: options.version ?? "1" } };
  return { type, options };
}

export const createSysEngine: EngineFactory = (_mount, broker): Engine => {
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

  return {
    routes: [
      {
        pattern: /^health$/,
        unauthenticated: true,
        operations: {
          read: async (request) => {
            const ready = await initializedNow();
            const code = (name: string, fallback: number) =>
              optionalInteger(request.data, name, { min: 100, max: 599 }) ?? fallback;
            return {
              status: ready ? code("activecode", 200) : code("uninitcode", 501),
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
      },
      {
        pattern: /^seal-status$/,
        unauthenticated: true,
        operations: { read: async () => ({ raw: await sealStatus() }) },
      },
      {
        pattern: /^leader$/,
        unauthenticated: true,
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
      },
      {
        pattern: /^init$/,
        unauthenticated: true,
        operations: { read: async () => ({ raw: { initialized: await initializedNow() } }) },
      },
      {
        pattern: /^mounts\/?$/,
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
      },
      {
        pattern: /^mounts\/(?<path>.+)\/tune$/,
        operations: {
          read: async (request) => {
            const path = `${request.params.path}/`;
            const mount = (await broker.mounts.list()).find((candidate) => candidate.path === path);
            if (!mount || mount.path.startsWith("auth/"))
              throw invalidRequest(`no matching mount at "${path}"`);
            return { data: describeTuning(mount) };
          },
          update: async () => {
            throw invalidRequest(
              "tuning mounts is not supported: disable and enable the mount with the new settings",
            );
          },
        },
      },
      {
        pattern: /^mounts\/(?<path>.+)$/,
        operations: {
          read: async (request) => {
            const path = `${request.params.path?.replace(/\/+$/, "")}/`;
            const mount = (await broker.mounts.list()).find((candidate) => candidate.path === path);
            if (!mount || mount.path.startsWith("auth/"))
              throw invalidRequest(`no matching mount at "${path}"`);
            return { data: describeMount(mount, broker.info.version) };
          },
          update: async (request) => {
            const data = request.data;
            rejectUnknownFields(data, MOUNT_FIELDS);
            const path = request.params.path ?? "";
            if (path.replace(/^\/+/, "").startsWith("auth/")) {
              throw invalidRequest("auth methods are enabled through sys/auth");
            }
            const requested = normalizeType(
              requiredString(data, "type"),
              mountOptions(optionalObject(data, "options")),
            );
            if (
              BUILTIN_TYPES.has(requested.type) ||
              AUTH_TYPES.has(requested.type) ||
              !broker.engines[requested.type]
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
            const config = optionalObject(data, "config") ?? {};
            await broker.mounts.enable({
              path,
              type: requested.type,
              description: optionalString(data, "description"),
              options: requested.options,
              config: {
                default_lease_ttl: optionalDuration(config, "default_lease_ttl"),
                max_lease_ttl: optionalDuration(config, "max_lease_ttl"),
              },
            });
            return {};
          },
          delete: async (request) => {
            const path = request.params.path ?? "";
            if (path.replace(/^\/+/, "").startsWith("auth/")) {
              throw invalidRequest("auth methods are disabled through sys/auth");
            }
            await disableMount(broker, path);
            return {};
          },
        },
      },
      ...leaseRoutes(broker),
      ...internalUiMountRoutes(broker),
      ...internalUiMountsListingRoutes(broker),
      ...policyRoutes(broker),
      ...authMountRoutes(broker),
    ],
  };
};
