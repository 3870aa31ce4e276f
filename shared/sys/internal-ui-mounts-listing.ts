/**
 * `GET sys/internal/ui/mounts`: every mount the token may use, as Vault's UI lists them:
 * `{secret: {<path>: mount}, auth: {<path without "auth/">: mount}}`, each in the shape of
 * sys/mounts. A mount is listed when the token's policies grant something (other than
 * deny) at or below its path, Vault's test before it names a mount to a token, or when
 * the mount is tuned to `listing_visibility = "unauth"`; root sees them all.
 *
 * Vault also answers without a token, listing only the mounts tuned to "unauth"; Coffer
 * asks for a valid token instead, so that which mounts exist is never told to anyone
 * (docs/api.md).
 */
import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  type Route,
  route,
} from "../engines/engine.ts";
import { permissionDenied } from "../errors.ts";
import { describeMount } from "./mount-shape.ts";

const AUTH_PREFIX = "auth/";

export function internalUiMountsListingRoutes(broker: Broker): Route[] {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    const caller = request.caller;
    if (!caller) throw permissionDenied();
    const acl = await broker.policies.acl(caller.policies, policyIdentityOf(caller));
    const secret: JsonObject = {};
    const auth: JsonObject = {};
    for (const mount of await broker.mounts.list()) {
      if (!acl.grantsAnyUnder(mount.path) && mount.config.listing_visibility !== "unauth") continue;
      const described = describeMount(mount, broker.info.version);
      if (mount.path.startsWith(AUTH_PREFIX)) auth[mount.path.slice(AUTH_PREFIX.length)] = described;
      else secret[mount.path] = described;
    }
    return { data: { secret, auth } };
  }

  return [
    route({
      pattern: /^internal\/ui\/mounts\/?$/,
      authorizedByHandler: true,
      fields: {},
      operations: { read },
    }),
  ];
}
