/**
 * From a request to an engine's handler, in Vault's order: authenticate, check the policy
 * on the full path, and only then tell the caller anything about mounts and routes. The
 * body is not read until the caller is admitted, and the handler does not run until the
 * caller of `prepare` (the HTTP edge, which audits first) runs it.
 * Every refusal is a CofferError; the HTTP edge turns it into a status.
 */
import { loginToken } from "../auth/tokens/login-token.ts";
import { SPENT } from "../auth/tokens/token-record.ts";
import { callerOf, policyIdentityOf, type TokenRecord } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import type {
  Engine,
  EngineRequest,
  EngineResponse,
  Handler,
  JsonObject,
  Operation,
  Route,
} from "../engines/engine.ts";
import { fieldWarnings, type ParsedFields, parseFields } from "../engines/fields.ts";
import type { Mount } from "../engines/mount.ts";
import { CofferError, notFound, permissionDenied } from "../errors.ts";
import { hasBody } from "../http/envelope.ts";
import type { Capability } from "../policy/acl.ts";
import { attachCallerToken, callerTokenOf } from "./caller-token.ts";

/** A request before its body is read: everything the edge checks without the caller's data. */
export interface RequestHead {
  id: string;
  /** "update" for POST and PUT: the router decides between create and update. */
  operation: Operation;
  /** The full path below /v1/, without leading or trailing slashes. */
  path: string;
  query: URLSearchParams;
  contentType: string;
  clientToken?: string;
}

/** What the router learned on the way, for the audit record, whatever the outcome. */
export interface RouteTrace {
  mount?: Mount;
  /** The mount's route that matched the path. */
  route?: Route;
  token?: TokenRecord;
  /** The operation as authorized: "create" or "update" for writes. */
  operation?: Operation;
}

/** A request the router let through, its handler not yet run. */
export interface PreparedRequest {
  operation: Operation;
  run(): Promise<EngineResponse>;
}

/** A caller admitted to a route, before its body is read. */
export interface AdmittedRequest {
  /** The route needs no token (health probes, login): its caller cannot be charged for a large body. */
  unauthenticated: boolean;
  /** With the body: create or update decided and authorized. Nothing has run yet. */
  prepare(data: JsonObject): Promise<PreparedRequest>;
}

export interface Router {
  /**
   * The token, the policy on the full path, then the mount and route. A caller without
   * the capability gets the same 403 whether the path exists or not.
   */
  admit(request: RequestHead, trace: RouteTrace): Promise<AdmittedRequest>;
}

/** The engine's first route whose pattern matches the path below the mount. */
export function findRoute(
  engine: Engine,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of engine.routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: { ...match.groups } };
  }
  return undefined;
}

/**
 * Vault's warnings for fields the route ignored or took from the path. As in Vault, an
 * answer without a body stays one (204): a client expecting no content gets none.
 */
function withFieldWarnings(response: EngineResponse, parsed: ParsedFields): EngineResponse {
  const warnings = fieldWarnings(parsed);
  if (warnings.length === 0) return response;
  if (response.raw) {
    // An envelope sent as is (the legacy sys/policy shape) carries them too; sys/health's own shape does not.
    if (!("request_id" in response.raw)) return response;
    const own = Array.isArray(response.raw.warnings) ? (response.raw.warnings as string[]) : [];
    return { ...response, raw: { ...response.raw, warnings: [...own, ...warnings] } };
  }
  if (!hasBody(response)) return response;
  return { ...response, warnings: [...(response.warnings ?? []), ...warnings] };
}

function handlerFor(route: Route, operation: Operation): Handler | undefined {
  const handlers = route.operations;
  // Most writes behave the same whether the target exists or not.
  if (operation === "create") return handlers.create ?? handlers.update;
  return handlers[operation];
}

export function createRouter(broker: Broker): Router {
  /** Takes one use; true when it was the last, and the token is to be revoked after the request. */
  async function useToken(token: TokenRecord, engineRequest: EngineRequest): Promise<boolean> {
    const used = await broker.tokens.use(token);
    const presented = callerTokenOf(engineRequest);
    if (presented) attachCallerToken(engineRequest, { ...presented, record: used });
    return used.numUses === SPENT;
  }

  /** As Vault does after a token's last use; should it fail, the sweep finds the spent token due. */
  async function revokeSpent(token: TokenRecord, requestId: string): Promise<void> {
    try {
      await broker.tokens.revoke(token, { requestId });
    } catch (error) {
      broker.log("warn", "revoking a spent token failed; the revoker retries", { error: String(error) });
    }
  }

  async function authenticate(
    lookup: Promise<TokenRecord | undefined>,
    trace: RouteTrace,
  ): Promise<TokenRecord> {
    const token = await lookup;
    if (!token) throw permissionDenied();
    trace.token = token;
    return token;
  }

  async function capabilitiesOf(token: TokenRecord, request: RequestHead) {
    const acl = await broker.policies.acl(token.policies, policyIdentityOf(token));
    return acl.capabilities(request.path, { list: request.operation === "list" });
  }

  return {
    async admit(request, trace) {
      // The token lookup and the mount table are independent store reads: overlap them.
      const lookup = request.clientToken
        ? broker.tokens.lookup(request.clientToken)
        : Promise.resolve(undefined);
      // An unauthenticated route never awaits the lookup; its failure must not go unhandled.
      lookup.catch(() => {});
      const resolved = await broker.mounts.resolve(request.path);
      // Whether a route needs a token is public (Vault's login paths): finding it reveals
      // nothing. Everything else about the path is told only to a caller allowed on it.
      const found = resolved && findRoute(await broker.engineFor(resolved.mount), resolved.rest);
      const route = found?.route;
      if (resolved) trace.mount = resolved.mount;
      trace.route = route;
      const token = route?.unauthenticated ? undefined : await authenticate(lookup, trace);

      let granted: ReadonlySet<Capability> | undefined;
      if (token && !route?.authorizedByHandler) {
        granted = await capabilitiesOf(token, request);
        const has = (capability: Capability) => granted?.has(capability) === true;
        // A write to a route that tells whether its target exists is a create or an update:
        // either may be enough, decided once the body is read.
        const enough: Capability[] =
          request.operation === "update" && route?.exists ? ["create", "update"] : [request.operation];
        if (has("deny") || (route?.sudo && !has("sudo")) || !enough.some(has)) throw permissionDenied();
      }

      if (!resolved) {
        throw new CofferError(
          "ERR_NOT_FOUND",
          `no handler for route "${request.path}". route entry not found.`,
        );
      }
      if (!found || !route) throw notFound("unsupported path");
      if (!handlerFor(route, request.operation)) {
        throw new CofferError("ERR_UNSUPPORTED_OPERATION", "unsupported operation");
      }

      return {
        unauthenticated: route.unauthenticated === true,
        async prepare(data) {
          // Checked now, refused only once the request is audited: an invalid field is
          // the caller's mistake, answered like any other by the handler's step.
          let parsed: ParsedFields | undefined;
          let invalid: unknown;
          try {
            parsed = parseFields(route.fields, data, found.params, route);
          } catch (error) {
            invalid = error;
          }
          const engineRequest: EngineRequest = {
            id: request.id,
            operation: request.operation,
            path: resolved.rest,
            fields: parsed?.values ?? {},
            data,
            contentType: request.contentType,
            ...(token ? { caller: callerOf(token) } : {}),
          };
          // Only the core's own backends ever see the token itself.
          if (token && request.clientToken && resolved.mount.builtin) {
            attachCallerToken(engineRequest, { record: token, token: request.clientToken });
          }
          // POST and PUT are "create" or "update" as the target exists, as in Vault.
          if (granted && request.operation === "update" && route.exists && parsed) {
            engineRequest.operation = (await route.exists(engineRequest)) ? "update" : "create";
            if (!granted.has(engineRequest.operation)) throw permissionDenied();
          }
          trace.operation = engineRequest.operation;
          const handler = handlerFor(route, engineRequest.operation);
          if (!handler) throw new CofferError("ERR_UNSUPPORTED_OPERATION", "unsupported operation");
          const mount = resolved.mount;
          const respond = async (fields: ParsedFields): Promise<EngineResponse> => {
            let response = await handler(engineRequest);
            if (response.login) {
              // An auth method proved who the caller is: the core makes the token.
              const { login, ...rest } = response;
              response = {
                ...rest,
                auth: await loginToken(broker.tokens, mount, request.path, login),
              };
            }
            return withFieldWarnings(response, fields);
          };
          return {
            operation: engineRequest.operation,
            async run() {
              // A use-limited token spends a use on every request it makes, once audited.
              const spent =
                token !== undefined && token.numUses > 0 && (await useToken(token, engineRequest));
              try {
                if (!parsed) throw invalid;
                return await respond(parsed);
              } finally {
                if (spent) await revokeSpent(token, request.id);
              }
            },
          };
        },
      };
    },
  };
}
