/**
 * The database secrets engine, PostgreSQL plugin: a database user created on demand for
 * each caller and dropped when its lease ends, with Vault's paths and shapes, each path
 * family in its own file. Every credential is a lease of type "database-user"
 * (user-lease.ts). The engine keeps its configuration in the item store (connections
 * sealed), its leases in the lease manager, and its database connections in small
 * per-process pools (connection-pools.node.ts); it knows nothing of how any of them is stored.
 */
import { deletePartition } from "../../store/item-store.ts";
import type { Engine, EngineFactory } from "../engine.ts";
import { createConnections } from "./connections.ts";
import { configRoutes } from "./path-config.ts";
import { credsRoute } from "./path-creds.ts";
import { resetRoute } from "./path-reset.ts";
import { roleRoutes } from "./path-roles.ts";
import { rotateRootRoute } from "./path-rotate-root.ts";
import { databasePartition } from "./storage.ts";
import { userLeaseType } from "./user-lease.ts";

export const createDatabaseEngine: EngineFactory = (context): Engine => {
  const { mount, store, leases } = context;
  const connections = createConnections(context);
  const userLease = userLeaseType(context, connections);
  const leaseTypes = { [userLease.name]: userLease };

  return {
    routes: [
      ...configRoutes(context, connections),
      ...roleRoutes(context),
      credsRoute(context, connections, leaseTypes),
      rotateRootRoute(connections),
      resetRoute(connections),
    ],
    leaseTypes,
    /**
     * On disable, as in Vault, every lease of the mount is revoked (forcibly: the mount is
     * going away whatever the database says), then its connections and roles go.
     */
    async purge() {
      await leases.revokeAll();
      await deletePartition(store, databasePartition(mount.uuid));
      await connections.closeAll();
    },
  };
};
