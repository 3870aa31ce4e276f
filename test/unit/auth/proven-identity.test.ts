/**
 * Identity only from proof: every consumer of a caller's identity inside the broker
 * (the entity a token reports, templated policies, STS session names and tags, database
 * usernames, the identity recorded on a lease, revoke-identity) follows what a login
 * proved, is inherited by the tokens a login makes, and never follows `meta`. A table over
 * the callers of test/support/identity-cases.ts, then a property over arbitrary `meta`.
 * The same callers meet STS on moto (test/e2e/aws-identity.test.ts) and PostgreSQL
 * (test/e2e/database.test.ts).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionIdentityOf } from "../../../shared/engines/aws/session-identity.ts";
import { generateUsername } from "../../../shared/engines/database/username.ts";
import { leaseKey } from "../../../shared/leases/lease-keys.ts";
import type { ApiCall } from "../../support/http.ts";
import {
  FORGED_META,
  type IdentityCase,
  identityCases,
  TOKEN_MAKER_POLICY,
} from "../../support/identity-cases.ts";
import { type KubernetesCluster, trustCluster } from "../../support/kubernetes-cluster.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";

const POLICIES = ["workload", TOKEN_MAKER_POLICY];

describe("identity only from proof", () => {
  let subject: LeaseDeployment;
  let call: ApiCall;
  let cluster: KubernetesCluster;
  let cases: IdentityCase[];
  let paymentsEntity: string;

  beforeAll(async () => {
    subject = await openLeaseDeployment();
    call = subject.call;
    cluster = await trustCluster(call, { policies: POLICIES, now: subject.clock.now });
    const alias = `identity.entity.aliases.${cluster.accessor}`;
    const policy = `
      path "secret/data/{{${alias}.metadata.service_account_namespace}}/*" { capabilities = ["read"] }
      path "secret/data/by-entity/{{identity.entity.id}}/*" { capabilities = ["read"] }
      path "t/creds/*" { capabilities = ["read"] }`;
    expect((await call("POST", "sys/policies/acl/workload", { policy })).status).toBe(204);
    cases = await identityCases(call, cluster, POLICIES);
    paymentsEntity = cases[0]!.entityId;
    expect(paymentsEntity).toMatch(/^[0-9a-f-]{36}$/);
  });
  afterAll(async () => {
    await subject?.close();
  });

  /** Everything the broker derives from a caller's identity, random parts left out. */
  async function derived(token: string) {
    const record = await subject.broker.tokens.lookup(token);
    const capabilities = await call(
      "POST",
      "sys/capabilities-self",
      {
        paths: [
          "secret/data/payments/x",
          "secret/data/billing/x",
          `secret/data/by-entity/${paymentsEntity}/x`,
        ],
      },
      token,
    );
    const lease = await call("GET", "t/creds/x", undefined, token);
    const leaseIdentity = (await subject.store.get(leaseKey(lease.body.lease_id)))?.identity as
      | Record<string, unknown>
      | undefined;
    const session = sessionIdentityOf(record);
    return {
      entityId: (await call("GET", "auth/token/lookup-self", undefined, token)).body.data.entity_id,
      readable: Object.entries(capabilities.body.data as Record<string, string[]>)
        .filter(([path, granted]) => path.includes("/") && granted.includes("read"))
        .map(([path]) => path)
        .sort(),
      sessionName: session.sessionName.replace(/_[a-z0-9]{10}$/, ""),
      tags: session.tags,
      username: generateUsername(record, "ro").replace(/-[a-z0-9]{12}$/, ""),
      leaseIdentity: { entityId: leaseIdentity?.entityId, metadata: leaseIdentity?.metadata },
      leaseId: String(lease.body.lease_id),
    };
  }

  it.each([0, 1, 2, 3, 4, 5])("derives everything from the proof of case %i alone", async (index) => {
    const { token, proven, entityId, name } = cases[index]!;
    const got = await derived(token);
    const paths = proven?.namespace
      ? [
          `secret/data/${proven.namespace}/x`,
          ...(entityId === paymentsEntity ? [`secret/data/by-entity/${entityId}/x`] : []),
        ]
      : [];
    expect(got, name).toMatchObject({
      entityId,
      readable: paths.sort(),
      sessionName: proven ? `${proven.serviceAccount}@${proven.namespace}` : expect.not.stringContaining("@"),
      tags: proven
        ? [
            { Key: "kubernetes-namespace", Value: proven.namespace },
            { Key: "kubernetes-service-account", Value: proven.serviceAccount },
          ]
        : [],
      username: proven ? `v-${proven.namespace}-${proven.serviceAccount}-ro` : "v-token-ro",
      leaseIdentity: {
        entityId,
        metadata: proven
          ? expect.objectContaining({
              service_account_namespace: proven.namespace,
              service_account_name: proven.serviceAccount,
            })
          : {},
      },
    });
  });

  it("keeps meta as the free-form data it is: shown by lookup, granting nothing", async () => {
    const child = cases[1]!;
    const lookup = await call("GET", "auth/token/lookup-self", undefined, child.token);
    expect(lookup.body.data.meta).toEqual(FORGED_META);
  });

  it("revokes by identity exactly the tokens and leases of the proven entity and of the tokens it made", async () => {
    const leases = await Promise.all(cases.map(async ({ token }) => (await derived(token)).leaseId));
    const live = async (id: string) =>
      (await call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200;
    const usable = async ({ token }: IdentityCase) =>
      (await call("GET", "auth/token/lookup-self", undefined, token)).status === 200;
    const revoked = await call("PUT", "sys/leases/revoke-identity", { entity_id: paymentsEntity });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(204);
    const outside = cases.map(({ entityId }) => entityId !== paymentsEntity);
    expect(await Promise.all(leases.map(live))).toEqual(outside);
    expect(await Promise.all(cases.map(usable))).toEqual(outside);
    // A meta that names an entity reaches nothing.
    const forged = await call("PUT", "sys/leases/revoke-identity", { entity_id: FORGED_META.entity_id });
    expect(forged.status).toBe(204);
    expect(await Promise.all(leases.slice(3).map(live))).toEqual([true, true, true]);
  });

  it("derives the same from any meta as from none, for the tokens of a login and of root", async () => {
    const login = await cluster.token("payments", "api");
    const baseline = {
      login: await derived(await makeToken(login, {})),
      root: await derived(await makeToken(undefined, {})),
    };
    const key = fc.oneof(
      fc.constantFrom(...Object.keys(FORGED_META)),
      fc.string({ minLength: 1, maxLength: 24 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, fc.string({ maxLength: 40 }), { maxKeys: 8 }), async (meta) => {
        for (const [maker, expected] of [
          [login, baseline.login],
          [undefined, baseline.root],
        ] as const) {
          const { leaseId: _, ...got } = await derived(await makeToken(maker, { meta }));
          const { leaseId: __, ...want } = expected;
          expect(got).toEqual(want);
        }
      }),
      { numRuns: 25 },
    );
  });

  async function makeToken(maker: string | undefined, body: Record<string, unknown>) {
    const reply = await call("POST", "auth/token/create", { policies: POLICIES, ...body }, maker);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return String(reply.body.auth.client_token);
  }
});
