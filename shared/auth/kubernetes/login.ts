/**
 * POST auth/<mount>/login {role, jwt}: a pod proves who it is with its service account
 * token. What it proved (the service account, as the role binds it) goes back to the core
 * as a login grant, which the core turns into a token carrying the role's policies and
 * the proven identity (shared/auth/tokens/login-token.ts).
 */
import type { EngineResponse, Mount } from "../../engines/engine.ts";
import type { FieldSchema, FieldValues } from "../../engines/fields.ts";
import { invalidRequest } from "../../errors.ts";
import type { ItemStore } from "../../store/item-store.ts";
import { configFromItem } from "./config.ts";
import type { MountKeys } from "./mount-keys.ts";
import { checkBinding, roleFromItem, roleName } from "./role.ts";
import { type ServiceAccount, serviceAccountOf } from "./service-account.ts";
import { configKey, roleKey } from "./storage.ts";
import { verifyServiceAccountToken } from "./verify-token.ts";

/** The fields of auth/<mount>/login. */
export const LOGIN_FIELDS = {
  role: { type: "string", description: "The role to log in with." },
  jwt: { type: "string", description: "The pod's service account token." },
} as const satisfies FieldSchema;

function required(value: string | undefined, name: string): string {
  if (!value) throw invalidRequest(`missing ${name}`);
  return value;
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

export interface LoginContext {
  mount: Mount;
  store: ItemStore;
  keys: MountKeys;
  now: () => number;
}

export async function login(
  { mount, store, keys: mountKeys, now }: LoginContext,
  fields: FieldValues<typeof LOGIN_FIELDS>,
): Promise<EngineResponse> {
  const name = roleName(required(fields.role, "role"));
  const jwt = required(fields.jwt, "jwt");

  const [configItem, roleItem] = await store.batchGet([configKey(mount.uuid), roleKey(mount.uuid, name)]);
  if (!roleItem) throw invalidRequest(`invalid role name "${name}"`);
  if (!configItem)
    throw invalidRequest(`the auth mount ${mount.path} is not configured: write ${mount.path}config first`);
  const config = configFromItem(configItem);
  const role = roleFromItem(roleItem);
  const keys = await mountKeys.sourceFor(config);

  const claims = await verifyServiceAccountToken(jwt, {
    keys,
    now: now(),
    algorithms: config.jwtSupportedAlgs,
    leewaySeconds: config.clockSkewLeeway,
    allowMissingExpiry: config.allowLegacyTokens,
    issuer: () => (config.disableIssValidation ? null : config.issuer || keys.discoveredIssuer()),
    audience: role.audience === "" ? undefined : role.audience,
    maxAgeSeconds: role.maxAge,
  });
  const account = serviceAccountOf(claims);
  checkBinding(role, account);

  const metadata = metadataOf(account, name);
  return {
    login: {
      policies: role.tokenPolicies,
      noDefaultPolicy: role.tokenNoDefaultPolicy,
      displayName: `${account.namespace}-${account.name}`,
      metadata,
      alias: {
        name:
          role.aliasNameSource === "serviceaccount_name"
            ? `${account.namespace}/${account.name}`
            : account.uid,
        metadata: Object.fromEntries(Object.entries(metadata).filter(([key]) => key !== "role")),
      },
      ttl: role.tokenTtl,
      maxTtl: role.tokenMaxTtl,
      explicitMaxTtl: role.tokenExplicitMaxTtl,
    },
  };
}
