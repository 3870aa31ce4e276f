/**
 * The contract between the core and every backend, built-in (sys/, auth/token/) or
 * mounted (kv, transit, aws, database, auth methods). As in Vault, the HTTP edge turns a
 * request into an operation on a path, the router finds the mount and the route, the
 * policy check runs on the full path, and only then does an engine see the request.
 *
 * An engine is built from an EngineContext, as a Vault backend from its BackendConfig:
 * its mount, a store that reaches only the mount's own items, the keyring, the leases of
 * its mount, a clock and a log. It never sees the broker, the router or the token store;
 * who asks arrives on each request as its `caller`.
 *
 * Each route declares its fields (fields.ts); the router parses and checks a request's
 * data against them once, before the handler runs, and hands the handler typed values.
 *
 * This file and its neighbours (fields.ts, mount.ts, proven-identity.ts, lease-type.ts,
 * json.ts) import nothing above them: the core depends on the contract, never the other
 * way round.
 */
import type { Keyring } from "../crypto/keyring.ts";
import type { Log } from "../log.ts";
import type { ItemStore, WriteOp } from "../store/item-store.ts";
import type { Tracing } from "../tracing.ts";
import type { FieldSchema, FieldValues } from "./fields.ts";
import type { JsonObject } from "./json.ts";
import type { LeaseTypes } from "./lease-type.ts";
import type { Mount } from "./mount.ts";
import type { ProvenIdentity } from "./proven-identity.ts";

export type { JsonObject } from "./json.ts";
export type { Mount, MountConfig } from "./mount.ts";

export type Operation = "read" | "list" | "create" | "update" | "patch" | "delete";

/**
 * Where a request is served when the deployment spans two regions: "local" against the
 * region's own replica of the table, "home" against the home region's table, where
 * conditional writes are exact (docs/deploy.md, "More than one region").
 */
export type Region = "local" | "home";

/** Who made a request, as the core authenticated it: all an engine knows of its caller. */
export interface Caller {
  /** The token's accessor: a lease issued for the caller dies with its token. */
  accessor: string;
  policies: readonly string[];
  /** The token's display name ("kubernetes-default-app", "root"), for naming credentials. */
  displayName: string;
  /** What an auth method proved at login; absent for tokens tied to no identity (root). */
  identity?: ProvenIdentity;
}

export interface EngineRequest<Fields = Record<string, unknown>> {
  /** The request id, also in the response envelope and the audit record. */
  id: string;
  operation: Operation;
  /** The path below the mount, e.g. "data/app/db" for "secret/data/app/db". */
  path: string;
  /** The route's declared fields, parsed: path parameters and the data's fields. */
  fields: Fields;
  /**
   * The data as sent (the JSON body, or the query parameters of a read or list). Only a
   * route that takes arbitrary data (a KV v1 secret is the whole body) reads it.
   */
  data: JsonObject;
  /** The Content-Type header, for operations whose body format matters (merge-patch). */
  contentType: string;
  /** The caller; absent only on routes reachable without a token. */
  caller?: Caller;
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
  /** Requests the token may still make; 0 for unlimited. */
  num_uses: number;
}

/**
 * What an auth method proved at login, for the core to turn into a token (Vault's
 * logical.Auth). The core, not the auth method, decides the entity, refuses root, applies
 * the mount's and the system's TTL limits and writes the token.
 */
export interface LoginGrant {
  /** The policies the auth method's role grants; `default` is added unless `noDefaultPolicy`. */
  policies: readonly string[];
  noDefaultPolicy: boolean;
  /** Shown as "<mount>-<displayName>". */
  displayName: string;
  /** The token's `meta`: shown by lookup and in the audit log, grants nothing. */
  metadata: Record<string, string>;
  /** Who was proven: the same alias name through the same mount is the same entity. */
  alias: { name: string; metadata: Record<string, string> };
  /** Seconds; 0 takes the mount's default, then the system's. */
  ttl: number;
  /** Seconds; 0 takes the mount's maximum, then the system's. */
  maxTtl: number;
  /** Seconds; 0 for none. A hard cap no renewal passes. */
  explicitMaxTtl: number;
}

export interface EngineResponse {
  /** Defaults to 200 when there is a body and 204 when there is none. */
  status?: number;
  data?: JsonObject;
  /** A token the core itself made (auth/token/). */
  auth?: AuthBlock;
  /** An auth method's successful login: the core makes the token and answers with it. */
  login?: LoginGrant;
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

export type Handler<Fields = Record<string, unknown>> = (
  request: EngineRequest<Fields>,
) => Promise<EngineResponse>;

export interface Route<S extends FieldSchema = FieldSchema> {
  /** Matched against the whole path below the mount; each named group is a path field. */
  pattern: RegExp;
  /** Every field the route takes, path parameters included. */
  fields: S;
  /**
   * The route keeps whatever data it is sent (a KV v1 secret): no field is ignored or
   * warned about, and the handler reads `request.data`.
   */
  takesArbitraryData?: boolean;
  operations: Partial<Record<Operation, Handler<FieldValues<S>>>>;
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
   * Where an operation is served in a deployment with a second region, when it differs
   * from the rule (reads and lists in any region, every other operation against the home
   * region's table): a login or a decryption that writes nothing conditional is served
   * locally, a read that issues a lease at home (shared/mounts/request-region.ts).
   */
  region?: Partial<Record<Operation, Region>>;
  /**
   * Whether the target of a write exists, so that POST/PUT is checked as "create" or
   * "update" as Vault does. Without it, every write is an "update".
   */
  exists?: (request: EngineRequest<FieldValues<S>>) => Promise<boolean>;
}

/** Declares a route, typing its handlers' `request.fields` from its `fields`. */
export function route<const S extends FieldSchema>(definition: Route<S>): Route {
  return definition as unknown as Route;
}

/** What one run of an engine's periodic work did, for the revoker's log. */
export interface PeriodicReport {
  /** Units of work done: keys rotated, secrets cleaned up. */
  done: number;
  /** Units that failed this time; the next run tries them again. */
  failed: number;
  /** False when the deadline came first: the next run continues. */
  complete: boolean;
}

export interface Engine {
  routes: readonly Route[];
  /** The kinds of lease the engine issues, by name, with how each is revoked and renewed. */
  leaseTypes?: LeaseTypes;
  /**
   * Work the scheduled revoker runs for the mount after each lease sweep (transit key
   * rotation, KV clean-up). Idempotent, safe to run in several processes at once, and
   * stops starting work at `deadline` (epoch ms): what is left waits for the next run.
   */
  periodic?: (deadline: number) => Promise<PeriodicReport>;
  /** Deletes everything the engine stored for its mount; called when the mount is disabled. */
  purge?: () => Promise<void>;
}

export interface IssueLeaseRequest {
  /** The request path below the mount that produced the credential ("creds/deploy"). */
  path: string;
  /** One of the engine's lease types, which revokes it. */
  type: string;
  /** Who gets the credential: revoking their token revokes the lease. */
  caller: Caller | undefined;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Renewals never push expiry past this (epoch ms). */
  maxExpiresAt?: number | null;
  renewable: boolean;
  /** What the lease type needs to revoke the credential. Sealed at rest. */
  data: JsonObject;
}

/** The leases of one mount, as its engine issues and withdraws them. */
export interface MountLeases {
  /** `alsoWrite` joins the lease's own atomic write. Resolves to the new lease's id. */
  issue(request: IssueLeaseRequest, alsoWrite?: readonly WriteOp[]): Promise<string>;
  /** Whether a lease of the mount still stands: it exists and nobody asked for, or began, its revocation. */
  standing(id: string): Promise<boolean>;
  /**
   * Revokes one lease of the mount now. `types` replaces the engine's own lease types for
   * this call (withdrawing a lease whose credential was never made). What cannot be revoked
   * stays marked for the revoker.
   */
  revoke(id: string, options: { requestId: string; types?: LeaseTypes }): Promise<void>;
  /**
   * Every lease of the mount, by force, with the engine's own lease types: the first step
   * of a purge. Throws while another revoker still holds one of them.
   */
  revokeAll(): Promise<void>;
}

/** All an engine receives, once per mount per process. */
export interface EngineContext {
  mount: Mount;
  /** Reaches only the mount's own items (and those its engine type shares); every item is authenticated. */
  store: ItemStore;
  keyring: Keyring;
  leases: MountLeases;
  now: () => number;
  log: Log;
  /** Records the engine's calls to other services (STS, IAM, PostgreSQL). */
  tracing: Tracing;
}

export type EngineFactory = (context: EngineContext) => Engine;

/** Vault's 404: no body but an errors list, with a reason when there is one worth giving. */
export const notFoundResponse = (reason?: string): EngineResponse => ({
  status: 404,
  raw: { errors: reason ? [reason] : [] },
});
