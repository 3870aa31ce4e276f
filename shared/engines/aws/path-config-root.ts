/**
 * aws/config/root: read and write the mount's connection to AWS.
 */
import { type EngineContext, notFoundResponse, type Route, route } from "../engine.ts";
import { describeRootConfig, ROOT_CONFIG_FIELDS, rootConfigItem } from "./root-config.ts";
import { configKey } from "./storage.ts";

export function configRootRoute(context: EngineContext): Route {
  const { store, mount } = context;
  return route({
    pattern: /^config\/root$/,
    fields: ROOT_CONFIG_FIELDS,
    operations: {
      read: async () => {
        const item = await store.get(configKey(mount.uuid));
        if (!item) return notFoundResponse();
        return { data: describeRootConfig(item) };
      },
      update: async (request) => {
        await store.write([{ op: "put", item: await rootConfigItem(context, request.fields) }]);
        return {};
      },
    },
  });
}
