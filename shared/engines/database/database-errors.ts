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

/**
 * A fragment this long of a secret is never shown inside a quoted value. PostgreSQL quotes
 * the values it fails to parse in double quotes, and may quote only part of one (a
 * password read as a timestamp can come back as an unknown "time zone" made of its last
 * characters), so scrubbing whole secrets is not enough. Fragments are looked for only
 * inside quotes: an operator's password that contains "password" must not turn PostgreSQL's
 * own "password authentication failed" into a riddle. Shorter fragments are left: five
 * characters of a generated 32-character password leave more than 150 bits unknown.
 */
export const MIN_REDACTED_FRAGMENT = 6;

/**
 * Replaces every secret in play (of four characters or more; shorter ones would match
 * anywhere) and every quoted run that shares a fragment with one by a marker.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const covered = new Uint8Array(text.length);
  const fragments = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      covered.fill(1, at, at + secret.length);
    }
    for (let start = 0; start + MIN_REDACTED_FRAGMENT <= secret.length; start++) {
      fragments.add(secret.slice(start, start + MIN_REDACTED_FRAGMENT));
    }
  }
  for (const quoted of text.matchAll(/"[^"]*"/g)) {
    const end = quoted.index + quoted[0].length - 1;
    for (let start = quoted.index + 1; start + MIN_REDACTED_FRAGMENT <= end; start++) {
      if (fragments.has(text.slice(start, start + MIN_REDACTED_FRAGMENT))) {
        covered.fill(1, start, start + MIN_REDACTED_FRAGMENT);
      }
    }
  }
  // Each marked run becomes one marker, so the length of what was hidden does not show.
  let result = "";
  for (let index = 0; index < text.length; index++) {
    if (covered[index] === 0) result += text[index];
    else if (index === 0 || covered[index - 1] === 0) result += "[redacted]";
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
