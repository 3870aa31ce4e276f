/**
 * What an engine is given, and no more: its EngineContext (a store that reaches only its
 * mount, its mount's leases) and, per request, the caller. A probe engine mounted like any
 * other tries to step outside; the core refuses every attempt.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type EngineContext,
  type EngineFactory,
  type EngineRequest,
  route,
} from "../../../shared/engines/engine.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

interface Probe {
  context?: EngineContext;
  requests: EngineRequest[];
}

function probeEngine(probe: Probe): EngineFactory {
  return (context) => {
    probe.context = context;
    return {
      routes: [
        route({
          pattern: /^read\/(?<pk>.+)$/,
          fields: { pk: { type: "string", path: true, description: "The partition to read." } },
          operations: {
            read: async (request) => {
              probe.requests.push(request);
              const item = await context.store.get({ pk: request.fields.pk, sk: "x" });
              return { data: { found: item !== undefined } };
            },
          },
        }),
        route({
          pattern: /^login$/,
          fields: {},
          unauthenticated: true,
          operations: {
            update: async () => ({
              login: {
                policies: ["reader"],
                noDefaultPolicy: false,
                displayName: "probe",
                metadata: { note: "from the probe" },
                alias: { name: "probe-alias", metadata: { service_account_namespace: "probe-ns" } },
                ttl: 60,
                maxTtl: 0,
                explicitMaxTtl: 0,
              },
            }),
          },
        }),
        route({
          pattern: /^grant-root$/,
          fields: {},
          unauthenticated: true,
          operations: {
            update: async () => ({
              login: {
                policies: ["root"],
                noDefaultPolicy: true,
                displayName: "probe",
                metadata: {},
                alias: { name: "probe-alias", metadata: {} },
                ttl: 60,
                maxTtl: 0,
                explicitMaxTtl: 0,
              },
            }),
          },
        }),
      ],
    };
  };
}

describe("an engine's context", () => {
  let deployment: Deployment;
  let rootToken: string;
  const probe: Probe = { requests: [] };

  beforeEach(async () => {
    probe.requests = [];
    probe.context = undefined;
    deployment = await openDeployment({ engines: { probe: { load: async () => probeEngine(probe) } } });
    rootToken = deployment.rootToken;
    await deployment.broker.mounts.enable({ path: "probe/", type: "probe" });
    await deployment.broker.mounts.enable({ path: "auth/probe/", type: "probe" });
  });
  afterEach(async () => {
    await deployment.close();
  });

  it("reaches its own mount's partitions and nothing else", async () => {
    const own = (await deployment.broker.mounts.resolve("probe/x"))!.mount;
    const other = (await deployment.broker.mounts.resolve("secret/x"))!.mount;
    const read = (pk: string) => deployment.call("GET", `probe/read/${pk}`, undefined);

    expect(await read(`probe/${own.uuid}`)).toMatchObject({ status: 200, body: { data: { found: false } } });
    for (const pk of [
      `token/${(await deployment.broker.tokens.lookup(rootToken))?.hmac}`,
      "mount",
      "keyring",
      "sys",
      `kv/${other.uuid}/app`,
      `kvkeys/${other.uuid}`,
      "lease/probe",
      "aws-deny",
    ]) {
      const reply = await read(pk);
      expect(reply.status, pk).toBe(500);
    }
  });

  it("gets the caller on each request, never the token", async () => {
    await deployment.call("GET", `probe/read/probe/x`, undefined);
    const [request] = probe.requests;
    expect(Object.keys(request ?? {}).sort()).toEqual([
      "caller",
      "contentType",
      "data",
      "fields",
      "id",
      "operation",
      "path",
    ]);
    expect(request?.caller).toEqual({
      accessor: expect.any(String),
      policies: ["root"],
      displayName: "root",
    });
    expect(JSON.stringify(request)).not.toContain(rootToken);
  });

  it("turns an auth method's login into a token whose identity the core derives", async () => {
    const login = await deployment.call("POST", "auth/probe/login", undefined, null);
    expect(login.status).toBe(200);
    const auth = login.body.auth;
    expect(auth.policies).toEqual(["default", "reader"]);
    const record = await deployment.broker.tokens.lookup(auth.client_token);
    const mount = (await deployment.broker.mounts.resolve("auth/probe/login"))!.mount;
    expect(record).toMatchObject({
      displayName: "probe-probe",
      path: "auth/probe/login",
      meta: { note: "from the probe" },
      identity: {
        mountAccessor: mount.accessor,
        aliasName: "probe-alias",
        metadata: { service_account_namespace: "probe-ns" },
      },
    });
    expect(record?.identity?.entityId).toBe(auth.entity_id);
    expect(auth.entity_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a login from a secrets engine's mount, and root from any login", async () => {
    const fromSecrets = await deployment.call("POST", "probe/login", undefined, null);
    expect(fromSecrets.status).toBe(500);
    expect(fromSecrets.body.auth).toBeUndefined();
    const root = await deployment.call("POST", "auth/probe/grant-root", undefined, null);
    expect(root).toMatchObject({ status: 400, body: { errors: ["auth methods cannot create root tokens"] } });
  });

  it("issues leases only under its own mount", async () => {
    await deployment.call("GET", `probe/read/probe/x`, undefined);
    expect(probe.context?.mount.path).toBe("probe/");
    const leases = probe.context?.leases;
    await expect(leases?.revoke("secret/creds/x/abc", { requestId: "r" })).rejects.toThrow(/does not belong/);
    await expect(leases?.standing("auth/token/x")).rejects.toThrow(/does not belong/);
  });
});
