/**
 * database/roles and database/roles/<name>: list, read, write (merging into the existing
 * role, as Vault does) and delete roles. Deleting a role leaves the users it created to
 * their leases.
 */
import { CofferError, isCofferError } from "../../errors.ts";
import { type EngineContext, notFoundResponse, type Route, route } from "../engine.ts";
import { checkName, NAME } from "./names.ts";
import { describeRole, mergeRole, ROLE_FIELDS, roleFromItem, roleToItem } from "./role.ts";
import { listNames, ROLE_PREFIX, roleKey } from "./storage.ts";

export function roleRoutes({ mount, store, now }: EngineContext): Route[] {
  const keyOf = (request: { fields: { name: string } }) =>
    roleKey(mount.uuid, checkName("role", request.fields.name));
  return [
    route({
      pattern: /^roles\/?$/,
      fields: {},
      operations: {
        list: async () => {
          const keys = await listNames(store, mount.uuid, ROLE_PREFIX);
          return keys.length === 0 ? notFoundResponse() : { data: { keys } };
        },
      },
    }),
    route({
      pattern: /^roles\/(?<name>[^/]+)$/,
      fields: { name: NAME, ...ROLE_FIELDS },
      exists: async (request) => (await store.get(keyOf(request))) !== undefined,
      operations: {
        read: async (request) => {
          const item = await store.get(keyOf(request));
          if (!item) return notFoundResponse();
          return { data: describeRole(roleFromItem(item)) };
        },
        update: async (request) => {
          const key = keyOf(request);
          const existing = await store.get(key);
          const role = mergeRole(existing && roleFromItem(existing), request.fields);
          try {
            await store.write([
              {
                op: "put",
                item: roleToItem(key, role, new Date(now()).toISOString()),
                // A concurrent write to the same role must not be merged over silently.
                condition: existing
                  ? { attribute: "updated_at", equals: String(existing.updated_at) }
                  : { exists: false },
              },
            ]);
          } catch (error) {
            if (!isCofferError(error, "ERR_CONDITION_FAILED")) throw error;
            throw new CofferError("ERR_CONFLICT", "the role changed while it was being written; try again");
          }
          return {};
        },
        delete: async (request) => {
          await store.write([{ op: "delete", key: keyOf(request) }]);
          return {};
        },
      },
    }),
  ];
}
