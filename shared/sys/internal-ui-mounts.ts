/**
 * `GET sys/internal/ui/mounts/<path>`: which mount serves a path, its type and options.
 * The vault CLI (`vault kv get`) and several client libraries ask it first to learn the
 * mount path and the KV version; without it they fall back to KV v1 paths.
 *
 * As in Vault, the path needs no policy of its own (policies rarely grant sys/internal/),
 * but a valid token whose policies grant something inside the mount; every refusal,
 * including a mount that does not exist, is the same 403, so the endpoint cannot be used
 * to discover mounts.
 */

import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import { type EngineRequest, type EngineResponse, type Route, route } from "../engines/engine.ts";
import { CofferError, permissionDenied } from "../errors.ts";
import { describeMount } from "./mount-shape.ts";

export function internalUiMountRoutes(broker: Broker): Route[] {
  async function read(request: EngineRequest<{ path: string }>): Promise<EngineResponse> {
    const caller = request.caller;
    if (!caller) throw permissionDenied();
    const path = `${request.fields.path.replace(/^\/+/, "").replace(/\/+$/, "")}/`;
    const refused = new CofferError(
      "ERR_PERMISSION_DENIED",
      `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
    );
    const resolved = await broker.mounts.resolve(path);
    if (!resolved) throw refused;
    const acl = await broker.policies.acl(caller.policies, policyIdentityOf(caller));
    if (!acl.grantsAnyUnder(resolved.mount.path)) throw refused;
    return { data: { ...describeMount(resolved.mount, broker.info.version), path: resolved.mount.path } };
  }

  return [
    route({
      pattern: /^internal\/ui\/mounts\/(?<path>.+)$/,
      authorizedByHandler: true,
      fields: { path: { type: "string", path: true, description: "A path inside the mount asked about." } },
      operations: { read },
    }),
  ];
}
