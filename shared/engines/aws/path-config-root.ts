/**
 * aws/config/root: read and write the mount's connection to AWS.
 */
import type { Broker } from "../../broker.ts";
import type { Mount } from "../../mounts/mount-table.ts";
import { notFoundResponse, type Route } from "../engine.ts";
import { describeRootConfig, rootConfigItem } from "./root-config.ts";
import { configKey } from "./storage.ts";

export function configRootRoute(broker: Broker, mount: Mount): Route {
  return {
    pattern: /^config\/root$/,
    operations: {
      read: async () => {
        const item = await broker.store.get(configKey(mount.uuid));
        if (!item) return notFoundResponse();
        return { data: describeRootConfig(item) };
      },
      update: async (request) => {
        await broker.store.write([{ op: "put", item: await rootConfigItem(broker, mount, request.data) }]);
        return {};
      },
    },
  };
}
