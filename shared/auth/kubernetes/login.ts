/**
 * POST auth/<mount>/login {role, jwt}: a pod proves who it is with its service account
 * token and receives a broker token carrying the role's policies and its identity (the
 * alias metadata templated policies use).
 */
import type { ProvenIdentity } from "../../auth/tokens/proven-identity.ts";
import { authBlock } from "../../auth/tokens/token-engine.ts";
import { loginPolicies } from "../../auth/tokens/token-policies.ts";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "../../auth/tokens/token-store.ts";
import type { Broker } from "../../broker.ts";
import { toHex } from "../../crypto/encoding.ts";
import type { EngineRequest, EngineResponse } from "../../engines/engine.ts";
import { invalidRequest } from "../../errors.ts";
import { optionalString, rejectUnknownFields } from "../../http/fields.ts";
import type { Mount } from "../../mounts/mount-table.ts";
import { configFromItem } from "./config.ts";
import { keySourceFor } from "./mount-keys.ts";
import { checkBinding, type KubernetesRole, roleFromItem, roleName } from "./role.ts";
import { type ServiceAccount, serviceAccountOf } from "./service-account.ts";
import { configKey, roleKey } from "./storage.ts";
import { verifyServiceAccountToken } from "./verify-token.ts";

function required(request: EngineRequest, name: string): string {
  const value = optionalString(request.data, name);
  if (!value) throw invalidRequest(`missing ${name}`);
  return value;
}

/** The same service account gets the same entity id on every login through the same mount. */
async function entityIdOf(mount: Mount, aliasName: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`coffer/entity\u0000${mount.accessor}\u0000${aliasName}`),
    ),
  );
  const hex = toHex(digest.subarray(0, 16));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** TTL and max TTL in seconds: the role's, else the mount's, else the system's, never past the system max. */
function lifetimeOf(role: KubernetesRole, mount: Mount): { ttl: number; maxTtl: number } {
  let maxTtl = Math.min(role.tokenMaxTtl || mount.config.max_lease_ttl || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  if (role.tokenExplicitMaxTtl > 0) maxTtl = Math.min(maxTtl, role.tokenExplicitMaxTtl);
  const ttl = Math.min(role.tokenTtl || mount.config.default_lease_ttl || DEFAULT_TOKEN_TTL_S, maxTtl);
  return { ttl, maxTtl };
}

function metadataOf(account: ServiceAccount, role: string): Record<string, string> {
  return {
    role,
    service_account_name: account.name,
    service_account_namespace: account.namespace,
    service_account_uid: account.uid,
    service_account_secret_name: account.secretName,
    ...(account.podName ? { pod_name: account.podName } : {}),
    ...(account.podUid ? { pod_uid: account.podUid } : {}),
  };
}

export async function login(broker: Broker, request: EngineRequest): Promise<EngineResponse> {
  rejectUnknownFields(request.data, ["role", "jwt"]);
  const name = roleName(required(request, "role"));
  const jwt = required(request, "jwt");
  const { mount } = request;

  const [configItem, roleItem] = await broker.store.batchGet([
    configKey(mount.uuid),
    roleKey(mount.uuid, name),
  ]);
  if (!roleItem) throw invalidRequest(`invalid role name "${name}"`);
  if (!configItem)
    throw invalidRequest(`the auth mount ${mount.path} is not configured: write ${mount.path}config first`);
  const config = configFromItem(configItem);
  const role = roleFromItem(roleItem);
  const keys = await keySourceFor(broker, mount.uuid, config);

  const claims = await verifyServiceAccountToken(jwt, {
    keys,
    now: broker.now(),
    algorithms: config.jwtSupportedAlgs,
    leewaySeconds: config.clockSkewLeeway,
    allowMissingExpiry: config.allowLegacyTokens,
    issuer: () => (config.disableIssValidation ? null : config.issuer || keys.discoveredIssuer()),
    audience: role.audience === "" ? undefined : role.audience,
    maxAgeSeconds: role.maxAge,
  });
  const account = serviceAccountOf(claims);
  checkBinding(role, account);
  // Checked again at login, after the proof: a role stored before roles were checked for
  // root must not mint it either, and no caller without a valid token learns of it.
  const policies = loginPolicies(role.tokenPolicies, role.tokenNoDefaultPolicy);

  const metadata = metadataOf(account, name);
  const aliasMetadata = Object.fromEntries(Object.entries(metadata).filter(([key]) => key !== "role"));
  const aliasName =
    role.aliasNameSource === "serviceaccount_name" ? `${account.namespace}/${account.name}` : account.uid;
  const identity: ProvenIdentity = {
    entityId: await entityIdOf(mount, aliasName),
    mountAccessor: mount.accessor,
    aliasName,
    metadata: aliasMetadata,
  };
  const mountName = mount.path
    .replace(/^auth\//, "")
    .replace(/\/$/, "")
    .replace(/\//g, "-");
  const { token, record } = await broker.tokens.create({
    policies,
    displayName: `${mountName}-${account.namespace}-${account.name}`,
    path: `${mount.path}login`,
    meta: metadata,
    ...lifetimeOf(role, mount),
    renewable: true,
    identity,
  });
  return { auth: authBlock(record, token, broker.now()) };
}
