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
import type { Broker } from "../broker.ts";
import type { EngineRequest, EngineResponse, Route } from "../engines/engine.ts";
import { CofferError, permissionDenied } from "../errors.ts";
import type { Acl } from "../policy/acl.ts";
import { describeMount } from "./sys-engine.ts";

/**
 * An ACL that can tell whether any of its rules grants something at or below a prefix,
 * as Vault's mount access check walks its rules. ACLs without it are asked about the
 * mount path itself only, which under-grants (fails closed) for policies that name
 * deeper paths.
 */
type PrefixAwareAcl = Acl & { root?: boolean; grantsAnyUnder?: (prefix: string) => boolean };

function mayUseMount(acl: PrefixAwareAcl, mountPath: string): boolean {
  if (acl.root) return true;
  if (acl.grantsAnyUnder) return acl.grantsAnyUnder(mountPath);
  const granted = acl.capabilities(mountPath);
  return !granted.has("deny") && granted.size > 0;
}

export function internalUiMountRoutes(broker: Broker): Route[] {
  async function read(request: EngineRequest): Promise<EngineResponse> {
    const token = request.clientToken ? await broker.tokens.lookup(request.clientToken) : undefined;
    if (!token) throw permissionDenied();
    const path = `${(request.params.path ?? "").replace(/^\/+/, "").replace(/\/+$/, "")}/`;
    const refused = new CofferError(
      "ERR_PERMISSION_DENIED",
      `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
    );
    const resolved = await broker.mounts.resolve(path);
    if (!resolved) throw refused;
    const acl = await broker.policies.acl(token.policies, {
      aliases: token.entityId ? { [token.meta.mount_accessor ?? ""]: token.meta } : {},
    });
    if (!mayUseMount(acl, resolved.mount.path)) throw refused;
    return { data: { ...describeMount(resolved.mount, broker.info.version), path: resolved.mount.path } };
  }

  return [{ pattern: /^internal\/ui\/mounts\/(?<path>.+)$/, unauthenticated: true, operations: { read } }];
}
