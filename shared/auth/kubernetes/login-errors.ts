/**
 * How a login is refused. A token that fails any trust check (signature, algorithm, key,
 * claims, role binding) is a 403 whose message starts with Vault's "permission denied"
 * and says which check failed, never what the token contained. A request that is not
 * even shaped like a login (not a JWT, too large) is a 400.
 *
 * Each refusal names the check that failed with a stable code, as jose names its errors
 * (jose's own name where it has one), so callers and tests branch on the code, not on the
 * message.
 */
import { CofferError } from "../../errors.ts";

export type LoginCheck =
  | "ERR_JWT_INVALID" // not a compact JWS of the accepted size and shape (400)
  | "ERR_JOSE_ALG_NOT_ALLOWED" // an algorithm outside the mount's list: none, HS*, ...
  | "ERR_JOSE_NOT_SUPPORTED" // critical header parameters
  | "ERR_JWS_UNSIGNED" // an empty signature
  | "ERR_JWKS_NO_MATCHING_KEY" // no trusted key of that id and type
  | "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
  | "ERR_JWT_CLAIM_INVALID" // exp, nbf or iat that is not a number
  | "ERR_JWT_EXPIRY_MISSING" // no exp, and the mount does not accept legacy tokens
  | "ERR_JWT_EXPIRED"
  | "ERR_JWT_NOT_YET_VALID" // nbf in the future
  | "ERR_JWT_ISSUED_IN_FUTURE"
  | "ERR_JWT_ISSUED_AT_MISSING" // no iat, so the role's max_age cannot be checked
  | "ERR_JWT_LIFETIME_TOO_LONG" // exp - iat above the role's max_age
  | "ERR_JWT_TOO_OLD" // now - iat above the role's max_age
  | "ERR_JWT_ISSUER_UNKNOWN" // the mount's issuer is not known yet
  | "ERR_JWT_ISSUER_MISMATCH"
  | "ERR_JWT_AUDIENCE_MISMATCH"
  | "ERR_SERVICE_ACCOUNT_INVALID" // no valid namespace, name and uid in the claims
  | "ERR_SERVICE_ACCOUNT_SUBJECT_MISMATCH" // sub names another service account
  | "ERR_SERVICE_ACCOUNT_NOT_BOUND" // the role does not bind this name
  | "ERR_NAMESPACE_NOT_BOUND"; // the role does not bind this namespace

export class LoginRefused extends CofferError {
  constructor(
    readonly check: LoginCheck,
    code: "ERR_PERMISSION_DENIED" | "ERR_INVALID_REQUEST",
    message: string,
  ) {
    super(code, message);
  }
}

export function loginDenied(check: LoginCheck, reason: string): LoginRefused {
  return new LoginRefused(check, "ERR_PERMISSION_DENIED", `permission denied: ${reason}`);
}

export function malformedToken(reason: string): LoginRefused {
  return new LoginRefused("ERR_JWT_INVALID", "ERR_INVALID_REQUEST", `invalid jwt: ${reason}`);
}
