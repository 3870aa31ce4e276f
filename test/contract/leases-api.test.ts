/**
 * sys/leases over HTTP, in Vault's paths and shapes: lookup, LIST, renew, revoke,
 * revoke-prefix, revoke-force and the revoke-identity extension, with the sudo they need
 * and Vault's statuses for every bad input. The leases come from the lease test engine
 * mounted at t/, on SQLite.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RETRY_BASE_MS } from "../../shared/leases/revocation.ts";
import type { ApiCall } from "../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../support/lease-deployment.ts";
import { provenIdentity } from "../support/token-record.ts";
import { waitFor } from "../support/wait.ts";

describe("sys/leases over HTTP", () => {
  let subject: LeaseDeployment;
  let call: ApiCall;

  beforeEach(async () => {
    subject = await openLeaseDeployment();
    call = subject.call;
  });
  afterEach(async () => {
    await subject.close();
  });

  const lease = async (path = "t/creds/app", ttl = 60) =>
    (await call("GET", `${path}?ttl=${ttl}`)).body.lease_id as string;

  /** A token whose only policy is `rules` (Vault's JSON policy format). */
  async function tokenWith(rules: Record<string, string[]>): Promise<string> {
    const name = `p${Math.random().toString(36).slice(2, 8)}`;
    const path = Object.fromEntries(Object.entries(rules).map(([p, capabilities]) => [p, { capabilities }]));
    return subject.tokenWith({ [name]: JSON.stringify({ path }) });
  }

  describe("lookup and LIST", () => {
    it("looks a lease up in Vault's shape, by body", async () => {
      const id = await lease();
      const reply = await call("PUT", "sys/leases/lookup", { lease_id: id });
      expect(reply.status).toBe(200);
      // The root token has sudo on the path: it also learns whose token took the lease.
      expect(Object.keys(reply.body.data).sort()).toEqual([
        "expire_time",
        "id",
        "issue_time",
        "last_renewal",
        "renewable",
        "token_accessor",
        "ttl",
      ]);
      expect(reply.body.data).toMatchObject({ id, renewable: true, last_renewal: null });
      expect(reply.body.data.ttl).toBeGreaterThan(55);
      // A field Vault does not know is ignored and named, as Vault names it.
      const extra = await call("PUT", "sys/leases/lookup", { lease_id: id, extra: 1 });
      expect(extra.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [extra]"]);
    });

    it("refuses bad lookups with 400", async () => {
      const cases: [unknown, RegExp][] = [
        [{}, /missing required field "lease_id"/],
        [{ lease_id: "t/creds/app/unknown" }, /invalid lease/],
        [{ lease_id: 42 }, /"lease_id": expected a string/],
        [{ lease_id: "t/../secret/x" }, /invalid lease_id/],
        [{ lease_id: "t//x" }, /invalid lease_id/],
        [{ lease_id: "t/creds/a\u0000b" }, /control characters/],
        [{ lease_id: `t/${"x".repeat(600)}` }, /exceeds the limit of 512 bytes/],
        ["not json", /failed to parse JSON input/],
      ];
      for (const [body, message] of cases) {
        const reply = await call("PUT", "sys/leases/lookup", body);
        expect(reply.status, JSON.stringify(body)).toBe(400);
        expect(reply.body.errors.join(" ")).toMatch(message);
      }
    });

    it("lists lease ids by prefix, 404 when there are none, and needs sudo", async () => {
      const id = await lease("t/creds/app");
      await lease("t/creds/other");
      expect((await call("LIST", "sys/leases/lookup/t/creds/")).body.data.keys).toEqual(["app/", "other/"]);
      expect((await call("GET", "sys/leases/lookup/t/creds/app/?list=true")).body.data.keys).toEqual([
        id.split("/").pop(),
      ]);
      expect((await call("LIST", "sys/leases/lookup/")).body.data.keys).toEqual(["t/"]);
      expect(await call("LIST", "sys/leases/lookup/t/nothing/")).toMatchObject({
        status: 404,
        body: { errors: [] },
      });

      const withoutSudo = await tokenWith({ "sys/leases/lookup/*": ["list"] });
      expect((await call("LIST", "sys/leases/lookup/t/creds/", undefined, withoutSudo)).status).toBe(403);
      const withSudo = await tokenWith({ "sys/leases/lookup/*": ["list", "sudo"] });
      expect((await call("LIST", "sys/leases/lookup/t/creds/", undefined, withSudo)).status).toBe(200);
    });
  });

  describe("renew", () => {
    it("renews by body or path, counting the increment from now", async () => {
      const id = await lease("t/creds/app", 60);
      const reply = await call("PUT", "sys/leases/renew", { lease_id: id, increment: "2m" });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ lease_id: id, renewable: true, lease_duration: 120, data: null });
      const byPath = await call("PUT", `sys/leases/renew/${id}`, { increment: 300 });
      expect(byPath.body.lease_duration).toBe(300);
      const lookup = await call("PUT", "sys/leases/lookup", { lease_id: id });
      expect(lookup.body.data.last_renewal).toMatch(/^\d{4}-/);
      // The lease's max TTL (ten times its first TTL, for this engine) caps every renewal.
      const capped = await call("PUT", "sys/leases/renew", { lease_id: id, increment: "24h" });
      expect(capped.body.lease_duration).toBeLessThanOrEqual(600);
    });

    it("refuses bad renewals with 400", async () => {
      const id = await lease();
      const cases: [string, unknown, RegExp][] = [
        ["sys/leases/renew", { lease_id: id, increment: "soon" }, /invalid value for "increment"/],
        ["sys/leases/renew", { lease_id: "t/creds/app/nope" }, /lease not found/],
        [
          `sys/leases/renew/${id}`,
          { lease_id: "t/creds/app/other" },
          /the lease id in the path and in the body differ/,
        ],
      ];
      for (const [path, body, message] of cases) {
        const reply = await call("PUT", path, body);
        expect(reply.status, path).toBe(400);
        expect(reply.body.errors.join(" ")).toMatch(message);
      }
    });
  });

  describe("revoke", () => {
    it("revokes by body or path with 204, and is idempotent", async () => {
      const first = await lease();
      const second = await lease();
      expect((await call("PUT", "sys/leases/revoke", { lease_id: first })).status).toBe(204);
      expect((await call("PUT", `sys/leases/revoke/${second}`, {})).status).toBe(204);
      expect((await call("PUT", `sys/leases/revoke/${second}`, {})).status).toBe(204);
      expect(subject.engine.revokeCalls.map((call) => call.id)).toEqual([first, second]);
    });

    it("queues with 202 when sync is false", async () => {
      const id = await lease();
      expect((await call("PUT", "sys/leases/revoke", { lease_id: id, sync: false })).status).toBe(202);
      expect(subject.engine.revokeCalls).toHaveLength(0);
      expect((await subject.broker.leases.sweep({ budgetMs: 10_000 })).revoked).toBe(1);
    });

    it("answers 503 naming the lease when its engine fails, and keeps it for the revoker", async () => {
      const id = await lease();
      subject.engine.behaviour.revoke = () => {
        throw new Error("backend down");
      };
      const reply = await call("PUT", "sys/leases/revoke", { lease_id: id });
      expect(reply.status).toBe(503);
      expect(reply.headers.get("retry-after")).toBe("1");
      expect(reply.body.errors).toEqual([
        `failed to revoke 1 of 1 leases; they remain marked for revocation and the revoker retries them: ${id}: Error: backend down`,
      ]);
      subject.engine.behaviour.revoke = undefined;
      subject.clock.advance(RETRY_BASE_MS);
      expect((await subject.broker.leases.sweep({ budgetMs: 10_000 })).revoked).toBe(1);
    });

    it("revokes by prefix, by force and by identity with sudo only", async () => {
      const app = [await lease("t/creds/app"), await lease("t/creds/app")];
      const other = await lease("t/creds/app2");
      const noSudo = await tokenWith({ "sys/leases/*": ["update"] });
      for (const path of [
        "sys/leases/revoke-prefix/t/creds/app",
        "sys/leases/revoke-force/t/creds/app",
        "sys/leases/revoke-identity/e",
      ]) {
        expect((await call("PUT", path, {}, noSudo)).status, path).toBe(403);
      }
      expect(subject.engine.revokeCalls).toHaveLength(0);

      expect((await call("PUT", "sys/leases/revoke-prefix/t/creds/app", {})).status).toBe(204);
      expect(new Set(subject.engine.revokeCalls.map((call) => call.id))).toEqual(new Set(app));

      subject.engine.behaviour.revoke = () => {
        throw new Error("backend down");
      };
      expect((await call("PUT", "sys/leases/revoke-prefix/t/creds/app2", {})).status).toBe(503);
      expect((await call("PUT", "sys/leases/revoke-force/t/creds/app2", {})).status).toBe(204);
      expect((await call("PUT", "sys/leases/lookup", { lease_id: other })).status).toBe(400);
    });

    it("revokes by identity, by body or path", async () => {
      const make = async (entityId: string) =>
        (
          await subject.broker.tokens.create({
            policies: ["root"],
            displayName: entityId,
            path: "auth/kubernetes/login",
            ttl: 600,
            identity: provenIdentity("ns", entityId, entityId),
          })
        ).token;
      const alice = await make("alice");
      const bob = await make("bob");
      const aliceLease = (await call("GET", "t/creds/app", undefined, alice)).body.lease_id;
      const bobLease = (await call("GET", "t/creds/app", undefined, bob)).body.lease_id;
      expect((await call("PUT", "sys/leases/revoke-identity", { entity_id: "alice" })).status).toBe(204);
      expect(subject.engine.revokeCalls.map((call) => call.id)).toEqual([aliceLease]);
      expect((await call("PUT", "sys/leases/revoke-identity/bob", {})).status).toBe(204);
      expect(subject.engine.revokeCalls.map((call) => call.id)).toEqual([aliceLease, bobLease]);
      const bad = await call("PUT", "sys/leases/revoke-identity", {});
      expect(bad).toMatchObject({ status: 400, body: { errors: ['missing required field "entity_id"'] } });
    });

    it("refuses a revoke-prefix that would match everything or leave a segment, and ignores unknown fields", async () => {
      expect((await call("PUT", "sys/leases/revoke-prefix/t//creds", {})).status).toBe(400);
      expect((await call("PUT", "sys/leases/revoke-prefix/t/creds", { sync: "maybe" })).status).toBe(400);
      // A field Vault does not know is ignored, as Vault ignores it: the revocation goes ahead.
      const id = await lease();
      expect((await call("PUT", "sys/leases/revoke-prefix/t/creds", { colour: "red" })).status).toBe(204);
      expect(subject.engine.revokeCount(id)).toBe(1);
    });
  });

  describe("disabling the mount", () => {
    const mounted = async () => Object.keys((await call("GET", "sys/mounts")).body.data).includes("t/");

    it("revokes its leases, and keeps the mount for a retry when the purge fails", async () => {
      const first = await lease();
      subject.engine.behaviour.purge = () => {
        throw new Error("the engine's data could not be deleted");
      };
      expect((await call("DELETE", "sys/mounts/t")).status).toBe(500);
      expect(await mounted()).toBe(true);
      expect(subject.engine.revokeCount(first)).toBe(1);

      subject.engine.behaviour.purge = undefined;
      const second = await lease();
      expect((await call("DELETE", "sys/mounts/t")).status).toBe(204);
      expect(await mounted()).toBe(false);
      expect(subject.engine.revokeCount(second)).toBe(1);
      expect((await call("PUT", "sys/leases/lookup", { lease_id: second })).status).toBe(400);
    });

    it("keeps the mount while another revoker still holds one of its leases", async () => {
      const id = await lease();
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      subject.engine.behaviour.revoke = () => gate.then(() => undefined);
      const revoking = call("PUT", `sys/leases/revoke/${id}`, {});
      await waitFor("the revocation to reach the engine", () =>
        subject.engine.revokeCalls.length > 0 ? true : undefined,
      );
      // The purge waits for that revocation, then refuses to drop the mount under it.
      const disable = await call("DELETE", "sys/mounts/t");
      expect(disable.status).toBe(503);
      expect(disable.headers.get("retry-after")).toBe("1");
      expect(disable.body.errors[0]).toContain(id);
      expect(await mounted()).toBe(true);

      release();
      expect((await revoking).status).toBe(204);
      expect((await call("DELETE", "sys/mounts/t")).status).toBe(204);
      expect(await mounted()).toBe(false);
      expect(subject.engine.revokeCount(id)).toBe(1);
    });
  });
});
