/**
 * `GET sys/internal/ui/mounts`: every mount the token may use, as Vault's UI lists them:
 * `{secret: {<path>: mount}, auth: {<path without "auth/">: mount}}`, each in the shape of
 * sys/mounts. A mount is listed when the token's policies grant something (other than
 * deny) at or below its path, Vault's test before it names a mount to a token; root sees
 * them all.
 *
 * Vault also answers without a token, listing only mounts tuned to
 * `listing_visibility = "unauth"`; Coffer has no such tuning, so that answer would always
 * be empty, and the route asks for a valid token instead (docs/api.md).
 */
import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import type { EngineRequest, EngineResponse, JsonObject, Route } from "../engines/engine.ts";
import { permissionDenied } from "../errors.ts";
import { describeMount } from "./mount-shape.ts";

const AUTH_PREFIX = "auth/";

export function internalUiMountsListingRoutes(broker: Broker): Route[] {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    const token = request.token;
    if (!token) throw permissionDenied();
    const acl = await broker.policies.acl(token.policies, policyIdentityOf(token));
    const secret: JsonObject = {};
    const auth: JsonObject = {};
    for (const mount of await broker.mounts.list()) {
      if (!acl.grantsAnyUnder(mount.path)) continue;
      const described = describeMount(mount, broker.info.version);
      if (mount.path.startsWith(AUTH_PREFIX)) auth[mount.path.slice(AUTH_PREFIX.length)] = described;
      else secret[mount.path] = described;
    }
    return { data: { secret, auth } };
  }

  return [{ pattern: /^internal\/ui\/mounts\/?$/, authorizedByHandler: true, operations: { read } }];
}
