/**
 * sys/remount moves a mount with its data to another path, as Vault's does, ending what it
 * issued under the old path (leases, an auth method's tokens); sys/remount/status/<id>
 * reports it. One resumable operation: a move that fails part-way is recorded as failed,
 * leaves the mount usable where it was, and the same request finishes it.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { loginToken } from "../../../shared/auth/tokens/login-token.ts";
import type { ApiCall } from "../../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";

let subject: LeaseDeployment;
let call: ApiCall;

beforeEach(async () => {
  subject = await openLeaseDeployment();
  call = subject.call;
});

async function status(id: string) {
  return (await call("GET", `sys/remount/status/${id}`)).body.data.migration_info;
}

describe("sys/remount", () => {
  it("moves a KV mount with its secrets and settings, and reports the migration", async () => {
    expect((await call("POST", "sys/mounts/team-a", { type: "kv-v2", description: "A" })).status).toBe(204);
    expect((await call("POST", "team-a/data/db", { data: { password: "s3cret" } })).status).toBe(200);
    const moved = await call("POST", "sys/remount", { from: "team-a", to: "teams/a" });
    expect(moved.status).toBe(200);
    expect(await status(moved.body.data.migration_id)).toEqual({
      source_mount: "team-a/",
      target_mount: "teams/a/",
      status: "success",
    });
    expect((await call("GET", "teams/a/data/db")).body.data.data).toEqual({ password: "s3cret" });
    expect((await call("GET", "sys/mounts/teams/a")).body.data).toMatchObject({
      type: "kv",
      description: "A",
    });
    expect((await call("GET", "team-a/data/db")).status).toBe(404);
  });

  it("revokes the leases issued under the old path, and issues new ones under the new path", async () => {
    const old = (await call("GET", "t/creds/app")).body.lease_id;
    expect((await call("POST", "sys/remount", { from: "t", to: "t2" })).status).toBe(200);
    expect(subject.engine.revokeCount(old)).toBe(1);
    expect((await call("PUT", "sys/leases/lookup", { lease_id: old })).status).toBe(400);
    const fresh = await call("GET", "t2/creds/app");
    expect(fresh.body.lease_id).toMatch(/^t2\/creds\/app\//);
  });

  it("revokes the tokens an auth method issued, and keeps its configuration", async () => {
    const { broker } = subject;
    expect((await call("POST", "sys/auth/k8s", { type: "kubernetes" })).status).toBe(204);
    const mount = (await broker.mounts.list()).find((candidate) => candidate.path === "auth/k8s/")!;
    const grant = {
      policies: ["default"],
      noDefaultPolicy: false,
      displayName: "app",
      metadata: {},
      alias: { name: "app", metadata: {} },
      ttl: 3600,
      maxTtl: 0,
      explicitMaxTtl: 0,
    };
    const auth = await loginToken(broker.tokens, mount, "auth/k8s/login", grant);
    expect((await call("GET", "auth/token/lookup-self", undefined, auth.client_token)).status).toBe(200);
    expect((await call("POST", "sys/remount", { from: "auth/k8s", to: "auth/k8s-prod" })).status).toBe(200);
    expect(await broker.tokens.lookupByAccessor(auth.accessor)).toBeUndefined();
    expect(Object.keys((await call("GET", "sys/auth")).body.data)).toContain("k8s-prod/");
  });

  it("refuses what Vault refuses, before anything is revoked", async () => {
    const lease = (await call("GET", "t/creds/app")).body.lease_id;
    expect((await call("POST", "sys/mounts/taken", { type: "kv" })).status).toBe(204);
    for (const [body, error] of [
      [{ from: "t", to: "taken" }, "path is already in use at taken/"],
      [{ from: "t", to: "taken/inner" }, "path is already in use at taken/"],
      [{ from: "t", to: "auth/t" }, "cannot remount non-auth mount to auth mount"],
      [{ from: "sys", to: "system" }, 'cannot remount "sys/"'],
      [{ from: "nowhere", to: "else" }, 'no matching mount at "nowhere/"'],
      [{ from: "t", to: "identity/t" }, 'cannot mount at "identity/t/": "identity/" is reserved'],
      [{ from: "t" }, "both 'from' and 'to' path must be specified as a string"],
    ] as const) {
      const reply = await call("POST", "sys/remount", body);
      expect({ body, status: reply.status, errors: reply.body.errors }).toEqual({
        body,
        status: 400,
        errors: [error],
      });
    }
    expect(subject.engine.revokeCount(lease)).toBe(0);
  });

  it("needs sudo, as in Vault", async () => {
    const policy = 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list"] }';
    expect((await call("PUT", "sys/policies/acl/no-sudo", { policy })).status).toBe(204);
    const token = (await call("POST", "auth/token/create", { policies: ["no-sudo"] })).body.auth.client_token;
    expect((await call("POST", "sys/remount", { from: "t", to: "t2" }, token)).status).toBe(403);
  });

  it("records a move that fails part-way, leaves the mount in place, and finishes it when asked again", async () => {
    const lease = (await call("GET", "t/creds/app")).body.lease_id;
    subject.engine.behaviour.revoke = () => {
      throw new Error("the backend is unreachable");
    };
    const failed = await call("POST", "sys/remount", { from: "t", to: "t2" });
    expect(failed.status).toBe(503);
    expect((await call("GET", "t/creds/other")).status).toBe(200);
    const listed = await call("LIST", "sys/leases/lookup/");
    expect(listed.body.data.keys).toEqual(["t/"]);

    subject.engine.behaviour.revoke = undefined;
    const finished = await call("POST", "sys/remount", { from: "t", to: "t2" });
    expect(finished.status).toBe(200);
    expect(await status(finished.body.data.migration_id)).toMatchObject({ status: "success" });
    expect(subject.engine.revokeCount(lease)).toBeGreaterThanOrEqual(2);
    expect((await call("LIST", "sys/leases/lookup/")).status).toBe(404);
    expect((await call("GET", "t2/creds/app")).status).toBe(200);
  });
});
