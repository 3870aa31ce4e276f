/**
 * Calls to the Vault API of the same origin, with the session's token in X-Vault-Token.
 * Errors carry the status and Vault's `errors` list, so screens can show them as sent.
 */
import { storedToken } from "./session.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join("; ") || `the server answered ${status}`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: Vault responses are JSON of many shapes.
export type Json = any;

export interface VaultResponse {
  data?: Json;
  auth?: Json;
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  warnings?: string[];
}

/** Called when the server refuses the token itself (403 from lookup-self). */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function vault(
  method: "GET" | "LIST" | "POST" | "DELETE",
  path: string,
  body?: Json,
): Promise<VaultResponse> {
  const headers: Record<string, string> = {};
  const token = storedToken();
  if (token) headers["X-Vault-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const url = `/v1/${path}${method === "LIST" ? "?list=true" : ""}`;
  const response = await fetch(url, {
    method: method === "LIST" ? "GET" : method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  let parsed: Json = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { errors: [text] };
  }
  if (!response.ok) {
    if (response.status === 403 && path === "auth/token/lookup-self") onSignedOut();
    throw new ApiError(response.status, Array.isArray(parsed.errors) ? parsed.errors : []);
  }
  return parsed as VaultResponse;
}

/** A LIST that finds nothing is a 404 in Vault: an empty list here. */
export async function listKeys(path: string): Promise<string[]> {
  try {
    return ((await vault("LIST", path)).data?.keys as string[] | undefined) ?? [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return [];
    throw error;
  }
}

/** Path segments joined and each encoded, for names with spaces or other characters. */
export function apiPath(...parts: string[]): string {
  return parts
    .join("/")
    .split("/")
    .filter((segment) => segment !== "")
    .map(encodeURIComponent)
    .join("/");
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
