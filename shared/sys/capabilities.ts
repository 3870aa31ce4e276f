/**
 * What a token may do on paths, as Vault answers it: sys/capabilities-self for the
 * caller's own token, sys/capabilities for a token given in the body, and
 * sys/capabilities-accessor for the token behind an accessor. Each takes several paths at
 * once; the answer maps each path to its capabilities, and a single path is also under
 * `capabilities`, as older clients read it.
 */
import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import { type JsonObject, type Route, route } from "../engines/engine.ts";
import type { FieldSchema } from "../engines/fields.ts";
import type { ProvenIdentity } from "../engines/proven-identity.ts";
import { invalidRequest, permissionDenied } from "../errors.ts";
import type { Acl } from "../policy/acl.ts";

/** Most paths one capabilities request may ask about. */
const MAX_CAPABILITY_PATHS = 100;

const PATH_FIELDS = {
  paths: { type: "stringList", description: "The paths to report the token's capabilities on." },
  path: { type: "stringList", description: 'Deprecated: "paths".' },
} as const satisfies FieldSchema;

/** Vault's answer for one path: ["root"] for root, ["deny"] for nothing, else the sorted capabilities. */
function capabilityNames(acl: Acl, path: string): string[] {
  if (acl.root) return ["root"];
  const granted = [...acl.capabilities(path.replace(/^\/+/, ""))].sort();
  return granted.length === 0 ? ["deny"] : granted;
}

interface TokenPolicies {
  policies: readonly string[];
  identity?: ProvenIdentity;
}

export function capabilityRoutes(broker: Broker): Route[] {
  async function answer(holder: TokenPolicies, fields: { paths?: string[]; path?: string[] }) {
    const paths = fields.paths?.length ? fields.paths : (fields.path ?? []);
    if (paths.length > MAX_CAPABILITY_PATHS) {
      throw invalidRequest(`at most ${MAX_CAPABILITY_PATHS} paths per request`);
    }
    const acl = await broker.policies.acl(holder.policies, policyIdentityOf(holder));
    const data: JsonObject = {};
    for (const path of paths) data[path] = capabilityNames(acl, path);
    // Kept for clients older than "paths", as Vault keeps it.
    if (paths.length === 1) data.capabilities = data[paths[0] as string];
    return { data };
  }

  return [
    route({
      pattern: /^capabilities-self$/,
      fields: {
        ...PATH_FIELDS,
        token: { type: "string", description: "Ignored: the caller's own token counts." },
      },
      operations: {
        update: async (request) => {
          if (!request.caller) throw permissionDenied();
          return answer(request.caller, request.fields);
        },
      },
    }),
    route({
      pattern: /^capabilities$/,
      fields: { ...PATH_FIELDS, token: { type: "string", description: "The token to report on." } },
      operations: {
        update: async (request) => {
          const token = request.fields.token;
          if (!token) throw invalidRequest("missing token");
          const record = await broker.tokens.lookup(token);
          if (!record) throw invalidRequest("invalid token");
          return answer(record, request.fields);
        },
      },
    }),
    route({
      pattern: /^capabilities-accessor$/,
      fields: {
        ...PATH_FIELDS,
        accessor: { type: "string", description: "The accessor of the token to report on." },
      },
      operations: {
        update: async (request) => {
          const accessor = request.fields.accessor;
          if (!accessor) throw invalidRequest("missing accessor");
          const record = await broker.tokens.lookupByAccessor(accessor);
          if (!record) throw invalidRequest("invalid accessor");
          return answer(record, request.fields);
        },
      },
    }),
  ];
}
