/**
 * The policy endpoints of sys/: sys/policies/acl/<name> (read, write, delete, list), the
 * legacy sys/policy/<name> that popular Vault client libraries still call (with its
 * older response shape: `rules` instead of `policy`, fields also at the top level), and
 * sys/capabilities-self.
 */

import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  notFoundResponse,
  type Route,
} from "../engines/engine.ts";
import type { Mount } from "../engines/mount.ts";
import { invalidRequest, permissionDenied } from "../errors.ts";
import { toEnvelope } from "../http/envelope.ts";
import { optionalString, optionalStringList, rejectUnknownFields } from "../http/fields.ts";
import type { Acl, Capability } from "../policy/acl.ts";
import { policyName } from "../policy/policy-store.ts";

/** Most paths one capabilities request may ask about. */
const MAX_CAPABILITY_PATHS = 100;

/** Vault accepts the policy text base64-encoded too, to spare clients the escaping. */
function policyText(value: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return value;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(value), (c) => c.charCodeAt(0)),
    );
  } catch {
    return value;
  }
}

/** The legacy endpoints answer with their data both in `data` and at the top level. */
function legacy(request: EngineRequest, data: JsonObject): EngineResponse {
  return { raw: { ...(toEnvelope(request.id, "system", { data }) as unknown as JsonObject), ...data } };
}

/** Vault's answer for one path: ["root"] for root, ["deny"] for nothing, else the sorted capabilities. */
function capabilityNames(acl: Acl, path: string): string[] {
  if (acl.root) return ["root"];
  const granted = [...acl.capabilities(path.replace(/^\/+/, ""))].sort();
  return granted.length === 0 ? ["deny"] : granted;
}

export function policyRoutes(broker: Broker, mount: Mount): Route[] {
  const { policies } = broker;
  const name = (request: EngineRequest) => request.params.name ?? "";

  /**
   * The name a request acts on, as stored (lower case, trimmed). The router checked the
   * path as sent; when the name is spelled otherwise, the operation must also be allowed
   * on the path of the name that is acted on, or `ADMIN` would get past a rule on `admin`.
   */
  async function actedOn(request: EngineRequest, route: "policies/acl/" | "policy/"): Promise<string> {
    const sent = name(request);
    const stored = policyName(sent);
    if (stored === sent || !request.caller) return stored;
    const acl = await policies.acl(request.caller.policies, policyIdentityOf(request.caller));
    const granted = acl.capabilities(`${mount.path}${route}${stored}`);
    if (granted.has("deny") || !granted.has(request.operation as Capability)) throw permissionDenied();
    return stored;
  }

  const list = async (): Promise<EngineResponse> => ({ data: { keys: await policies.list() } });

  return [
    { pattern: /^policies\/acl\/?$/, operations: { list, read: list } },
    {
      pattern: /^policies\/acl\/(?<name>[^/]+)$/,
      exists: async (request) => (await policies.read(name(request))) !== undefined,
      operations: {
        read: async (request) => {
          const stored = await actedOn(request, "policies/acl/");
          const text = await policies.read(stored);
          if (text === undefined) return notFoundResponse();
          return { data: { name: stored, policy: text } };
        },
        update: async (request) => {
          const stored = await actedOn(request, "policies/acl/");
          rejectUnknownFields(request.data, ["policy"]);
          const text = optionalString(request.data, "policy");
          if (!text) throw invalidRequest('missing required field "policy"');
          await policies.write(stored, policyText(text));
          return {};
        },
        delete: async (request) => {
          await policies.delete(await actedOn(request, "policies/acl/"));
          return {};
        },
      },
    },
    {
      pattern: /^policy\/?$/,
      operations: {
        read: async (request) => {
          const names = await policies.list();
          return legacy(request, { keys: names, policies: names });
        },
        list: async (request) => {
          const names = await policies.list();
          return legacy(request, { keys: names, policies: names });
        },
      },
    },
    {
      pattern: /^policy\/(?<name>[^/]+)$/,
      exists: async (request) => (await policies.read(name(request))) !== undefined,
      operations: {
        read: async (request) => {
          const stored = await actedOn(request, "policy/");
          const text = await policies.read(stored);
          if (text === undefined) return notFoundResponse();
          return legacy(request, { name: stored, rules: text });
        },
        update: async (request) => {
          const stored = await actedOn(request, "policy/");
          rejectUnknownFields(request.data, ["policy", "rules"]);
          const text = optionalString(request.data, "policy") || optionalString(request.data, "rules");
          if (!text) throw invalidRequest('missing required field "policy"');
          await policies.write(stored, policyText(text));
          return {};
        },
        delete: async (request) => {
          await policies.delete(await actedOn(request, "policy/"));
          return {};
        },
      },
    },
    {
      pattern: /^capabilities-self$/,
      operations: {
        update: async (request) => {
          const caller = request.caller;
          if (!caller) throw permissionDenied();
          rejectUnknownFields(request.data, ["path", "paths"]);
          const paths =
            optionalStringList(request.data, "paths") ?? optionalStringList(request.data, "path") ?? [];
          if (paths.length === 0) throw invalidRequest('missing required field "paths"');
          if (paths.length > MAX_CAPABILITY_PATHS) {
            throw invalidRequest(`at most ${MAX_CAPABILITY_PATHS} paths per request`);
          }
          const acl = await policies.acl(caller.policies, policyIdentityOf(caller));
          const data: JsonObject = {};
          for (const path of paths) data[path] = capabilityNames(acl, path);
          if (paths.length === 1) data.capabilities = data[paths[0] as string];
          return { data };
        },
      },
    },
  ];
}
