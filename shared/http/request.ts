/**
 * The one validation layer at the HTTP edge, in two steps: the head (method to operation,
 * path checks, the token header), then, once the router has admitted the caller, the
 * data (query or JSON body, bounded in size and nesting). Everything inward receives
 * values it can trust to be well-formed.
 */
import type { JsonObject, Operation } from "../engines/engine.ts";
import { CofferError, invalidRequest, notFound, payloadTooLarge } from "../errors.ts";
import type { RequestHead } from "../mounts/router.ts";
import { MAX_JSON_DEPTH, parseJsonObject } from "./json-body.ts";
import { readAtMost } from "./read-at-most.ts";

/** Longest request path accepted, in UTF-8 bytes (DynamoDB keys stop at 1024/2048). */
export const MAX_PATH_BYTES = 768;

const API_PREFIX = "/v1/";
/** C0 controls, DEL and C1 controls: never meaningful in a path, often an injection attempt. */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Go's strconv.ParseBool, which Vault reads `?list=` with: clients send "1" and "True" too. */
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

function listParameter(query: URLSearchParams): boolean {
  const value = query.get("list");
  if (value === null || value === "") return false;
  if (GO_TRUE.has(value)) return true;
  if (GO_FALSE.has(value)) return false;
  throw invalidRequest(`invalid value for "list": expected a boolean, got "${value}"`);
}

function operationOf(method: string, query: URLSearchParams): Operation {
  switch (method) {
    case "GET":
      return listParameter(query) ? "list" : "read";
    case "LIST":
      return "list";
    case "POST":
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      throw new CofferError("ERR_UNSUPPORTED_OPERATION", `unsupported method ${method}`);
  }
}

const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/** Refuses "." and ".." segments, encoded or not, in a path as the client sent it. */
export function rejectDotSegments(rawPath: string): void {
  const pathOnly = rawPath.split("?")[0] ?? "";
  if (pathOnly.split("/").some((segment) => DOT_SEGMENT.test(segment))) {
    throw invalidRequest('path must not contain "." or ".." segments');
  }
}

/** The path below /v1/, decoded and checked; throws for anything a path must never contain. */
export function parsePath(pathname: string): string {
  if (!pathname.startsWith(API_PREFIX)) throw notFound();
  let path: string;
  try {
    path = decodeURIComponent(pathname.slice(API_PREFIX.length));
  } catch {
    throw invalidRequest("invalid percent-encoding in path");
  }
  if (new TextEncoder().encode(path).length > MAX_PATH_BYTES) {
    throw payloadTooLarge(`path exceeds the limit of ${MAX_PATH_BYTES} bytes`);
  }
  if (hasControlCharacters(path)) throw invalidRequest("path contains control characters");
  path = path.replace(/^\/+/, "");
  const segments = path.split("/");
  if (segments.some((segment) => segment === ".." || segment === ".")) {
    throw invalidRequest('path must not contain "." or ".." segments');
  }
  // A trailing slash is meaningful (LIST secret/metadata/app/); an empty inner segment is not.
  if (segments.slice(0, -1).some((segment) => segment === "")) {
    throw invalidRequest("path must not contain empty segments");
  }
  if (path === "") throw notFound();
  return path;
}

export function clientTokenOf(headers: Headers): string | undefined {
  const vaultToken = headers.get("x-vault-token");
  if (vaultToken) return vaultToken.trim();
  const authorization = headers.get("authorization");
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i);
  return bearer?.[1]?.trim();
}

/** Largest request body accepted. Engines enforce their own, smaller limits on what they store. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Largest request data (body or query string) of a route that needs no token (login,
 * health probes): nobody can be charged for it, and every string in it is hashed into
 * the audit log, so it is kept to what a login needs: the largest token a Kubernetes
 * login accepts (16 KiB, MAX_JWT_BYTES) and the rest of its body.
 */
export const MAX_UNAUTHENTICATED_DATA_BYTES = 32 * 1024;

/**
 * Most values (object members and array elements, or query parameters) in the data of a
 * route that needs no token: a login sends two or three. Each string is one HMAC and one
 * hash in the audit log, so this, not the size, bounds what an anonymous request costs.
 */
export const MAX_UNAUTHENTICATED_VALUES = 64;

/** Bounds on a request's data, from MAX_BODY_BYTES down to those of a route that needs no token. */
export interface DataLimits {
  maxBytes: number;
  maxValues?: number;
}

/** Reads the body as text, stopping as soon as it passes the limit instead of buffering it all. */
async function readBody(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = () => payloadTooLarge(`request body exceeds the limit of ${maxBytes} bytes`);
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return "";
  const bytes = await readAtMost(request.body, maxBytes, tooLarge);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidRequest("the request body is not valid UTF-8");
  }
}

/** Method, path, query and token: what is checked before anything the caller sent is parsed. */
export function parseRequestHead(request: Request, id: string): RequestHead {
  const url = new URL(request.url);
  const path = parsePath(url.pathname);
  const query = url.searchParams;
  // As in Vault, HEAD is served by sys/health alone (a status code for load balancers).
  const method = request.method === "HEAD" && path === "sys/health" ? "GET" : request.method;
  return {
    id,
    operation: operationOf(method, query),
    path,
    query,
    contentType: request.headers.get("content-type") ?? "",
    clientToken: clientTokenOf(request.headers),
  };
}

/**
 * The request's data, read only once the caller is admitted: the query parameters of a
 * read or list (as in Vault: GET secret/data/x?version=2), the JSON body of anything else.
 * A read's body is never read.
 */
export async function readRequestData(
  request: Request,
  head: RequestHead,
  limits: DataLimits = { maxBytes: MAX_BODY_BYTES },
): Promise<JsonObject> {
  if (head.operation === "read" || head.operation === "list") {
    if (new URL(request.url).search.length > limits.maxBytes) {
      throw payloadTooLarge(`query string exceeds the limit of ${limits.maxBytes} bytes`);
    }
    const parameters = [...head.query].filter(([key]) => key !== "list");
    if (limits.maxValues !== undefined && parameters.length > limits.maxValues) {
      throw payloadTooLarge(`the query string holds more than ${limits.maxValues} values`);
    }
    return Object.fromEntries(parameters);
  }
  const text = await readBody(request, limits.maxBytes);
  return parseJsonObject(text, { maxDepth: MAX_JSON_DEPTH, maxValues: limits.maxValues });
}
