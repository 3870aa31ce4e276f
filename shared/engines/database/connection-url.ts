/**
 * connection_url, as Vault's PostgreSQL plugin takes it: a postgres:// URL in which
 * {{username}} and {{password}} stand for the configured root credentials (so the password
 * can be rotated and is never part of what a read returns).
 *
 * Coffer reads the URL itself and hands the driver explicit settings, rather than the
 * string: the driver would otherwise honour parameters that read local files
 * (sslrootcert, sslkey) or fall back to PG* environment variables and ~/.pgpass of
 * whatever machine runs the broker. Query parameters: sslmode, connect_timeout and
 * application_name; anything else is refused.
 */
import type { ClientConfig } from "pg";
import { invalidRequest } from "../../errors.ts";

export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl: ClientConfig["ssl"];
  connectTimeoutMs: number;
  applicationName: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const MAX_CONNECT_TIMEOUT_S = 30;
const KNOWN_PARAMETERS = ["sslmode", "connect_timeout", "application_name"];
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
const PASSWORD_PLACEHOLDER = "{{password}}";

const urlError = (why: string) => invalidRequest(`invalid value for "connection_url": ${why}`);

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw urlError(`the ${what} is not valid percent-encoding`);
  }
}

function sslOf(mode: string, ca: string): ClientConfig["ssl"] {
  const withCa = ca === "" ? {} : { ca };
  switch (mode) {
    case "require":
      return ca === "" ? { rejectUnauthorized: false } : { ...withCa, checkServerIdentity: () => undefined };
    case "verify-ca":
      return { ...withCa, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case "verify-full":
      return { ...withCa, rejectUnauthorized: true };
    default:
      // disable, allow, prefer: the driver cannot fall back from TLS, so these mean plain.
      return false;
  }
}

/**
 * The settings to connect with. `username` and `password` fill the templates and stand in
 * for credentials the URL does not carry itself.
 */
export function connectionTarget(
  template: string,
  credentials: { username: string; password: string; tlsCa?: string },
): ConnectionTarget {
  const filled = template
    .replaceAll("{{username}}", encodeURIComponent(credentials.username))
    .replaceAll("{{password}}", encodeURIComponent(credentials.password));
  if (filled.includes("{{") || filled.includes("}}")) {
    throw urlError("only {{username}} and {{password}} may be templated");
  }
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw urlError('expected a URL such as "postgresql://{{username}}:{{password}}@db.internal:5432/app"');
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw urlError("expected a postgres:// or postgresql:// URL");
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw urlError("the host is missing");
  if (url.hash !== "") throw urlError("a URL fragment is not allowed");
  const path = decode(url.pathname.replace(/^\//, ""), "database name");
  if (path.includes("/")) throw urlError("the path must be one database name");
  const unknown = [...url.searchParams.keys()].filter((key) => !KNOWN_PARAMETERS.includes(key));
  if (unknown.length > 0) {
    throw urlError(
      `unsupported parameters: ${[...new Set(unknown)].sort().join(", ")} (use ${KNOWN_PARAMETERS.join(", ")})`,
    );
  }
  const sslMode = url.searchParams.get("sslmode") ?? "disable";
  if (!SSL_MODES.includes(sslMode)) throw urlError(`sslmode must be one of ${SSL_MODES.join(", ")}`);
  const timeout = url.searchParams.get("connect_timeout");
  if (
    timeout !== null &&
    !(/^\d+$/.test(timeout) && Number(timeout) >= 1 && Number(timeout) <= MAX_CONNECT_TIMEOUT_S)
  ) {
    throw urlError(`connect_timeout must be 1 to ${MAX_CONNECT_TIMEOUT_S} seconds`);
  }
  const user = url.username !== "" ? decode(url.username, "user name") : credentials.username;
  if (user === "")
    throw invalidRequest('no user to connect as: set "username" or put one in "connection_url"');
  return {
    host,
    port: url.port === "" ? 5432 : Number(url.port),
    database: path || user,
    user,
    password: url.password !== "" ? decode(url.password, "password") : credentials.password,
    ssl: sslOf(sslMode, credentials.tlsCa ?? ""),
    connectTimeoutMs: timeout === null ? DEFAULT_CONNECT_TIMEOUT_MS : Number(timeout) * 1000,
    applicationName: url.searchParams.get("application_name") ?? "coffer",
  };
}

/** The parser drops tabs and line breaks anywhere, and C0 controls and spaces at either end. */
function stripLikeTheParser(input: string): string {
  const text = input.replace(/[\t\n\r]/g, "");
  const isControlOrSpace = (index: number) => text.charCodeAt(index) <= 0x20;
  let start = 0;
  let end = text.length;
  while (start < end && isControlOrSpace(start)) start++;
  while (end > start && isControlOrSpace(end - 1)) end--;
  return text.slice(start, end);
}

/**
 * The URL as the WHATWG parser (`new URL`, above) reads it, and where its password lies in
 * that text. Found exactly as the parser finds it, so that what a read masks and what the
 * driver is given can never differ: the authority runs from "//" to the first "/", "?" or
 * "#"; its user info ends at the authority's LAST "@" (earlier ones belong to the user info),
 * and the password follows the user info's first ":". Positions are in the stripped text.
 */
function locatePassword(template: string): { text: string; start: number; end: number } | undefined {
  const text = stripLikeTheParser(template);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (!scheme) return undefined;
  const authorityStart = scheme[0].length;
  const authorityEnd = text.slice(authorityStart).search(/[/?#]/);
  const authority = text.slice(
    authorityStart,
    authorityEnd === -1 ? text.length : authorityStart + authorityEnd,
  );
  const at = authority.lastIndexOf("@");
  if (at === -1) return undefined;
  const colon = authority.slice(0, at).indexOf(":");
  if (colon === -1) return undefined;
  return { text, start: authorityStart + colon + 1, end: authorityStart + at };
}

/** Where a password written into the URL itself, rather than templated, lies. */
function literalPassword(template: string): { text: string; start: number; end: number } | undefined {
  const found = locatePassword(template);
  if (!found) return undefined;
  const password = found.text.slice(found.start, found.end);
  return password === "" || password === PASSWORD_PLACEHOLDER ? undefined : found;
}

/** A password written into the URL, as written and as decoded: both must be scrubbed from errors. */
export function literalPasswordsIn(template: string): string[] {
  const found = literalPassword(template);
  if (!found) return [];
  const written = found.text.slice(found.start, found.end);
  try {
    return [written, decodeURIComponent(written)];
  } catch {
    return [written];
  }
}

/** A password written into the URL itself rather than templated: it cannot be rotated. */
export function hasLiteralPassword(template: string): boolean {
  return literalPassword(template) !== undefined;
}

/** The URL as a read shows it: a password written into it is masked, all of it. */
export function describeConnectionUrl(template: string): string {
  const found = literalPassword(template);
  return found ? `${found.text.slice(0, found.start)}*****${found.text.slice(found.end)}` : template;
}
