/**
 * The logical model every backend speaks, built-in (sys/, auth/token/) or mounted (kv,
 * transit, aws). As in Vault, the HTTP edge turns a request into an operation on a path,
 * the router finds the mount and the route, the policy check runs on the full path, and
 * only then does an engine see the request.
 */
import type { TokenRecord } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import type { Mount } from "../mounts/mount-table.ts";

export type Operation = "read" | "list" | "create" | "update" | "patch" | "delete";

export type JsonObject = { [key: string]: unknown };

export interface EngineRequest {
  /** The request id, also in the response envelope and the audit record. */
  id: string;
  operation: Operation;
  /** The path below the mount, e.g. "data/app/db" for "secret/data/app/db". */
  path: string;
  /** Named groups of the matched route's pattern. */
  params: Record<string, string>;
  /** The JSON body (an object), or {} when there is none. */
  data: JsonObject;
  query: URLSearchParams;
  /** The Content-Type header, for operations whose body format matters (merge-patch). */
  contentType: string;
  mount: Mount;
  /** The caller's token; absent only on unauthenticated routes. */
  token?: TokenRecord;
  /** The token as the caller presented it, for the self endpoints of the token store. */
  clientToken?: string;
}

export interface AuthBlock {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: "service";
  orphan: boolean;
}

export interface EngineResponse {
  /** Defaults to 200 when there is a body and 204 when there is none. */
  status?: number;
  data?: JsonObject;
  auth?: AuthBlock;
  leaseId?: string;
  leaseDuration?: number;
  renewable?: boolean;
  warnings?: string[];
  /**
   * A body sent as is, outside the Vault envelope: sys/health and sys/seal-status answer
   * in their own shape, as Vault's do.
   */
  raw?: JsonObject;
}

export type Handler = (request: EngineRequest) => Promise<EngineResponse>;

export interface Route {
  /** Matched against the whole path below the mount. */
  pattern: RegExp;
  operations: Partial<Record<Operation, Handler>>;
  /** Reachable without a token (health probes, login). */
  unauthenticated?: boolean;
  /**
   * Needs a valid token, but no policy on the route's own path: the handler decides what
   * the token may see (Vault's sys/internal/ui/mounts).
   */
  authorizedByHandler?: boolean;
  /** Needs the sudo capability on top of the operation's own. */
  sudo?: boolean;
  /**
   * Whether the target of a write exists, so that POST/PUT is checked as "create" or
   * "update" as Vault does. Without it, every write is an "update".
   */
  exists?: (request: EngineRequest) => Promise<boolean>;
}

export interface Engine {
  routes: readonly Route[];
  /** Deletes everything the engine stored for its mount; called after the mount is disabled. */
  purge?: () => Promise<void>;
}

export type EngineFactory = (mount: Mount, broker: Broker) => Engine;

/** Vault's 404: no body but an errors list, with a reason when there is one worth giving. */
export const notFoundResponse = (reason?: string): EngineResponse => ({
  status: 404,
  raw: { errors: reason ? [reason] : [] },
});
