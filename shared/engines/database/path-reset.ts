/**
 * database/reset/<name> (and reset-connection/<name>): closes this process's connections
 * of the connection; the next request opens new ones with the stored configuration. Other
 * broker instances keep theirs until they go idle or the configuration changes.
 */
import { rejectUnknownFields } from "../../http/fields.ts";
import type { Route } from "../engine.ts";
import type { Connections } from "./connections.ts";
import { checkName } from "./names.ts";

export function resetRoute(connections: Connections): Route {
  return {
    pattern: /^(?:reset|reset-connection)\/(?<name>[^/]+)$/,
    operations: {
      update: async (request) => {
        rejectUnknownFields(request.data, []);
        const name = checkName("connection", request.params.name ?? "");
        await connections.get(name);
        await connections.close(name);
        return {};
      },
    },
  };
}
