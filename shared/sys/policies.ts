/**
 * The policy endpoints of sys/: sys/policies/acl/<name> (read, write, delete, list), the
 * legacy sys/policy/<name> that popular Vault client libraries still call (with its
 * older response shape: `rules` instead of `policy`, fields also at the top level).
 */

import { policyIdentityOf } from "../auth/tokens/token-store.ts";
import type { Broker } from "../broker.ts";
import {
  type EngineRequest,
  type EngineResponse,
  type JsonObject,
  notFoundResponse,
  type Route,
  route,
} from "../engines/engine.ts";
import type { Mount } from "../engines/mount.ts";
import { invalidRequest, permissionDenied } from "../errors.ts";
import { toEnvelope } from "../http/envelope.ts";
import type { Capability } from "../policy/acl.ts";
import { policyName } from "../policy/policy-store.ts";

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

const POLICY_NAME = { type: "string", path: true, description: "The policy's name." } as const;
const POLICY_TEXT = { type: "string", description: "The policy, in HCL or JSON (base64 accepted)." } as const;

export function policyRoutes(broker: Broker, mount: Mount): Route[] {
  const { policies } = broker;
  type NamedRequest = EngineRequest<{ name: string }>;

  /**
   * The name a request acts on, as stored (lower case, trimmed). The router checked the
   * path as sent; when the name is spelled otherwise, the operation must also be allowed
   * on the path of the name that is acted on, or `ADMIN` would get past a rule on `admin`.
   */
  async function actedOn(request: NamedRequest, route: "policies/acl/" | "policy/"): Promise<string> {
    const sent = request.fields.name;
    const stored = policyName(sent);
    if (stored === sent || !request.caller) return stored;
    const acl = await policies.acl(request.caller.policies, policyIdentityOf(request.caller));
    const granted = acl.capabilities(`${mount.path}${route}${stored}`);
    if (granted.has("deny") || !granted.has(request.operation as Capability)) throw permissionDenied();
    return stored;
  }

  const list = async (): Promise<EngineResponse> => ({ data: { keys: await policies.list() } });
  const listLegacy = async (request: EngineRequest): Promise<EngineResponse> => {
    const names = await policies.list();
    return legacy(request, { keys: names, policies: names });
  };

  return [
    route({ pattern: /^policies\/acl\/?$/, fields: {}, operations: { list, read: list } }),
    route({
      pattern: /^policies\/acl\/(?<name>[^/]+)$/,
      fields: { name: POLICY_NAME, policy: POLICY_TEXT },
      exists: async (request) => (await policies.read(request.fields.name)) !== undefined,
      operations: {
        read: async (request) => {
          const stored = await actedOn(request, "policies/acl/");
          const text = await policies.read(stored);
          if (text === undefined) return notFoundResponse();
          return { data: { name: stored, policy: text } };
        },
        update: async (request) => {
          const stored = await actedOn(request, "policies/acl/");
          const text = request.fields.policy;
          if (!text) throw invalidRequest('missing required field "policy"');
          await policies.write(stored, policyText(text));
          return {};
        },
        delete: async (request) => {
          await policies.delete(await actedOn(request, "policies/acl/"));
          return {};
        },
      },
    }),
    route({ pattern: /^policy\/?$/, fields: {}, operations: { read: listLegacy, list: listLegacy } }),
    route({
      pattern: /^policy\/(?<name>[^/]+)$/,
      fields: {
        name: POLICY_NAME,
        policy: POLICY_TEXT,
        rules: {
          type: "string",
          description: 'The policy, in the legacy endpoint\'s older name ("policy" wins).',
        },
      },
      exists: async (request) => (await policies.read(request.fields.name)) !== undefined,
      operations: {
        read: async (request) => {
          const stored = await actedOn(request, "policy/");
          const text = await policies.read(stored);
          if (text === undefined) return notFoundResponse();
          return legacy(request, { name: stored, rules: text });
        },
        update: async (request) => {
          const stored = await actedOn(request, "policy/");
          const text = request.fields.policy || request.fields.rules;
          if (!text) throw invalidRequest('missing required field "policy"');
          await policies.write(stored, policyText(text));
          return {};
        },
        delete: async (request) => {
          await policies.delete(await actedOn(request, "policy/"));
          return {};
        },
      },
    }),
  ];
}
