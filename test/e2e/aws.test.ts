/**
 * The aws secrets engine over HTTP against moto (STS, IAM, DynamoDB, KMS): credentials
 * moto accepts, leases in Vault's shapes, early revocation through the role's deny policy,
 * the sweep that removes expired leases and prunes the policy, and the TokenIssueTime
 * fallback when the policy would outgrow IAM's size limit.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { beforeEach, describe, expect, it } from "vitest";
import { createRevoker } from "../../functions/revoker.ts";
import { EXPIRY_SHARDS, expiryPartition } from "../../shared/leases/lease-keys.ts";
import type { ItemStore } from "../../shared/store/item-store.ts";
import {
  type AwsFixture,
  MOTO_ACCESS_KEY,
  MOTO_SECRET_KEY,
  openAwsFixture,
} from "../support/aws-engine-fixture.ts";
import type { Reply } from "../support/http.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";
import { allItems } from "../support/store-items.ts";
import { provenIdentity } from "../support/token-record.ts";

/** Every lease item and expiry index entry in the store: what "nothing written" is checked against. */
async function leaseItems(store: ItemStore): Promise<number> {
  let count = 0;
  for (const pk of [
    "lease/aws",
    ...Array.from({ length: EXPIRY_SHARDS }, (_, shard) => expiryPartition(shard)),
  ]) {
    count += (await allItems(store, pk)).length;
  }
  return count;
}

/** What the engine keeps for a mount: configuration, roles, deny lists. */
async function mountItems(store: ItemStore, uuid: string) {
  return (await store.query({ pk: `aws/${uuid}` })).items;
}

describe.skipIf(!motoAvailable())("the aws engine against moto", () => {
  const moto = useMoto();
  let aws: AwsFixture;
  beforeEach(async () => {
    aws = await openAwsFixture(moto);
    const role = await aws.call("POST", "aws/roles/app", {
      credential_type: "assumed_role",
      role_arns: [aws.roles.app!.arn],
    });
    expect(role.status).toBe(204);
  }, 60_000);

  /** A token like a Kubernetes login's: the service account and its entity, proven. */
  async function serviceAccountToken(namespace: string, name: string, entityId = `${namespace}/${name}`) {
    return aws.broker.tokens.create({
      policies: ["root"],
      displayName: `kubernetes-${namespace}-${name}`,
      path: "auth/kubernetes/login",
      ttl: 3600,
      identity: provenIdentity(namespace, name, entityId),
    });
  }

  describe("credentials", () => {
    it("mints credentials moto accepts, with a lease visible in lookup", async () => {
      const { token } = await serviceAccountToken("payments", "api");
      const reply = await aws.call("GET", "aws/creds/app", undefined, token);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ renewable: false, mount_type: "aws" });
      expect(reply.body.lease_id).toMatch(/^aws\/creds\/app\/[\w-]{24}$/);
      expect(reply.body.lease_duration).toBeGreaterThan(3590);
      expect(reply.body.lease_duration).toBeLessThanOrEqual(3600);
      const { access_key, secret_key, security_token, arn } = reply.body.data;
      expect(Object.keys(reply.body.data).sort()).toEqual([
        "access_key",
        "arn",
        "secret_key",
        "security_token",
      ]);
      expect(arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/app\/api@payments_[a-z0-9]{10}$/);

      const sts = new STSClient({
        endpoint: moto.endpoint,
        region: moto.region,
        credentials: { accessKeyId: access_key, secretAccessKey: secret_key, sessionToken: security_token },
      });
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      expect(identity.Arn).toBe(arn);
      expect(identity.UserId).toBe(`${aws.roles.app!.id}:${arn.split("/").pop()}`);

      const lookup = await aws.call("PUT", "sys/leases/lookup", { lease_id: reply.body.lease_id });
      expect(lookup.status).toBe(200);
      expect(lookup.body.data).toMatchObject({
        id: reply.body.lease_id,
        renewable: false,
        last_renewal: null,
      });
      expect(lookup.body.data.ttl).toBeGreaterThan(3590);
      expect(
        Date.parse(lookup.body.data.expire_time) - Date.parse(lookup.body.data.issue_time),
      ).toBeGreaterThan(3590_000);
      const listed = await aws.call("LIST", "sys/leases/lookup/aws/creds/");
      expect(listed.body.data.keys).toEqual(["app/"]);
    });

    it("answers POST and the sts/ path alike, with the duration clamped to STS's range", async () => {
      const durations = async (path: string, ttl: string | number) =>
        (await aws.call("POST", path, { ttl })).body.lease_duration as number;
      // Below STS's 900 s a ttl is refused (next test), no longer raised to 900 s.
      expect(await durations("aws/creds/app", 900)).toBeGreaterThan(890);
      expect(await durations("aws/creds/app", "15m")).toBeLessThanOrEqual(900);
      expect(await durations("aws/sts/app", "2h")).toBeLessThanOrEqual(3600);
      expect(await durations("aws/sts/app", "2h")).toBeGreaterThan(3590);
      const sts = await aws.call("POST", "aws/sts/app", { ttl: "20m" });
      expect(sts.body.lease_id).toMatch(/^aws\/sts\/app\//);
      expect(sts.body.lease_duration).toBeGreaterThan(1190);

      expect((await aws.call("POST", "aws/roles/app", { max_sts_ttl: 1200 })).status).toBe(204);
      expect(await durations("aws/creds/app", 3000)).toBeLessThanOrEqual(1200);
      const get = await aws.call("GET", "aws/creds/app?ttl=950");
      expect(get.body.lease_duration).toBeLessThanOrEqual(950);
    });

    it("takes ttl 0 as the role's default and refuses a ttl below STS's 900 s, writing nothing", async () => {
      const duration = async (ttl: string | number) => {
        const reply = await aws.call("POST", "aws/creds/app", { ttl });
        expect(reply.status, String(ttl)).toBe(200);
        return reply.body.lease_duration as number;
      };
      expect(await duration(0)).toBeGreaterThan(3590);
      expect(await duration("0")).toBeGreaterThan(3590);
      expect((await aws.call("POST", "aws/roles/app", { default_sts_ttl: "20m" })).status).toBe(204);
      expect(await duration(0)).toBeGreaterThan(1190);
      expect(await duration(0)).toBeLessThanOrEqual(1200);
      expect((await aws.call("GET", "aws/creds/app")).body.lease_duration).toBeLessThanOrEqual(1200);

      const before = await leaseItems(aws.broker.store);
      for (const ttl of [1, 300, "5m", 899]) {
        const reply = await aws.call("POST", "aws/creds/app", { ttl });
        expect(reply.status, String(ttl)).toBe(400);
        expect(reply.body.errors).toEqual([
          expect.stringMatching(
            /^invalid value for "ttl": \d+s is below 900s \(15m\), the shortest AWS STS allows/,
          ),
        ]);
      }
      const query = await aws.call("GET", "aws/sts/app?ttl=300");
      expect(query.status).toBe(400);
      expect(query.body.errors[0]).toContain("300s is below 900s");
      expect(await leaseItems(aws.broker.store)).toBe(before);
    });

    it("refuses bad requests with Vault's status and leaves no lease behind", async () => {
      const before = await leaseItems(aws.broker.store);
      const cases: [string, string, unknown, RegExp][] = [
        ["GET", "aws/creds/nope", undefined, /Role "nope" not found/],
        ["POST", "aws/creds/app", { ttl: "forever" }, /invalid value for "ttl"/],
        ["POST", "aws/creds/app", { role_session_name: "mine" }, /"role_session_name" is not supported/],
        ["POST", "aws/creds/app", { role_arn: aws.roles["app-two"]!.arn }, /not in allowed role arns/],
        ["GET", "aws/creds/bad%20name", undefined, /invalid role name/],
      ];
      for (const [method, path, body, message] of cases) {
        const reply = await aws.call(method, path, body);
        expect(reply.status, path).toBe(400);
        expect(reply.body.errors.join(" ")).toMatch(message);
      }
      expect(await leaseItems(aws.broker.store)).toBe(before);
    });

    it("refuses to renew STS credentials, as Vault does", async () => {
      const lease = (await aws.call("GET", "aws/creds/app")).body.lease_id;
      const reply = await aws.call("PUT", "sys/leases/renew", { lease_id: lease, increment: "1h" });
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual(["lease is not renewable"]);
    });
  });

  describe("revocation", () => {
    it("denies a revoked session on its role, and a sweep after expiry removes the lease and prunes the entry", async () => {
      const creds = await aws.call("GET", "aws/creds/app");
      const session = creds.body.data.arn.split("/").pop();
      const userId = `${aws.roles.app!.id}:${session}`;
      expect(await aws.call("PUT", "sys/leases/revoke", { lease_id: creds.body.lease_id })).toMatchObject({
        status: 204,
      });

      const policy = await aws.denyPolicy("app");
      expect(policy?.Statement).toEqual([
        {
          Sid: "CofferRevokedSessions",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { StringEquals: { "aws:userid": [userId] } },
        },
      ]);
      const lookup = await aws.call("PUT", "sys/leases/lookup", { lease_id: creds.body.lease_id });
      expect(lookup).toMatchObject({ status: 400, body: { errors: ["invalid lease"] } });
      const revoked = aws.audit.find(
        (entry) =>
          (entry.request as { path: string }).path === `sys/leases/revoke/${creds.body.lease_id}` &&
          (entry.request as { operation: string }).operation === "revoke",
      );
      expect(revoked).toMatchObject({
        response: { status: 202, data: { session_denied: true, token_issue_time_fallback: false } },
      });

      // Not yet: the credentials would still be valid without the deny entry.
      const revoker = createRevoker(aws.broker, () => {});
      expect((await revoker({}, { getRemainingTimeInMillis: () => 60_000 })).due).toBe(0);
      aws.clock.advance(3_600_000 + 61_000);
      const report = await revoker({}, { getRemainingTimeInMillis: () => 60_000 });
      expect(report).toMatchObject({ due: 1, revoked: 1, failed: 0, complete: true });
      expect(await aws.denyPolicy("app")).toBeUndefined();
      expect(await leaseItems(aws.broker.store)).toBe(0);
    });

    it("revokes a token's leases when the token revokes itself", async () => {
      const { token } = await serviceAccountToken("shop", "web");
      const creds = await aws.call("GET", "aws/creds/app", undefined, token);
      expect((await aws.call("POST", "auth/token/revoke-self", {}, token)).status).toBe(204);
      const denied = (await aws.denyPolicy("app"))?.Statement[0]?.Condition.StringEquals?.["aws:userid"];
      expect(denied).toEqual([`${aws.roles.app!.id}:${creds.body.data.arn.split("/").pop()}`]);
    });

    it("revokes exactly the matching leases by prefix and by identity", async () => {
      expect(
        (await aws.call("POST", "aws/roles/app-two", { role_arns: aws.roles["app-two"]!.arn })).status,
      ).toBe(204);
      const alice = (await serviceAccountToken("team", "alice")).token;
      const bob = (await serviceAccountToken("team", "bob")).token;
      const lease = async (role: string, token: string) =>
        (await aws.call("GET", `aws/creds/${role}`, undefined, token)).body.lease_id as string;
      const aliceApp = await lease("app", alice);
      const aliceTwo = await lease("app-two", alice);
      const bobApp = await lease("app", bob);
      const bobTwo = await lease("app-two", bob);
      const live = async (id: string) =>
        (await aws.call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200;

      // "aws/creds/app" is the folder "aws/creds/app/": it does not reach "aws/creds/app-two/".
      expect((await aws.call("PUT", "sys/leases/revoke-prefix/aws/creds/app", {})).status).toBe(204);
      expect([await live(aliceApp), await live(bobApp), await live(aliceTwo), await live(bobTwo)]).toEqual([
        false,
        false,
        true,
        true,
      ]);
      expect((await aws.call("PUT", "sys/leases/revoke-identity", { entity_id: "team/alice" })).status).toBe(
        204,
      );
      expect([await live(aliceTwo), await live(bobTwo)]).toEqual([false, true]);
      expect(
        (await aws.denyPolicy("app-two"))?.Statement[0]?.Condition.StringEquals?.["aws:userid"],
      ).toHaveLength(1);
    });

    it("falls back to a Deny on aws:TokenIssueTime when the list would outgrow the policy, and audits it", async () => {
      // Long service account names make 64-character session names: about 70 fill the budget.
      const { token } = await serviceAccountToken("n".repeat(40), "s".repeat(40));
      const issued: string[] = [];
      for (let i = 0; i < 80; i++) {
        issued.push((await aws.call("GET", "aws/creds/app", undefined, token)).body.lease_id);
      }
      const reply = await aws.call("PUT", "sys/leases/revoke-prefix/aws/creds/app/", {});
      expect(reply.status).toBe(204);
      const policy = await aws.denyPolicy("app");
      const cutoff = policy?.Statement.find((statement) => statement.Sid === "CofferRevokedIssuedBefore");
      expect(cutoff?.Condition.DateLessThan?.["aws:TokenIssueTime"]).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(JSON.stringify(policy).length).toBeLessThan(10_240);
      const fallbacks = aws.audit.filter(
        (entry) =>
          // Request records have no response part.
          (entry.response as { data?: { token_issue_time_fallback?: boolean } } | undefined)?.data
            ?.token_issue_time_fallback,
      );
      expect(fallbacks.length).toBeGreaterThan(0);
      expect(fallbacks[0]).toMatchObject({
        response: { data: { denied_issued_before_unix: expect.any(Number) } },
      });
      expect(aws.logs.some((event) => event.level === "warn" && /aws:TokenIssueTime/.test(event.msg))).toBe(
        true,
      );
      for (const id of issued.slice(0, 5)) {
        expect((await aws.call("PUT", "sys/leases/lookup", { lease_id: id })).status).toBe(400);
      }
    }, 120_000);

    it("revokes every lease of a mount when it is disabled, and forgets its configuration", async () => {
      await aws.call("GET", "aws/creds/app");
      const uuid = (await aws.call("GET", "sys/mounts/aws")).body.data.uuid;
      expect((await mountItems(aws.broker.store, uuid)).length).toBeGreaterThan(0);
      expect((await aws.call("DELETE", "sys/mounts/aws")).status).toBe(204);
      expect(await leaseItems(aws.broker.store)).toBe(0);
      // Its live session is denied: disabling a mount revokes what it issued.
      expect(
        (await aws.denyPolicy("app"))?.Statement[0]?.Condition.StringEquals?.["aws:userid"],
      ).toHaveLength(1);
      expect(await mountItems(aws.broker.store, uuid)).toEqual([]);
    });
  });

  describe("disabled mounts", () => {
    it("leaves one deny policy per role across enable and disable cycles, which a later mount prunes", async () => {
      const remount = async () => {
        expect((await aws.call("POST", "sys/mounts/aws", { type: "aws" })).status).toBe(204);
        const configured = await aws.call("POST", "aws/config/root", {
          region: moto.region,
          sts_endpoint: moto.endpoint,
          iam_endpoint: moto.endpoint,
          access_key: MOTO_ACCESS_KEY,
          secret_key: MOTO_SECRET_KEY,
        });
        expect(configured.status).toBe(204);
        expect((await aws.call("POST", "aws/roles/app", { role_arns: aws.roles.app!.arn })).status).toBe(204);
      };
      const userIdOf = (creds: Reply) => `${aws.roles.app!.id}:${creds.body.data.arn.split("/").pop()}`;
      const denied = async () =>
        (await aws.denyPolicy("app"))?.Statement[0]?.Condition.StringEquals?.["aws:userid"];

      const first = await aws.call("GET", "aws/creds/app");
      expect((await aws.call("DELETE", "sys/mounts/aws")).status).toBe(204);
      // Still valid, so still denied: the policy outlives the mount.
      expect(await denied()).toEqual([userIdOf(first)]);
      const policies = await aws.rolePolicies("app");
      expect(policies).toHaveLength(1);
      expect(policies[0]).toMatch(/^coffer-revoked-sessions-[0-9a-f]{16}$/);

      await remount();
      const second = await aws.call("GET", "aws/creds/app");
      expect((await aws.call("DELETE", "sys/mounts/aws")).status).toBe(204);
      await remount();
      const third = await aws.call("GET", "aws/creds/app");
      expect((await aws.call("PUT", "sys/leases/revoke", { lease_id: third.body.lease_id })).status).toBe(
        204,
      );
      expect(await aws.rolePolicies("app")).toEqual(policies);
      expect(await denied()).toEqual([userIdOf(first), userIdOf(second), userIdOf(third)].sort());

      // The live mount's clean-up after the last expiry drops what the disabled ones left too.
      aws.clock.advance(3_600_000 + 61_000);
      expect(await aws.broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({ due: 1, failed: 0 });
      expect(await aws.rolePolicies("app")).toEqual([]);
      expect(await leaseItems(aws.broker.store)).toBe(0);
    });
  });

  describe("the revoker function", () => {
    it("builds the deployed broker from its environment and sweeps within the invocation's time", async () => {
      const creds = await aws.call("GET", "aws/creds/app?ttl=900");
      const saved = { ...process.env };
      Object.assign(process.env, {
        COFFER_TABLE: aws.tableName,
        COFFER_KMS_KEY_ID: aws.kmsKeyId,
        COFFER_REGION: moto.region,
        COFFER_AWS_ENDPOINT: moto.endpoint,
        AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
      });
      try {
        const { handler } = await import("../../functions/revoker.ts");
        // Nothing is due yet (the function runs on the real clock): the sweep finds nothing and finishes.
        const report = await handler({}, { getRemainingTimeInMillis: () => 30_000 });
        expect(report).toMatchObject({ due: 0, revoked: 0, complete: true });
        expect((await aws.call("PUT", "sys/leases/lookup", { lease_id: creds.body.lease_id })).status).toBe(
          200,
        );
      } finally {
        process.env = saved;
      }
    });
  });

  describe("configuration", () => {
    it("reads config/root without its secret, and refuses bad input leaving it unchanged", async () => {
      const read = await aws.call("GET", "aws/config/root");
      expect(read.status).toBe(200);
      expect(read.body.data).toEqual({
        access_key: "AKIAIOSFODNN7EXAMPLE",
        region: moto.region,
        sts_region: "",
        sts_endpoint: moto.endpoint,
        iam_endpoint: moto.endpoint,
        max_retries: -1,
      });
      expect(JSON.stringify(read.body)).not.toContain("EXAMPLEKEY");
      const cases: [unknown, RegExp][] = [
        [{ sts_endpoint: "ftp://example.com" }, /"sts_endpoint": expected an http or https URL/],
        [{ iam_endpoint: "http://user:pw@example.com" }, /without credentials/],
        [{ access_key: "AKIAIOSFODNN7EXAMPLE" }, /"access_key" and "secret_key" go together/],
        [{ region: "moon-1" }, /expected an AWS region/],
        [{ username_template: "{{.DisplayName}}" }, /"username_template" is not supported/],
        [{ max_retries: 99 }, /"max_retries": expected an integer <= 10/],
      ];
      for (const [body, message] of cases) {
        const reply = await aws.call("POST", "aws/config/root", body);
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(reply.body.errors.join(" ")).toMatch(message);
      }
      expect((await aws.call("GET", "aws/config/root")).body.data).toEqual(read.body.data);
    });

    it("writes, merges, reads, lists and deletes roles, refusing bad input with nothing written", async () => {
      const created = await aws.call("POST", "aws/roles/reader", {
        credential_type: "assumed_role",
        role_arns: `${aws.roles.app!.arn},${aws.roles["app-two"]!.arn}`,
        policy_document:
          '{ "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}] }',
        default_sts_ttl: "15m",
        max_sts_ttl: "1h",
      });
      expect(created.status).toBe(204);
      expect((await aws.call("POST", "aws/roles/reader", { default_sts_ttl: 1800 })).status).toBe(204);
      const read = await aws.call("GET", "aws/roles/reader");
      expect(read.body.data).toMatchObject({
        credential_type: "assumed_role",
        role_arns: [aws.roles.app!.arn, aws.roles["app-two"]!.arn],
        policy_document:
          '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}',
        default_sts_ttl: 1800,
        max_sts_ttl: 3600,
        policy_arns: [],
        iam_groups: [],
      });
      expect((await aws.call("LIST", "aws/roles")).body.data.keys).toEqual(["app", "reader"]);
      // Two ARNs: the caller must say which.
      expect((await aws.call("GET", "aws/creds/reader")).body.errors).toEqual([
        "did not supply a role_arn parameter and unable to determine one",
      ]);
      expect(
        (await aws.call("POST", "aws/creds/reader", { role_arn: aws.roles["app-two"]!.arn })).status,
      ).toBe(200);

      const cases: [unknown, RegExp][] = [
        [
          { credential_type: "iam_user", role_arns: aws.roles.app!.arn },
          /credential_type "iam_user" is not supported/,
        ],
        [{ role_arns: "arn:aws:iam::123:user/bob" }, /is not an IAM role ARN/],
        [{}, /"role_arns" is required/],
        [
          { role_arns: aws.roles.app!.arn, policy_document: "{nope" },
          /"policy_document": it is not valid JSON/,
        ],
        [
          { role_arns: aws.roles.app!.arn, default_sts_ttl: "2h", max_sts_ttl: "1h" },
          /cannot exceed "max_sts_ttl"/,
        ],
        [{ role_arns: aws.roles.app!.arn, iam_groups: ["admins"] }, /"iam_groups" is not supported/],
        [
          { role_arns: aws.roles.app!.arn, policy_document: JSON.stringify({ p: "x".repeat(3000) }) },
          /limit of 2048/,
        ],
      ];
      for (const [body, message] of cases) {
        const reply = await aws.call("POST", "aws/roles/fresh", body);
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(reply.body.errors.join(" ")).toMatch(message);
      }
      expect((await aws.call("GET", "aws/roles/fresh")).status).toBe(404);
      expect((await aws.call("POST", "aws/roles/bad%20name", { role_arns: aws.roles.app!.arn })).status).toBe(
        400,
      );
      const warned = await aws.call("POST", "aws/roles/long", {
        role_arns: aws.roles.app!.arn,
        max_sts_ttl: "12h",
      });
      expect(warned.status).toBe(200);
      expect(warned.body.warnings[0]).toMatch(/clamped/);
      // A field Vault does not know is ignored with Vault's warning; the role is written.
      const coloured = await aws.call("POST", "aws/roles/long", { max_sts_ttl: "12h", colour: "blue" });
      expect(coloured.status).toBe(200);
      expect(coloured.body.warnings).toContain("Endpoint ignored these unrecognized parameters: [colour]");

      expect((await aws.call("DELETE", "aws/roles/reader")).status).toBe(204);
      expect((await aws.call("GET", "aws/roles/reader")).status).toBe(404);
    });
  });
});
