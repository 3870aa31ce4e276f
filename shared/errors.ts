/**
 * Every error the broker raises on purpose is a CofferError with a stable code. The HTTP
 * edge maps codes to statuses in one place (shared/http/errors.ts); nothing matches on
 * message text.
 */
export type ErrorCode =
  | "ERR_INVALID_REQUEST" // 400: the caller sent something malformed
  | "ERR_PERMISSION_DENIED" // 403: no token, a bad token, or a policy says no
  | "ERR_NOT_FOUND" // 404: nothing at that path
  | "ERR_UNSUPPORTED_OPERATION" // 405: the path exists but not with that operation
  | "ERR_CONFLICT" // 400, as Vault answers a check-and-set mismatch: a concurrent change; retry
  | "ERR_PAYLOAD_TOO_LARGE" // 413: over a documented limit
  | "ERR_UNSUPPORTED_MEDIA_TYPE" // 415: a body in a format the endpoint does not take
  | "ERR_CONDITION_FAILED" // a store write whose condition did not hold (raced)
  | "ERR_DECRYPT_FAILED" // ciphertext tampered, moved, or under an unknown key
  | "ERR_UPSTREAM_UNAVAILABLE" // 503: KMS, DynamoDB or STS throttled or down
  | "ERR_INTERNAL"; // 500

export class CofferError extends Error {
  override readonly name = "CofferError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra messages shown to the caller after the first one (Vault returns a list). */
    readonly details: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidRequest = (message: string) => new CofferError("ERR_INVALID_REQUEST", message);
export const notFound = (message = "not found") => new CofferError("ERR_NOT_FOUND", message);
export const permissionDenied = () => new CofferError("ERR_PERMISSION_DENIED", "permission denied");
export const payloadTooLarge = (message: string) => new CofferError("ERR_PAYLOAD_TOO_LARGE", message);

export function isCofferError(error: unknown, code?: ErrorCode): error is CofferError {
  return error instanceof CofferError && (code === undefined || error.code === code);
}
