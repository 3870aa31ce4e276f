/**
 * How a login is refused. A token that fails any trust check (signature, algorithm, key,
 * claims, role binding) is a 403 whose message starts with Vault's "permission denied"
 * and says which check failed, never what the token contained. A request that is not
 * even shaped like a login (missing fields, not a JWT, too large) is a 400.
 */
import { CofferError, invalidRequest } from "../../errors.ts";

export function loginDenied(reason: string): CofferError {
  return new CofferError("ERR_PERMISSION_DENIED", `permission denied: ${reason}`);
}

export function malformedToken(reason: string): CofferError {
  return invalidRequest(`invalid jwt: ${reason}`);
}
