/**
 * The core's half of a login, as Vault's core does it: an auth method answers what it
 * proved (a LoginGrant), and the core makes the token. So the rules every login keeps
 * live here once, whatever auth method proved the caller:
 *
 * - the identity comes only from the proof: the entity is derived from the mount that
 *   proved it and the alias name, never from a field the auth method or caller chose;
 * - no login makes a root token (token-policies.ts), checked after the proof, so a caller
 *   without a valid token learns nothing of a role's policies;
 * - the TTLs are the role's, else the mount's, else the system's, never past the system
 *   maximum, and the role's explicit maximum caps them all;
 * - the token is an orphan, as in Vault: it is rooted at the auth mount, which revokes it
 *   (and its tree) when it is disabled.
 */
import { toHex } from "../../crypto/encoding.ts";
import type { AuthBlock, LoginGrant } from "../../engines/engine.ts";
import type { Mount } from "../../engines/mount.ts";
import { CofferError } from "../../errors.ts";
import { authBlock } from "./auth-block.ts";
import { DEFAULT_TOKEN_TTL_S, MAX_TOKEN_TTL_S } from "./token-lifetime.ts";
import { loginPolicies } from "./token-policies.ts";
import type { TokenRecords } from "./token-store.ts";

/** The same alias through the same mount gets the same entity id on every login. */
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

/** TTL and max TTL in seconds: the grant's, else the mount's, else the system's, never past the system max. */
function lifetimeOf(grant: LoginGrant, mount: Mount): { ttl: number; maxTtl: number } {
  let maxTtl = Math.min(grant.maxTtl || mount.config.max_lease_ttl || MAX_TOKEN_TTL_S, MAX_TOKEN_TTL_S);
  if (grant.explicitMaxTtl > 0) maxTtl = Math.min(maxTtl, grant.explicitMaxTtl);
  const ttl = Math.min(grant.ttl || mount.config.default_lease_ttl || DEFAULT_TOKEN_TTL_S, maxTtl);
  return { ttl, maxTtl };
}

/** "auth/k8s/prod/" -> "k8s-prod": the prefix of display names of the mount's tokens. */
const mountName = (mount: Mount) =>
  mount.path
    .replace(/^auth\//, "")
    .replace(/\/$/, "")
    .replace(/\//g, "-");

/** Makes the token a login through `mount` (at `path`, the full request path) earned. */
export async function loginToken(
  tokens: Pick<TokenRecords, "create">,
  mount: Mount,
  path: string,
  grant: LoginGrant,
): Promise<AuthBlock> {
  // Only an auth method proves anyone: a secrets engine answering with a grant is a bug.
  if (!mount.path.startsWith("auth/") || mount.builtin) {
    throw new CofferError("ERR_INTERNAL", `${mount.path} is not an auth method and cannot log anyone in`);
  }
  const policies = loginPolicies(grant.policies, grant.noDefaultPolicy);
  const { token, record } = await tokens.create({
    policies,
    displayName: `${mountName(mount)}-${grant.displayName}`,
    path,
    meta: grant.metadata,
    ...lifetimeOf(grant, mount),
    explicitMaxTtl: grant.explicitMaxTtl,
    renewable: true,
    identity: {
      entityId: await entityIdOf(mount, grant.alias.name),
      mountAccessor: mount.accessor,
      aliasName: grant.alias.name,
      metadata: grant.alias.metadata,
    },
  });
  return authBlock(record, token);
}
