/**
 * The rest of Vault's token store, as clients call it: lookup fields as Vault reports
 * them (explicit_max_ttl 0 unless set, last_renewal_time after a renewal, lease_duration
 * exactly the TTL asked for), renew and renew-accessor for other tokens, LIST
 * auth/token/accessors (sudo), periodic tokens, use-limited tokens, and token roles.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_TOKEN_TTL_S } from "../../../shared/auth/tokens/token-store.ts";
import type { ApiCall } from "../../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";
import { tickingClock } from "../../support/test-clock.ts";

const APP_POLICY = `
  path "auth/token/create" { capabilities = ["update"] }
  path "t/creds/*" { capabilities = ["read"] }`;

describe("the token store as Vault clients call it", () => {
  let subject: LeaseDeployment;
  let call: ApiCall;

  beforeEach(async () => {
    subject = await openLeaseDeployment({ clock: tickingClock() });
    call = subject.call;
    expect((await call("POST", "sys/policies/acl/app", { policy: APP_POLICY })).status).toBe(204);
  });
  afterEach(async () => {
    await subject.close();
  });

  async function create(body: Record<string, unknown>, maker?: string, path = "auth/token/create") {
    const reply = await call("POST", path, body, maker);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body as {
      auth: Record<string, unknown> & { client_token: string; accessor: string };
      warnings: string[] | null;
    };
  }
  const lookupSelf = async (token: string) =>
    (await call("GET", "auth/token/lookup-self", undefined, token)).body.data;

  describe("lookups and renewals", () => {
    it("answers lease_duration exactly as asked, and explicit_max_ttl only when it was set", async () => {
      for (let i = 0; i < 5; i++) {
        const { auth } = await create({ policies: ["app"], ttl: "1h" });
        expect(auth.lease_duration).toBe(3600);
        const data = await lookupSelf(auth.client_token);
        expect(data).toMatchObject({ creation_ttl: 3600, explicit_max_ttl: 0 });
        expect(data).not.toHaveProperty("last_renewal_time");
        expect(data).not.toHaveProperty("period");
      }
      const capped = (await create({ policies: ["app"], ttl: "1h", explicit_max_ttl: "2h" })).auth;
      expect(await lookupSelf(capped.client_token)).toMatchObject({ explicit_max_ttl: 7200 });
    });

    it("reports the last renewal, and renews for the last TTL granted when no increment is given", async () => {
      const { auth } = await create({ policies: ["app"], ttl: "1h" });
      subject.clock.advance(600_000);
      const renewed = await call("POST", "auth/token/renew-self", { increment: "30m" }, auth.client_token);
      expect(renewed.body.auth.lease_duration).toBe(1800);
      const data = await lookupSelf(auth.client_token);
      expect(data.last_renewal_time).toBeGreaterThan(data.creation_time);
      expect(Math.floor(Date.parse(data.last_renewal) / 1000)).toBe(data.last_renewal_time);
      expect(data).toMatchObject({ creation_ttl: 3600, ttl: 1800 });
      const again = await call("POST", "auth/token/renew-self", {}, auth.client_token);
      expect(again.body.auth.lease_duration).toBe(1800);
    });

    it("renews other tokens by token and by accessor, the latter without showing the token", async () => {
      const { auth } = await create({ policies: ["app"], ttl: "10m" });
      const byToken = await call("POST", "auth/token/renew", { token: auth.client_token, increment: "20m" });
      expect(byToken.body.auth).toMatchObject({ client_token: auth.client_token, lease_duration: 1200 });
      const byAccessor = await call("POST", "auth/token/renew-accessor", {
        accessor: auth.accessor,
        increment: 60,
      });
      expect(byAccessor.body.auth).toMatchObject({
        client_token: "",
        accessor: auth.accessor,
        lease_duration: 60,
      });
      expect(await call("POST", "auth/token/renew", { token: "cof.nothing" })).toMatchObject({
        status: 400,
        body: { errors: ["token not found"] },
      });
      const fixed = (await create({ policies: ["app"], ttl: "10m", renewable: false })).auth;
      expect(await call("POST", "auth/token/renew", { token: fixed.client_token })).toMatchObject({
        status: 400,
        body: { errors: ["token is not renewable"] },
      });
      // Renewing another's token needs a policy for it.
      expect(
        (await call("POST", "auth/token/renew-accessor", { accessor: auth.accessor }, fixed.client_token))
          .status,
      ).toBe(403);
    });

    it("lists the accessors of live tokens, to sudo callers only", async () => {
      const live = (await create({ policies: ["app"] })).auth;
      const revoked = (await create({ policies: ["app"] })).auth;
      expect((await call("POST", "auth/token/revoke-accessor", { accessor: revoked.accessor })).status).toBe(
        204,
      );
      const listed = await call("LIST", "auth/token/accessors");
      expect(listed.status).toBe(200);
      expect(listed.body.data.keys).toContain(live.accessor);
      expect(listed.body.data.keys).not.toContain(revoked.accessor);
      await call("POST", "sys/policies/acl/lister", {
        policy: 'path "auth/token/accessors" { capabilities = ["list"] }',
      });
      const lister = (await create({ policies: ["lister"] })).auth.client_token;
      expect((await call("LIST", "auth/token/accessors", undefined, lister)).status).toBe(403);
    });
  });

  describe("periodic tokens", () => {
    it("need sudo, grant one period at a time, and live past the system maximum", async () => {
      const app = (await create({ policies: ["app"] })).auth.client_token;
      expect(await call("POST", "auth/token/create", { policies: ["app"], period: "1h" }, app)).toMatchObject(
        {
          status: 400,
          body: { errors: ["root or sudo privileges required to create periodic token"] },
        },
      );
      const { auth } = await create({ policies: ["app"], period: "24h", ttl: "5m" });
      expect(auth.lease_duration).toBe(86_400);
      expect(await lookupSelf(auth.client_token)).toMatchObject({ period: 86_400, explicit_max_ttl: 0 });
      // Renewed every 23 hours, past the 768 hours no other token outlives.
      for (let elapsed = 0; elapsed <= MAX_TOKEN_TTL_S + 86_400; elapsed += 23 * 3600) {
        subject.clock.advance(23 * 3600 * 1000);
        const renewed = await call("POST", "auth/token/renew-self", { increment: "10s" }, auth.client_token);
        expect(renewed.body.auth.lease_duration).toBe(86_400);
      }
      expect((await call("GET", "auth/token/lookup-self", undefined, auth.client_token)).status).toBe(200);
    });

    it("never renew past an explicit maximum", async () => {
      const { auth } = await create({ policies: ["app"], period: "1h", explicit_max_ttl: "90m" });
      subject.clock.advance(3_000_000);
      const renewed = await call("POST", "auth/token/renew-self", {}, auth.client_token);
      expect(renewed.body.auth.lease_duration).toBeLessThanOrEqual(2400);
      expect(renewed.body.auth.lease_duration).toBeGreaterThan(2390);
      expect(renewed.body.warnings?.[0]).toMatch(/capped/);
    });
  });

  describe("use-limited tokens", () => {
    it("take one use per request, atomically, and are revoked after the last", async () => {
      const { auth } = await create({ policies: ["app"], num_uses: 3 });
      expect(auth.num_uses).toBe(3);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => call("GET", "auth/token/lookup-self", undefined, auth.client_token)),
      );
      expect(results.map((reply) => reply.status).sort()).toEqual([200, 200, 200, 403, 403]);
      const seen = results.filter((reply) => reply.status === 200).map((reply) => reply.body.data.num_uses);
      expect(seen.sort()).toEqual([-1, 1, 2]);
      expect(await subject.broker.tokens.find(auth.client_token)).toBeUndefined();
    });

    it("revoke the lease their last use took, and make no children", async () => {
      const { auth } = await create({ policies: ["app"], num_uses: 2 });
      expect(await call("POST", "auth/token/create", { policies: ["app"] }, auth.client_token)).toMatchObject(
        {
          status: 400,
          body: { errors: ["restricted use token cannot generate child tokens"] },
        },
      );
      const lease = await call("GET", "t/creds/x", undefined, auth.client_token);
      expect(lease.status).toBe(200);
      expect(subject.engine.revokeCount(lease.body.lease_id)).toBe(1);
      expect((await call("GET", "auth/token/lookup-self", undefined, auth.client_token)).status).toBe(403);
    });
  });

  describe("token roles", () => {
    it("are written, read, listed and deleted in Vault's shapes", async () => {
      expect((await call("LIST", "auth/token/roles")).status).toBe(404);
      const written = await call("POST", "auth/token/roles/ci", {
        allowed_policies: "app,Deploy",
        orphan: true,
        token_period: "1h",
        path_suffix: "v1",
      });
      expect(written.status).toBe(204);
      expect((await call("GET", "auth/token/roles/ci")).body.data).toMatchObject({
        name: "ci",
        allowed_policies: ["app", "deploy"],
        disallowed_policies: [],
        orphan: true,
        renewable: true,
        token_period: 3600,
        period: 3600,
        path_suffix: "v1",
        token_type: "default-service",
        token_explicit_max_ttl: 0,
      });
      // An update changes only what it names.
      expect((await call("POST", "auth/token/roles/ci", { renewable: false })).status).toBe(204);
      expect((await call("GET", "auth/token/roles/ci")).body.data).toMatchObject({
        renewable: false,
        orphan: true,
      });
      expect((await call("LIST", "auth/token/roles")).body.data.keys).toEqual(["ci"]);
      expect((await call("DELETE", "auth/token/roles/ci")).status).toBe(204);
      expect((await call("GET", "auth/token/roles/ci")).status).toBe(404);
    });

    it("refuse what Coffer cannot honour", async () => {
      for (const [body, fragment] of [
        [{ token_type: "batch" }, "only service tokens"],
        [{ token_bound_cidrs: ["10.0.0.0/8"] }, '"token_bound_cidrs" is not supported'],
        [{ allowed_entity_aliases: ["x"] }, '"allowed_entity_aliases" is not supported'],
        [{ path_suffix: "../x" }, "invalid characters"],
      ] as const) {
        const reply = await call("POST", "auth/token/roles/bad", body);
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(reply.body.errors[0]).toContain(fragment);
      }
      expect((await call("GET", "auth/token/roles/bad")).status).toBe(404);
      expect(await call("POST", "auth/token/create/none", {})).toMatchObject({
        status: 400,
        body: { errors: ["unknown role none"] },
      });
    });

    it("let their users hand out the role's policies, globs included, and nothing disallowed", async () => {
      await call("POST", "auth/token/roles/deployer", {
        allowed_policies: ["deploy"],
        allowed_policies_glob: ["team-*"],
        disallowed_policies: ["secret-admin"],
      });
      await call("POST", "sys/policies/acl/role-user", {
        policy: 'path "auth/token/create/deployer" { capabilities = ["update"] }',
      });
      const user = (await create({ policies: ["role-user"] })).auth.client_token;
      const asRole = (body: Record<string, unknown>) =>
        call("POST", "auth/token/create/deployer", body, user);
      expect((await asRole({})).body.auth).toMatchObject({ policies: ["default", "deploy"], orphan: false });
      expect((await asRole({ policies: ["team-a", "deploy"] })).body.auth.policies).toEqual([
        "default",
        "deploy",
        "team-a",
      ]);
      expect((await asRole({ policies: ["ops"] })).body.errors[0]).toMatch(
        /must be subset of the role's allowed policies/,
      );
      expect((await asRole({ policies: ["root"] })).status).toBe(400);
      await call("POST", "auth/token/roles/deployer", { disallowed_policies: ["team-b"] });
      expect(await asRole({ policies: ["team-b"] })).toMatchObject({
        status: 400,
        body: { errors: ['token policy "team-b" is disallowed by this role'] },
      });
      // Without a policy on the role's path, a token cannot use it.
      expect(
        (
          await call(
            "POST",
            "auth/token/create/deployer",
            {},
            (
              await create({ policies: ["app"] })
            ).auth.client_token,
          )
        ).status,
      ).toBe(403);
    });

    it("make orphans, periodic and use-limited tokens with the role's path and name", async () => {
      await call("POST", "auth/token/roles/batchjob", {
        orphan: true,
        token_period: "30m",
        token_num_uses: 5,
        token_explicit_max_ttl: "2h",
        path_suffix: "v2",
        renewable: false,
      });
      await call("POST", "sys/policies/acl/jobs", {
        policy: 'path "auth/token/create/batchjob" { capabilities = ["update"] }',
      });
      const user = (await create({ policies: ["jobs", "app"] })).auth.client_token;
      const made = await call("POST", "auth/token/create/batchjob", { policies: ["app"], num_uses: 9 }, user);
      expect(made.status, JSON.stringify(made.body)).toBe(200);
      expect(made.body.auth).toMatchObject({
        orphan: true,
        lease_duration: 1800,
        renewable: false,
        num_uses: 5,
      });
      const data = await lookupSelf(made.body.auth.client_token);
      expect(data).toMatchObject({
        path: "auth/token/create/batchjob/v2",
        role: "batchjob",
        period: 1800,
        explicit_max_ttl: 7200,
        orphan: true,
        num_uses: 4,
      });
      // An orphan of the role outlives the token that made it.
      expect((await call("POST", "auth/token/revoke-self", undefined, user)).status).toBe(204);
      expect(
        (await call("GET", "auth/token/lookup-self", undefined, made.body.auth.client_token)).status,
      ).toBe(200);
    });
  });
});
