/**
 * The one validation layer at the HTTP edge: method to operation, path checks, the token
 * header, and the JSON body. Everything inward receives a LogicalRequest it can trust to
 * be well-formed.
 */
import type { JsonObject, Operation } from "../engines/engine.ts";
import { CofferError, invalidRequest, notFound, payloadTooLarge } from "../errors.ts";
import type { LogicalRequest } from "../mounts/router.ts";
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

function operationOf(method: string, query: URLSearchParams): Operation {
  switch (method) {
    case "GET":
      return query.get("list") === "true" ? "list" : "read";
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

function parseBody(text: string): JsonObject {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the input, which may be a secret: never echo it.
    throw invalidRequest("failed to parse JSON input: the request body is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidRequest("the request body must be a JSON object");
  }
  return value as JsonObject;
}

/** Largest request body accepted. Engines enforce their own, smaller limits on what they store. */
export const MAX_BODY_BYTES = 1024 * 1024;

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

export async function parseRequest(
  request: Request,
  id: string,
  maxBodyBytes = MAX_BODY_BYTES,
): Promise<LogicalRequest> {
  const url = new URL(request.url);
  const path = parsePath(url.pathname);
  const query = url.searchParams;
  const operation = operationOf(request.method, query);
  const text = await readBody(request, maxBodyBytes);
  let data: JsonObject;
  if (operation === "read" || operation === "list") {
    // Vault passes query parameters to reads as their data (GET secret/data/x?version=2).
    data = Object.fromEntries([...query].filter(([key]) => key !== "list"));
  } else {
    data = parseBody(text);
  }
  return {
    id,
    operation,
    path,
    data,
    query,
    contentType: request.headers.get("content-type") ?? "",
    clientToken: clientTokenOf(request.headers),
  };
}
