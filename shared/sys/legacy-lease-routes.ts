/**
 * Vault still serves its lease endpoints at their paths from before `sys/leases/`:
 * sys/renew, sys/revoke, sys/revoke-prefix and sys/revoke-force, with the same fields,
 * answers and sudo rules. Some clients know no other (a popular Node client revokes by
 * prefix only through sys/revoke-prefix), so the same routes are served there too.
 */
import type { Route } from "../engines/engine.ts";

/** The routes of sys/leases/ that Vault also serves without the `leases/` segment. */
const LEGACY = /^\^leases\\\/(renew|revoke|revoke-prefix|revoke-force)(\$|\\\/)/;

export function legacyLeaseRoutes(leaseRoutes: readonly Route[]): Route[] {
  return leaseRoutes
    .filter((route) => LEGACY.test(route.pattern.source))
    .map((route) => ({ ...route, pattern: new RegExp(route.pattern.source.replace("^leases\\/", "^")) }));
}
