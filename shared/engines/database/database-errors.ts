/**
 * What a PostgreSQL failure means for the caller: a server that cannot be reached, is
 * shutting down, is out of connections or aborted a transaction for concurrency is 503
 * (retry later); PostgreSQL refusing Coffer's credentials or a statement is a 400 naming
 * PostgreSQL's message and SQLSTATE, as Vault answers; anything else stays internal.
 *
 * PostgreSQL quotes pieces of a statement in some messages ("syntax error at or near
 * ..."), and a statement may carry a password: every message is scrubbed of the secrets
 * in play before it reaches a caller, a log or an audit record.
 */
import { CofferError } from "../../errors.ts";

interface DriverError {
  code?: string;
  message?: string;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
/** Messages of the driver itself (no SQLSTATE) that mean the server went away or never answered. */
const DRIVER_UNAVAILABLE = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /connection ended/i,
  /Client has encountered a connection error/i,
];
/** SQLSTATEs and classes that a later retry may not meet again. */
const TRANSIENT_STATES = new Set(["40001", "40P01", "55P03", "57014", "XX000"]);
const TRANSIENT_CLASSES = new Set(["08", "53", "57", "58"]);
const SQLSTATE = /^[0-9A-Z]{5}$/;
const MAX_MESSAGE_CHARS = 300;

/** Replaces every secret in play by a marker; short strings are left, they would match anywhere. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join("[redacted]");
  }
  return result;
}

export const sqlState = (error: unknown): string | undefined => {
  const code = (error as DriverError | undefined)?.code;
  return typeof code === "string" && SQLSTATE.test(code) ? code : undefined;
};

/** PostgreSQL refused the password (not the user's privileges, not the network). */
export const isPasswordRefused = (error: unknown) => sqlState(error) === "28P01";

export function databaseFailure(what: string, error: unknown, secrets: readonly string[] = []): CofferError {
  if (error instanceof CofferError) return error;
  const driver = (error ?? {}) as DriverError;
  const message = redact(String(driver.message ?? error), secrets).slice(0, MAX_MESSAGE_CHARS);
  const state = sqlState(error);
  const options = { cause: error };
  if (state === undefined) {
    if (
      (driver.code !== undefined && NETWORK_CODES.has(driver.code)) ||
      DRIVER_UNAVAILABLE.some((pattern) => pattern.test(message))
    ) {
      return new CofferError(
        "ERR_UPSTREAM_UNAVAILABLE",
        `the database could not be reached to ${what}: ${message}`,
        [],
        options,
      );
    }
    if (/ssl|tls|certificate/i.test(message)) {
      return new CofferError("ERR_INVALID_REQUEST", `cannot ${what}: TLS failed: ${message}`, [], options);
    }
    return new CofferError("ERR_INTERNAL", `failed to ${what}: ${message}`, [], options);
  }
  if (TRANSIENT_STATES.has(state) || TRANSIENT_CLASSES.has(state.slice(0, 2))) {
    return new CofferError(
      "ERR_UPSTREAM_UNAVAILABLE",
      `the database could not ${what} now: ${message} (SQLSTATE ${state})`,
      [],
      options,
    );
  }
  return new CofferError(
    "ERR_INVALID_REQUEST",
    `the database refused to ${what}: ${message} (SQLSTATE ${state})`,
    [],
    options,
  );
}
