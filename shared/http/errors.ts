/**
 * The one place error codes become HTTP statuses. Bodies are Vault's `{"errors": [...]}`.
 * Anything that is not a CofferError is an internal error: its message stays in the
 * server log and the caller gets a generic one, so no internal detail leaks.
 */
import type { ErrorCode } from "../errors.ts";
import { CofferError } from "../errors.ts";

const STATUS: Record<ErrorCode, number> = {
  ERR_INVALID_REQUEST: 400,
  ERR_CONFLICT: 400,
  ERR_PERMISSION_DENIED: 403,
  ERR_NOT_FOUND: 404,
  ERR_UNSUPPORTED_OPERATION: 405,
  ERR_CONDITION_FAILED: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_DECRYPT_FAILED: 500,
  ERR_INTERNAL: 500,
  ERR_UPSTREAM_UNAVAILABLE: 503,
};

/** Seconds a client should wait before retrying a 503 from an upstream service. */
export const RETRY_AFTER_SECONDS = 1;

export interface ErrorReply {
  status: number;
  errors: string[];
  /** What the audit record and the server log say (may be more precise than `errors`). */
  logMessage: string;
}

export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof CofferError) {
    const status = STATUS[error.code];
    // A decryption failure is the server's problem and says nothing useful to a caller.
    const message = error.code === "ERR_DECRYPT_FAILED" ? "internal error" : error.message;
    return { status, errors: [message, ...error.details], logMessage: `${error.code}: ${error.message}` };
  }
  const logMessage = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { status: 500, errors: ["internal error"], logMessage };
}
