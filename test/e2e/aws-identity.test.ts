/**
 * STS sessions are named and tagged after what a login proved, on moto: every caller of
 * test/support/identity-cases.ts asks for credentials; the AssumeRole requests are
 * recorded on their way to moto (which keeps no session tags), and moto's
 * GetCallerIdentity shows the session name the credentials really carry. IAM policies
 * grant on these tags (aws:PrincipalTag/kubernetes-namespace), so `meta` must never reach
 * them. revoke-identity then ends exactly the sessions of the proven entity.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsFixture, openAwsFixture } from "../support/aws-engine-fixture.ts";
import { type FakeSts, relayTo, startFakeSts } from "../support/fake-sts.ts";
import { type IdentityCase, identityCases, TOKEN_MAKER_POLICY } from "../support/identity-cases.ts";
import { trustCluster } from "../support/kubernetes-cluster.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";

const POLICIES = ["aws-creds", TOKEN_MAKER_POLICY];

describe.skipIf(!motoAvailable())("STS session identity from proof, on moto", () => {
  const moto = useMoto();
  let relay: FakeSts;
  let aws: AwsFixture;
  let cases: IdentityCase[];

  beforeAll(async () => {
    relay = await startFakeSts(relayTo(moto.endpoint));
    aws = await openAwsFixture(moto, { sts_endpoint: relay.endpoint });
    expect((await aws.call("POST", "aws/roles/app", { role_arns: [aws.roles.app!.arn] })).status).toBe(204);
    const policy = 'path "aws/creds/*" { capabilities = ["read"] }';
    expect((await aws.call("POST", "sys/policies/acl/aws-creds", { policy })).status).toBe(204);
    const cluster = await trustCluster(aws.call, { policies: POLICIES, now: aws.clock.now });
    cases = await identityCases(aws.call, cluster, POLICIES);
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
  });

  /** Credentials for `token`, what the engine asked STS for, and who moto says they are. */
  async function session(token: string) {
    const creds = await aws.call("GET", "aws/creds/app", undefined, token);
    expect(creds.status, JSON.stringify(creds.body)).toBe(200);
    const { access_key, secret_key, security_token, arn } = creds.body.data;
    const sessionName = String(arn).split("/").pop();
    const request = relay.requests.find(
      ({ action, params }) => action === "AssumeRole" && params.get("RoleSessionName") === sessionName,
    );
    const tags: Record<string, string> = {};
    for (let n = 1; request?.params.has(`Tags.member.${n}.Key`); n++) {
      tags[String(request.params.get(`Tags.member.${n}.Key`))] = String(
        request.params.get(`Tags.member.${n}.Value`),
      );
    }
    const sts = new STSClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: { accessKeyId: access_key, secretAccessKey: secret_key, sessionToken: security_token },
    });
    const caller = await sts.send(new GetCallerIdentityCommand({}));
    return {
      leaseId: String(creds.body.lease_id),
      sessionName,
      tags,
      arn: caller.Arn,
      asked: Boolean(request),
    };
  }

  it.each([0, 1, 2, 3, 4, 5])(
    "names and tags the session of case %i after its proof alone",
    async (index) => {
      const { token, proven, name } = cases[index]!;
      const got = await session(token);
      expect(got.asked, name).toBe(true);
      expect(got.arn).toBe(
        `${aws.roles.app!.arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")}/${got.sessionName}`,
      );
      if (proven) {
        expect(got.sessionName, name).toMatch(
          new RegExp(`^${proven.serviceAccount}@${proven.namespace}_[a-z0-9]{10}$`),
        );
        expect(got.tags, name).toEqual({
          "kubernetes-namespace": proven.namespace,
          "kubernetes-service-account": proven.serviceAccount,
        });
      } else {
        expect(got.sessionName, name).toMatch(/^token_[a-z0-9]{10}$/);
        expect(got.tags, name).toEqual({});
      }
    },
  );

  it("revokes by identity exactly the sessions of the proven entity and of the tokens it made", async () => {
    const leases = await Promise.all(cases.map(async ({ token }) => (await session(token)).leaseId));
    const entity = cases[0]!.entityId;
    expect((await aws.call("PUT", "sys/leases/revoke-identity", { entity_id: entity })).status).toBe(204);
    const live = await Promise.all(
      leases.map(async (id) => (await aws.call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200),
    );
    expect(live).toEqual(cases.map(({ entityId }) => entityId !== entity));
  });
});
