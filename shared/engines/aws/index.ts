/**
 * The aws secrets engine: STS credentials for Kubernetes workloads, with Vault's paths and
 * shapes, each path family in its own file. Every credential is a lease of type "aws-sts",
 * which, unlike Vault's, can be revoked before it expires (shared/engines/aws/sts-lease.ts).
 * The engine keeps its state in the item store and its leases in the lease manager, and
 * knows nothing of how either is stored.
 */
import type { LeaseIssuingEngine } from "../../leases/lease-type.ts";
import { deletePartition } from "../../store/item-store.ts";
import type { EngineFactory } from "../engine.ts";
import { awsClientCache } from "./clients.ts";
import { createDenyList } from "./deny-list.ts";
import { configRootRoute } from "./path-config-root.ts";
import { credsRoute } from "./path-creds.ts";
import { roleRoutes } from "./path-roles.ts";
import { rootConfigFromItem } from "./root-config.ts";
import { awsPartition, configKey } from "./storage.ts";
import { stsLeaseType } from "./sts-lease.ts";

export const createAwsEngine: EngineFactory = (mount, broker): LeaseIssuingEngine => {
  const clientsFor = awsClientCache((item) => rootConfigFromItem(broker, mount, item));
  const denyList = createDenyList({
    broker,
    clients: async () => clientsFor(await broker.store.get(configKey(mount.uuid))),
  });
  const stsLease = stsLeaseType(denyList);
  const leaseTypes = { [stsLease.name]: stsLease };

  return {
    routes: [
      configRootRoute(broker, mount),
      ...roleRoutes(broker, mount),
      credsRoute(broker, mount, clientsFor),
    ],
    leaseTypes,
    /**
     * On disable, as in Vault, every lease of the mount is revoked (forcibly: the mount is
     * going away whatever AWS says), then its configuration and roles go. The deny lists
     * stay: they belong to the IAM roles, and hold sessions still valid until they expire
     * (deny-list.ts).
     */
    async purge() {
      await broker.leases.revokeMountLeases(mount.path, leaseTypes);
      await deletePartition(broker.store, awsPartition(mount.uuid));
    },
  };
};
