/**
 * sys/auth: enable, list, read and disable auth methods. Each kubernetes mount trusts one
 * cluster (auth/kubernetes, auth/k8s-prod, ...) and gets an accessor (auth_kubernetes_<id>)
 * that templated policies name. As in Vault, changing auth methods needs sudo, and
 * disabling one revokes every token it issued.
 */

import { revocationResponse } from "../auth/tokens/revocation-response.ts";
import type { Broker } from "../broker.ts";
import { type JsonObject, type Route, route } from "../engines/engine.ts";
import { requireValue } from "../engines/fields.ts";
import type { Mount } from "../engines/mount.ts";
import { invalidRequest } from "../errors.ts";
import { disableMount } from "./disable-mount.ts";
import { describeMount, describeTuning, MOUNT_FIELDS, mountConfig, mountOptions } from "./mount-shape.ts";
import { TUNE_FIELDS, tuneMount } from "./tune.ts";

/** Auth method types that sys/auth enables (the token method is built in). */
export const AUTH_TYPES: ReadonlySet<string> = new Set(["kubernetes"]);

const AUTH_PREFIX = "auth/";

function describeAuthMount(mount: Mount, version: string): JsonObject {
  return describeMount(mount, version, { token_type: "default-service" });
}

/** "kubernetes", "/k8s-prod/" -> "auth/kubernetes/", "auth/k8s-prod/". */
function authPath(request: { fields: { path: string } }): string {
  const relative = request.fields.path.replace(/^\/+|\/+$/g, "");
  if (relative === "") throw invalidRequest("missing auth mount path");
  return `${AUTH_PREFIX}${relative}/`;
}

async function findAuthMount(broker: Broker, path: string): Promise<Mount | undefined> {
  return (await broker.mounts.list()).find((mount) => mount.path === path);
}

/** The auth method mounted at `path`, or a 400 naming the path. */
async function authMountAt(broker: Broker, path: string): Promise<Mount> {
  const mount = await findAuthMount(broker, path);
  if (!mount) throw invalidRequest(`no auth mount at "${path}"`);
  return mount;
}

export function authMountRoutes(broker: Broker): Route[] {
  const version = broker.info.version;

  return [
    route({
      pattern: /^auth\/?$/,
      fields: {},
      operations: {
        read: async () => {
          const mounts = (await broker.mounts.list()).filter((mount) => mount.path.startsWith(AUTH_PREFIX));
          return {
            data: Object.fromEntries(
              mounts.map((mount) => [
                mount.path.slice(AUTH_PREFIX.length),
                describeAuthMount(mount, version),
              ]),
            ),
          };
        },
      },
    }),
    route({
      pattern: /^auth\/(?<path>.+)\/tune$/,
      sudo: true,
      fields: TUNE_FIELDS,
      operations: {
        read: async (request) => ({
          data: describeTuning(await authMountAt(broker, authPath(request)), {
            token_type: "default-service",
          }),
        }),
        update: async (request) =>
          tuneMount(broker, await authMountAt(broker, authPath(request)), request.fields),
      },
    }),
    route({
      pattern: /^auth\/(?<path>.+)$/,
      sudo: true,
      fields: MOUNT_FIELDS,
      operations: {
        read: async (request) => ({
          data: describeAuthMount(await authMountAt(broker, authPath(request)), version),
        }),
        update: async (request) => {
          const fields = request.fields;
          const type = requireValue(fields.type, "type");
          if (!AUTH_TYPES.has(type) || !broker.engines.types[type]) {
            throw invalidRequest(`plugin not found in the catalog: ${type}`);
          }
          await broker.mounts.enable({
            path: authPath(request),
            type,
            description: fields.description,
            options: mountOptions(fields.options),
            config: mountConfig(fields.config),
          });
          return {};
        },
        delete: async (request) => {
          const path = authPath(request);
          const known = await findAuthMount(broker, path);
          if (known?.builtin) throw invalidRequest(`cannot disable ${path}`);
          // Revoke first, with every token's tree, so a failure or a tree too large for one
          // request leaves the mount in place: disabling again resumes (and the revoker
          // continues meanwhile). Then again for tokens issued while it was being disabled.
          // The mount table may be a few seconds stale here; disable() reads the store, so
          // its answer is the truth.
          const revokeTokens = async (mount: Mount) =>
            revocationResponse(
              await broker.tokens.revokeByAuthMount(mount.accessor, { requestId: request.id }),
              `the tokens of ${mount.path} are revoked and can no longer be used`,
            );
          if (known) await revokeTokens(known);
          const removed = await disableMount(broker, path);
          if (removed) await revokeTokens(removed);
          return {};
        },
      },
    }),
  ];
}
