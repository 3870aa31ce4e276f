/**
 * aws/roles and aws/roles/<name>: list, read, write (merging into the existing role, as
 * Vault does) and delete roles.
 */
import { CofferError, invalidRequest, isCofferError } from "../../errors.ts";
import { listSortKeys } from "../../store/item-store.ts";
import { type EngineContext, notFoundResponse, type Route, route } from "../engine.ts";
import type { PathField } from "../fields.ts";
import { describeRole, mergeRole, ROLE_FIELDS, ROLE_NAME, roleFromItem, roleToItem } from "./role.ts";
import { awsPartition, ROLE_PREFIX, roleKey } from "./storage.ts";

/** The role a route acts on, from its path. */
export const ROLE: PathField = { type: "string", path: true, description: "The role's name." };

export function roleName(name: string): string {
  if (!ROLE_NAME.test(name)) {
    throw invalidRequest(
      `invalid role name "${name}": use letters, digits, "_", "-", "." and "@" (at most 128)`,
    );
  }
  return name;
}

export function roleRoutes({ mount, store, now }: EngineContext): Route[] {
  return [
    route({
      pattern: /^roles\/?$/,
      fields: {},
      operations: {
        list: async () => {
          const keys = await listSortKeys(store, awsPartition(mount.uuid), ROLE_PREFIX);
          if (keys.length === 0) return notFoundResponse();
          return { data: { keys } };
        },
      },
    }),
    route({
      pattern: /^roles\/(?<name>[^/]+)$/,
      fields: { name: ROLE, ...ROLE_FIELDS },
      exists: async (request) =>
        (await store.get(roleKey(mount.uuid, roleName(request.fields.name)))) !== undefined,
      operations: {
        read: async (request) => {
          const item = await store.get(roleKey(mount.uuid, roleName(request.fields.name)));
          if (!item) return notFoundResponse();
          return { data: describeRole(roleFromItem(item)) };
        },
        update: async (request) => {
          const key = roleKey(mount.uuid, roleName(request.fields.name));
          const existing = await store.get(key);
          const { role, warnings } = mergeRole(existing && roleFromItem(existing), request.fields);
          const item = roleToItem(key, role, new Date(now()).toISOString());
          try {
            await store.write([
              {
                op: "put",
                item,
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
          return warnings.length > 0 ? { warnings } : {};
        },
        delete: async (request) => {
          await store.write([{ op: "delete", key: roleKey(mount.uuid, roleName(request.fields.name)) }]);
          return {};
        },
      },
    }),
  ];
}
