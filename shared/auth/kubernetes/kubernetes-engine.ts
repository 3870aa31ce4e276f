/**
 * The kubernetes auth method, mounted once per cluster (auth/kubernetes, auth/k8s-prod,
 * ...): its configuration, its roles, and login. Login is the only route reachable
 * without a token.
 */
import { type Engine, type EngineFactory, notFoundResponse, route } from "../../engines/engine.ts";
import { deletePartition, listSortKeys } from "../../store/item-store.ts";
import { CONFIG_FIELDS, configFromItem, configFromRequest, configToItem, describeConfig } from "./config.ts";
import { LOGIN_FIELDS, login } from "./login.ts";
import { createMountKeys } from "./mount-keys.ts";
import { describeRole, ROLE_FIELDS, roleFromItem, roleFromRequest, roleName, roleToItem } from "./role.ts";
import { configKey, mountPartition, ROLE_PREFIX, roleKey } from "./storage.ts";

export const createKubernetesEngine: EngineFactory = ({ mount, store, now }): Engine => {
  const keys = createMountKeys(now);

  async function readRole(name: string) {
    const item = await store.get(roleKey(mount.uuid, name));
    return item ? roleFromItem(item) : undefined;
  }

  const listRoles = () => listSortKeys(store, mountPartition(mount.uuid), ROLE_PREFIX);

  return {
    routes: [
      route({
        pattern: /^login$/,
        unauthenticated: true,
        // A login writes only a new token under a random id: exact in either region.
        region: { update: "local" },
        fields: LOGIN_FIELDS,
        operations: { update: (request) => login({ mount, store, keys, now }, request.fields) },
      }),
      route({
        pattern: /^config$/,
        fields: CONFIG_FIELDS,
        exists: async () => (await store.get(configKey(mount.uuid))) !== undefined,
        operations: {
          read: async () => {
            const item = await store.get(configKey(mount.uuid));
            if (!item) return notFoundResponse();
            return { data: describeConfig(configFromItem(item)) };
          },
          update: async (request) => {
            const { config, warnings } = await configFromRequest(request.fields);
            await store.write([{ op: "put", item: configToItem(configKey(mount.uuid), config) }]);
            keys.forget();
            return warnings.length > 0 ? { warnings } : {};
          },
        },
      }),
      route({
        pattern: /^role\/?$/,
        fields: {},
        operations: {
          list: async () => {
            const names = await listRoles();
            if (names.length === 0) return notFoundResponse();
            return { data: { keys: names } };
          },
        },
      }),
      route({
        pattern: /^role\/(?<name>[^/]+)$/,
        fields: { name: { type: "string", path: true, description: "The role's name." }, ...ROLE_FIELDS },
        exists: async (request) => (await readRole(roleName(request.fields.name))) !== undefined,
        operations: {
          read: async (request) => {
            const role = await readRole(roleName(request.fields.name));
            if (!role) return notFoundResponse();
            return { data: describeRole(role) };
          },
          update: async (request) => {
            const name = roleName(request.fields.name);
            const { role, warnings } = roleFromRequest(request.fields, await readRole(name));
            await store.write([{ op: "put", item: roleToItem(roleKey(mount.uuid, name), role) }]);
            return warnings.length > 0 ? { warnings } : {};
          },
          delete: async (request) => {
            await store.write([{ op: "delete", key: roleKey(mount.uuid, roleName(request.fields.name)) }]);
            return {};
          },
        },
      }),
    ],

    async purge() {
      keys.forget();
      await deletePartition(store, mountPartition(mount.uuid));
    },
  };
};
