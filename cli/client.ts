/**
 * The HTTP client of the `coffer` command and the agent: Vault's API over node:http
 * (cli/http-request.ts), one request at a time, with the server's own error messages kept
 * intact so they can be shown to a person as the server wrote them.
 */
import { type HttpAnswer, sendRequest } from "./http-request.ts";

/** Vault's authentication block, as login and renew-self return it. */
export interface AuthInfo {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies?: string[];
  identity_policies?: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
}

/** Vault's response envelope. */
export interface VaultResponse {
  request_id?: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: Record<string, unknown> | null;
  warnings: string[] | null;
  auth: AuthInfo | null;
  mount_type?: string;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** The server answered with an error status. `errors` are its messages, as sent. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    readonly method: Method,
    readonly path: string,
    /** The body of an error response that still carries data (a deleted KV version). */
    readonly body?: VaultResponse,
  ) {
    super(errors.length > 0 ? errors.join("; ") : `HTTP ${status}`);
  }
}

/** No answer from the server, or an answer that is not Vault's API. */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Query parameters, e.g. {version: "2"} or {list: "true"}; a list is sent repeated. */
  query?: Record<string, string | string[]>;
}

export interface CofferClient {
  readonly address: string;
  readonly token: string | undefined;
  /** The parsed envelope, or undefined for 204 No Content. */
  request(method: Method, path: string, options?: RequestOptions): Promise<VaultResponse | undefined>;
  /** A client to the same server that sends another token. */
  withToken(token: string | undefined): CofferClient;
}

export interface ClientOptions {
  address: string;
  token?: string;
  /** Per request; a hung server must not hang a command or the agent. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** "secret/data/app/db" -> "/v1/secret/data/app/db", each segment percent-encoded. */
export function apiPath(path: string): string {
  const trimmed = path.replace(/^\/+/, "");
  return `/v1/${trimmed.split("/").map(encodeURIComponent).join("/")}`;
}

/** Why the exchange failed, in the words a person would use: the error holds the system's code. */
function describeFailure(error: unknown): string {
  const cause = error as { code?: unknown; name?: string };
  if (cause.name === "TimeoutError") return "the server did not answer in time";
  switch (typeof cause.code === "string" ? cause.code : undefined) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
      return "connection timed out";
    default:
      if (typeof cause.code === "string" && (cause.code.startsWith("ERR_TLS") || cause.code.includes("CERT")))
        return `TLS error (${cause.code})`;
      if (typeof cause.code === "string") return cause.code;
      return error instanceof Error ? error.message : String(error);
  }
}

function errorsOf(body: unknown): string[] | undefined {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.map(String) : undefined;
}

export function createClient(options: ClientOptions): CofferClient {
  const address = options.address.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function request(method: Method, path: string, requestOptions: RequestOptions = {}) {
    const url = new URL(`${address}${apiPath(path)}`);
    for (const [name, value] of Object.entries(requestOptions.query ?? {})) {
      for (const item of [value].flat()) url.searchParams.append(name, item);
    }
    const headers: Record<string, string> = {};
    if (options.token) headers["X-Vault-Token"] = options.token;
    let body: string | undefined;
    if (requestOptions.body !== undefined) {
      body = JSON.stringify(requestOptions.body);
      headers["Content-Type"] = requestOptions.contentType ?? "application/json";
    }

    let response: HttpAnswer;
    try {
      response = await sendRequest(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new ConnectionError(address, `cannot reach Coffer at ${address}: ${describeFailure(error)}`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // Never an empty success: a cut-short answer to a write says nothing of its outcome.
      throw new ConnectionError(
        address,
        `the answer from ${address} was cut short: ${describeFailure(error)}`,
      );
    }
    // 204, or 202 for work the server queued: success with nothing to say.
    if (response.ok && text === "") return undefined;
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      if (parsed === null || typeof parsed !== "object") {
        throw new ConnectionError(
          address,
          `the server at ${address} did not answer like Coffer (HTTP ${response.status}, not a JSON body)`,
        );
      }
      return parsed as VaultResponse;
    }
    // Vault answers a deleted KV version with a 404 that carries the envelope, not errors.
    const envelope = parsed !== null && typeof parsed === "object" && "request_id" in parsed;
    const errors = errorsOf(parsed) ?? (envelope ? [] : undefined);
    if (errors === undefined) {
      // Not Vault's error shape: a proxy, a load balancer, or another server entirely.
      const kind = response.headers.get("content-type")?.split(";")[0] || "no content type";
      throw new ConnectionError(
        address,
        `the server at ${address} did not answer like Coffer (HTTP ${response.status}, ${kind}): check the address`,
      );
    }
    const withData =
      (parsed as { data?: unknown }).data !== undefined ? (parsed as VaultResponse) : undefined;
    throw new ApiError(response.status, errors, method, path, withData);
  }

  return {
    address,
    token: options.token,
    request,
    withToken: (token) => createClient({ ...options, token }),
  };
}
