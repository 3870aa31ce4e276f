/**
 * database/config and database/config/<name>: list, read, write (merging, as Vault does)
 * and delete connections. A write is verified by connecting (verify_connection, default
 * true) before it is stored; reads never show a password.
 */
import { invalidRequest } from "../../errors.ts";
import { type EngineContext, notFoundResponse, type Route, route } from "../engine.ts";
import { CONNECTION_FIELDS, describeConfig, mergeConfig } from "./connection-config.ts";
import { probe } from "./connection-pools.node.ts";
import { literalPasswordsIn } from "./connection-url.ts";
import { type Connections, poolSettings } from "./connections.ts";
import { databaseFailure } from "./database-errors.ts";
import { checkName, NAME } from "./names.ts";
import { CONFIG_PREFIX, configKey, listNames } from "./storage.ts";

export function configRoutes({ mount, store }: EngineContext, connections: Connections): Route[] {
  const nameOf = (request: { fields: { name: string } }) => checkName("connection", request.fields.name);
  return [
    route({
      pattern: /^config\/?$/,
      fields: {},
      operations: {
        list: async () => {
          const keys = await listNames(store, mount.uuid, CONFIG_PREFIX);
          return keys.length === 0 ? notFoundResponse() : { data: { keys } };
        },
      },
    }),
    route({
      pattern: /^config\/(?<name>[^/]+)$/,
      fields: { name: NAME, ...CONNECTION_FIELDS },
      exists: async (request) => (await store.get(configKey(mount.uuid, nameOf(request)))) !== undefined,
      operations: {
        read: async (request) => {
          const connection = await connections.find(nameOf(request));
          if (!connection) return notFoundResponse();
          return { data: describeConfig(connection.config) };
        },
        update: async (request) => {
          const name = nameOf(request);
          const existing = await connections.find(name);
          const { config, verify, warnings } = mergeConfig(existing?.config, request.fields);
          if (verify) {
            try {
              await probe(poolSettings(config, config.password).target);
            } catch (error) {
              const failure = databaseFailure(`connect to "${name}"`, error, [
                config.password,
                ...literalPasswordsIn(config.connectionUrl),
              ]);
              throw invalidRequest(`error verifying the connection: ${failure.message}`);
            }
          }
          await connections.save(name, config, existing?.version ?? null);
          return warnings.length > 0 ? { warnings } : {};
        },
        delete: async (request) => {
          const name = nameOf(request);
          await store.write([{ op: "delete", key: configKey(mount.uuid, name) }]);
          await connections.close(name);
          return {};
        },
      },
    }),
  ];
}
