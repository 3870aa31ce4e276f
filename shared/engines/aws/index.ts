/**
 * The aws secrets engine: STS credentials for Kubernetes workloads, with Vault's paths and
 * shapes, each path family in its own file. Every credential is a lease of type "aws-sts",
 * which, unlike Vault's, can be revoked before it expires (shared/engines/aws/sts-lease.ts).
 * The engine keeps its state in its mount's store and its leases with its mount's lease
 * issuer, and knows nothing of how either is stored.
 */
import { deletePartition } from "../../store/item-store.ts";
import type { Engine, EngineFactory } from "../engine.ts";
import { awsClientCache } from "./clients.ts";
import { createDenyList } from "./deny-list.ts";
import { configRootRoute } from "./path-config-root.ts";
import { credsRoute } from "./path-creds.ts";
import { roleRoutes } from "./path-roles.ts";
import { rootConfigFromItem } from "./root-config.ts";
import { awsPartition, configKey } from "./storage.ts";
import { stsLeaseType } from "./sts-lease.ts";

export const createAwsEngine: EngineFactory = (context): Engine => {
  const { mount, store, leases } = context;
  const clientsFor = awsClientCache((item) => rootConfigFromItem(context, item), context.tracing);
  const denyList = createDenyList({
    store,
    now: context.now,
    clients: async () => clientsFor(await store.get(configKey(mount.uuid))),
  });
  const stsLease = stsLeaseType(denyList);

  return {
    routes: [configRootRoute(context), ...roleRoutes(context), credsRoute(context, clientsFor)],
    leaseTypes: { [stsLease.name]: stsLease },
    /**
     * On disable, as in Vault, every lease of the mount is revoked (forcibly: the mount is
     * going away whatever AWS says), then its configuration and roles go. The deny lists
     * stay: they belong to the IAM roles, and hold sessions still valid until they expire
     * (deny-list.ts).
     */
    async purge() {
      await leases.revokeAll();
      await deletePartition(store, awsPartition(mount.uuid));
    },
  };
};
