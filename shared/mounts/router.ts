/**
 * From a logical request to an engine's answer: find the mount, the route and the
 * operation, authenticate, check policy on the full path, then call the handler.
 * Every refusal is a CofferError; the HTTP edge turns it into a status.
 */
import { policyIdentityOf, type TokenRecord } from "../auth/tokens/token-store.ts";
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
import { CofferError, notFound, permissionDenied } from "../errors.ts";
import type { Capability } from "../policy/acl.ts";
import type { Mount } from "./mount-table.ts";

export interface LogicalRequest {
  id: string;
  /** "update" for POST and PUT: the router decides between create and update. */
  operation: Operation;
  /** The full path below /v1/, without leading or trailing slashes. */
  path: string;
  data: JsonObject;
  query: URLSearchParams;
  contentType: string;
  clientToken?: string;
}

/** What the router learned on the way, for the audit record, whatever the outcome. */
export interface RouteTrace {
  mount?: Mount;
  token?: TokenRecord;
  /** The operation as authorized: "create" or "update" for writes. */
  operation?: Operation;
}

export interface Router {
  handle(request: LogicalRequest, trace: RouteTrace): Promise<EngineResponse>;
}

function findRoute(
  engine: Engine,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of engine.routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: { ...match.groups } };
  }
  return undefined;
}

function handlerFor(route: Route, operation: Operation): Handler | undefined {
  const handlers = route.operations;
  // Most writes behave the same whether the target exists or not.
  if (operation === "create") return handlers.create ?? handlers.update;
  return handlers[operation];
}

export function createRouter(broker: Broker): Router {
  async function authenticate(
    lookup: Promise<TokenRecord | undefined>,
    trace: RouteTrace,
  ): Promise<TokenRecord> {
    const token = await lookup;
    if (!token) throw permissionDenied();
    trace.token = token;
    return token;
  }

  /** The operation the policy allowed: POST/PUT become "create" or "update" here. */
  async function authorize(route: Route, request: EngineRequest, fullPath: string, token: TokenRecord) {
    const acl = await broker.policies.acl(token.policies, policyIdentityOf(token));
    const granted = acl.capabilities(fullPath, { list: request.operation === "list" });
    const has = (capability: Capability) => granted.has(capability);
    if (has("deny") || (route.sudo && !has("sudo"))) throw permissionDenied();

    let operation = request.operation;
    if (operation === "update" && route.exists) {
      operation = (await route.exists(request)) ? "update" : "create";
    }
    if (!has(operation)) throw permissionDenied();
    return operation;
  }

  return {
    async handle(request, trace) {
      // The token lookup and the mount table are independent store reads: overlap them.
      const lookup = request.clientToken
        ? broker.tokens.lookup(request.clientToken)
        : Promise.resolve(undefined);
      // An unauthenticated route never awaits the lookup; its failure must not go unhandled.
      lookup.catch(() => {});
      const resolved = await broker.mounts.resolve(request.path);
      if (resolved) trace.mount = resolved.mount;
      const found = resolved && findRoute(await broker.engineFor(resolved.mount), resolved.rest);
      // Callers without a valid token learn nothing about which mounts or paths exist.
      const token = found?.route.unauthenticated ? undefined : await authenticate(lookup, trace);
      if (!resolved) {
        throw new CofferError(
          "ERR_NOT_FOUND",
          `no handler for route "${request.path}". route entry not found.`,
        );
      }
      if (!found) throw notFound("unsupported path");
      const { route, params } = found;
      if (!handlerFor(route, request.operation)) {
        throw new CofferError("ERR_UNSUPPORTED_OPERATION", "unsupported operation");
      }
      const engineRequest: EngineRequest = {
        id: request.id,
        operation: request.operation,
        path: resolved.rest,
        params,
        data: request.data,
        query: request.query,
        contentType: request.contentType,
        mount: resolved.mount,
        token,
        clientToken: request.clientToken,
      };
      if (token && !route.authorizedByHandler) {
        engineRequest.operation = await authorize(route, engineRequest, request.path, token);
      }
      trace.operation = engineRequest.operation;
      const handler = handlerFor(route, engineRequest.operation);
      if (!handler) throw new CofferError("ERR_UNSUPPORTED_OPERATION", "unsupported operation");
      return handler(engineRequest);
    },
  };
}
