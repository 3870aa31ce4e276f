/**
 * No path to root, and no token with more than its maker was given: one table across every
 * path that creates or extends a token (auth/token/create with each option it accepts,
 * login through every auth method, renew-self). Each row is an attacker's setup and
 * request; whatever comes out, the test looks the resulting token up and checks it holds
 * no policy and no lifetime beyond what the row says the attacker had.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLE_FIELDS, roleFromRequest, roleToItem } from "../../../shared/auth/kubernetes/role.ts";
import { roleKey } from "../../../shared/auth/kubernetes/storage.ts";
import { type CreateTokenInput, MAX_TOKEN_TTL_S } from "../../../shared/auth/tokens/token-store.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { fieldsOf } from "../../support/fields.ts";
import type { ApiCall, Reply } from "../../support/http.ts";
import { type KubernetesCluster, trustCluster } from "../../support/kubernetes-cluster.ts";
import { frozenClock } from "../../support/test-clock.ts";

/** What the attacker holds: the most any token coming out of the row may have. */
interface Given {
  /** Policies a token may hold ("default" included only when listed); "any but root" for role writers. */
  policies: readonly string[] | "any but root";
  /** The latest expiry (epoch ms) a token may reach; undefined: at most the system maximum from now. */
  expiresBy?: number;
}

interface World {
  call: ApiCall;
  root: string;
  now: number;
  cluster: KubernetesCluster;
  /** A token made by root. */
  token(body: Record<string, unknown>): Promise<string>;
  /** A token as the store holds it, bypassing the API (as earlier code created them). */
  storedToken(input: CreateTokenInput): Promise<string>;
  /** A role stored as it could have been before roles were checked for root. */
  storeRole(name: string, policies: string[]): Promise<void>;
}

interface Row {
  name: string;
  /** The attacker's token and what it was given. */
  setup(world: World): Promise<{ attacker: string; given: Given }>;
  /** The attacker's requests; the first reply is the one the row is about. */
  attack(world: World, attacker: string): Promise<Reply[]>;
  /** Vault's answer, when the request must be refused. */
  refused?: [status: number, error: string];
}

const ROOT_PARENT = "root tokens may not be created without parent token being root";
const EXPIRING_ROOT = "expiring root tokens cannot create non-expiring root tokens";
const NOT_SUBSET = "child policies must be subset of parent";
const AUTH_ROOT = "auth methods cannot create root tokens";
const ORPHAN = "root or sudo privileges required to create orphan token";

const create = (body: Record<string, unknown>) => (world: World, attacker: string) =>
  Promise.all([world.call("POST", "auth/token/create", body, attacker)]);

/** A token holding sudo on auth/token/create, which lets it grant any policy but root. */
const sudoMinter = async (world: World) => ({
  attacker: await world.token({ policies: ["sudo-minter"] }),
  given: { policies: "any but root" as const },
});

/** A token that may create tokens, without sudo, and without the default policy. */
const minterWithoutDefault = async (world: World) => ({
  attacker: await world.token({ policies: ["minter", "app"], no_default_policy: true }),
  given: { policies: ["app", "minter"] },
});

/** A root token that expires in an hour. */
const expiringRoot = async (world: World) => ({
  attacker: await world.token({ policies: ["root"], ttl: "1h" }),
  given: { policies: ["root"], expiresBy: world.now + MAX_TOKEN_TTL_S * 1000 },
});

/** A token that may write roles of the kubernetes auth mount (no sudo anywhere). */
const roleWriter = async (world: World) => ({
  attacker: await world.token({ policies: ["role-writer"] }),
  given: { policies: "any but root" as const },
});

/** Writes a role with `fields` as the attacker, then logs in through it. */
const writeRoleThenLogin =
  (name: string, fields: Record<string, unknown>) => async (world: World, attacker: string) => {
    const written = await world.call(
      "POST",
      `auth/kubernetes/role/${name}`,
      { bound_service_account_names: "*", bound_service_account_namespaces: "*", ...fields },
      attacker,
    );
    return [written, await world.cluster.login("default", "attacker", name)];
  };

const ROWS: Row[] = [
  ...[["root"], ["ROOT"], [" root "], "app,root", ["root", "root"], ["app", "Root"]].map(
    (policies): Row => ({
      name: `sudo on auth/token/create asks for policies ${JSON.stringify(policies)}`,
      setup: sudoMinter,
      attack: create({ policies }),
      refused: [400, ROOT_PARENT],
    }),
  ),
  {
    name: "sudo on auth/token/create asks for an orphan root token",
    setup: sudoMinter,
    attack: create({ policies: ["root"], no_parent: true, ttl: "1h" }),
    refused: [400, ROOT_PARENT],
  },
  {
    name: "a token without sudo asks for an orphan",
    setup: minterWithoutDefault,
    attack: create({ policies: ["app"], no_parent: true }),
    refused: [400, ORPHAN],
  },
  {
    name: "a token without default inherits its policies and gains default",
    setup: minterWithoutDefault,
    attack: create({}),
  },
  {
    name: "a token without default asks for an empty policy list",
    setup: minterWithoutDefault,
    attack: create({ policies: [] }),
  },
  {
    name: "a token without default asks for a subset of its policies",
    setup: minterWithoutDefault,
    attack: create({ policies: ["app"] }),
  },
  ...[["default"], ["Default"], ["app", " default "]].map(
    (policies): Row => ({
      name: `a token without default asks for ${JSON.stringify(policies)}`,
      setup: minterWithoutDefault,
      attack: create({ policies }),
      refused: [400, NOT_SUBSET],
    }),
  ),
  ...[{}, { policies: ["root"] }, { policies: ["root"], ttl: "0" }, { explicit_max_ttl: "0" }].map(
    (body): Row => ({
      name: `an expiring root token asks for ${JSON.stringify(body)}`,
      setup: expiringRoot,
      attack: create(body),
      refused: [400, EXPIRING_ROOT],
    }),
  ),
  {
    name: "an expiring root token asks for a root token beyond the system maximum",
    setup: expiringRoot,
    attack: create({ policies: ["root"], ttl: "100000h" }),
  },
  {
    name: "an expiring root token renews itself beyond the system maximum",
    setup: expiringRoot,
    attack: (world, attacker) =>
      Promise.all([world.call("POST", "auth/token/renew-self", { increment: "87600h" }, attacker)]),
  },
  {
    name: "an expiring root token's root child renews itself beyond the system maximum",
    setup: expiringRoot,
    attack: async (world, attacker) => {
      const child = await world.call("POST", "auth/token/create", { ttl: "1h" }, attacker);
      const renewed = await world.call(
        "POST",
        "auth/token/renew-self",
        { increment: "87600h" },
        child.body?.auth?.client_token,
      );
      return [child, renewed];
    },
  },
  {
    name: "a root token with a TTL and no maximum, as created before, renews itself beyond the system maximum",
    setup: async (world) => ({
      attacker: await world.storedToken({
        policies: ["root"],
        displayName: "token",
        path: "auth/token/create",
        ttl: 3600,
      }),
      given: { policies: ["root"], expiresBy: world.now + MAX_TOKEN_TTL_S * 1000 },
    }),
    attack: (world, attacker) =>
      Promise.all([world.call("POST", "auth/token/renew-self", { increment: "87600h" }, attacker)]),
  },
  ...(
    [
      ["token-policies-root", { token_policies: "root" }],
      ["policies-root", { policies: ["root"] }],
      ["upper-case-root", { token_policies: ["ROOT"] }],
      ["spaced-root", { token_policies: [" Root "] }],
      ["listed-root", { token_policies: "app,root" }],
    ] as const
  ).map(
    ([name, fields]): Row => ({
      name: `a role writer writes ${JSON.stringify(fields)} and logs in`,
      setup: roleWriter,
      attack: writeRoleThenLogin(name, fields),
      refused: [400, AUTH_ROOT],
    }),
  ),
  ...[["root"], ["app", "root"]].map(
    (policies): Row => ({
      name: `a login through a role stored with ${JSON.stringify(policies)}`,
      setup: async (world) => {
        await world.storeRole(`stored-${policies.length}`, policies);
        return { attacker: "", given: { policies: "any but root" } };
      },
      attack: async (world) => [
        await world.cluster.login("default", "attacker", `stored-${policies.length}`),
      ],
      refused: [400, AUTH_ROOT],
    }),
  ),
];

describe("escalation: no token with more than was given", () => {
  let deployment: Deployment;
  let world: World;

  beforeAll(async () => {
    deployment = await openDeployment({ clock: frozenClock() });
    const { call, rootToken: root } = deployment;
    const policies: Record<string, string> = {
      app: 'path "secret/data/app/*" { capabilities = ["read"] }',
      minter: 'path "auth/token/create" { capabilities = ["update"] }',
      "sudo-minter": 'path "auth/token/create" { capabilities = ["update", "sudo"] }',
      "role-writer": 'path "auth/kubernetes/role/*" { capabilities = ["create", "update"] }',
    };
    for (const [name, policy] of Object.entries(policies)) {
      expect((await call("POST", `sys/policies/acl/${name}`, { policy })).status).toBe(204);
    }
    const cluster = await trustCluster(call, { policies: ["app"], now: deployment.clock.now });
    const mount = (await deployment.broker.mounts.resolve("auth/kubernetes/login"))?.mount;
    world = {
      call,
      root,
      now: deployment.clock.now(),
      cluster,
      async token(body) {
        const reply = await call("POST", "auth/token/create", body);
        if (reply.status !== 200) throw new Error(`setup failed: ${JSON.stringify(reply.body)}`);
        return reply.body.auth.client_token;
      },
      async storedToken(input) {
        return (await deployment.broker.tokens.create(input)).token;
      },
      async storeRole(name, tokenPolicies) {
        const { role } = roleFromRequest(
          fieldsOf(ROLE_FIELDS, { bound_service_account_names: "*", bound_service_account_namespaces: "*" }),
          undefined,
        );
        const item = roleToItem(roleKey(String(mount?.uuid), name), { ...role, tokenPolicies });
        await deployment.broker.store.write([{ op: "put", item }]);
      },
    };
  });
  afterAll(async () => {
    await deployment?.close();
  });

  /** Every token in the replies, as root sees it through lookup. */
  async function tokensIn(replies: Reply[]) {
    const tokens = replies.map((reply) => reply.body?.auth?.client_token).filter(Boolean);
    return Promise.all(
      tokens.map(async (token) => (await world.call("POST", "auth/token/lookup", { token })).body.data),
    );
  }

  it.each(ROWS.map((row) => [row.name, row] as const))("%s", async (_name, row) => {
    const { attacker, given } = await row.setup(world);
    const replies = await row.attack(world, attacker);
    const decisive = replies[0] as Reply;
    if (row.refused) {
      expect(decisive.status).toBe(row.refused[0]);
      expect(decisive.body?.errors?.[0]).toContain(row.refused[1]);
    }
    for (const token of await tokensIn(replies)) {
      if (given.policies === "any but root") expect(token.policies).not.toContain("root");
      else for (const policy of token.policies) expect(given.policies).toContain(policy);
      const expiresBy = given.expiresBy ?? world.now + MAX_TOKEN_TTL_S * 1000;
      expect(token.expire_time, "a token that never expires").not.toBeNull();
      expect(Date.parse(token.expire_time)).toBeLessThanOrEqual(expiresBy);
    }
  });
});
