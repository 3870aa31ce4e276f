/**
 * database/reset/<name> (and reset-connection/<name>): closes this process's connections
 * of the connection; the next request opens new ones with the stored configuration. Other
 * broker instances keep theirs until they go idle or the configuration changes.
 */
import { type Route, route } from "../engine.ts";
import type { Connections } from "./connections.ts";
import { checkName, NAME } from "./names.ts";

export function resetRoute(connections: Connections): Route {
  return route({
    pattern: /^(?:reset|reset-connection)\/(?<name>[^/]+)$/,
    fields: { name: NAME },
    operations: {
      update: async (request) => {
        const name = checkName("connection", request.fields.name);
        await connections.get(name);
        await connections.close(name);
        return {};
      },
    },
  });
}
