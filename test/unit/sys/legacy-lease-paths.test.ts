/**
 * The lease endpoints at Vault's paths from before sys/leases/ (sys/renew, sys/revoke,
 * sys/revoke-prefix, sys/revoke-force): the same fields, answers and sudo rules as their
 * sys/leases/ counterparts, since some clients call no other.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiCall } from "../../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";

let subject: LeaseDeployment;
let call: ApiCall;

async function issue(name: string): Promise<string> {
  const reply = await call("GET", `t/creds/${name}`);
  expect(reply.status).toBe(200);
  return reply.body.lease_id;
}

beforeEach(async () => {
  subject = await openLeaseDeployment();
  call = subject.call;
});

describe("legacy lease paths", () => {
  it("renews at sys/renew and sys/renew/:lease_id", async () => {
    const id = await issue("a");
    const byBody = await call("PUT", "sys/renew", { lease_id: id, increment: 120 });
    expect(byBody.status).toBe(200);
    expect(byBody.body).toMatchObject({ lease_id: id, renewable: true, lease_duration: 120 });
    const byPath = await call("PUT", `sys/renew/${id}`, { increment: 90 });
    expect(byPath.body).toMatchObject({ lease_id: id, lease_duration: 90 });
  });

  it("revokes at sys/revoke and sys/revoke/:lease_id", async () => {
    const first = await issue("a");
    const second = await issue("b");
    expect((await call("PUT", "sys/revoke", { lease_id: first })).status).toBe(204);
    expect((await call("PUT", `sys/revoke/${second}`)).status).toBe(204);
    expect(subject.engine.revokeCount(first)).toBe(1);
    expect(subject.engine.revokeCount(second)).toBe(1);
  });

  it("revokes by prefix at sys/revoke-prefix and sys/revoke-force, with sudo", async () => {
    const app = await issue("app");
    const other = await issue("other");
    expect((await call("PUT", "sys/revoke-prefix/t/creds/app")).status).toBe(204);
    expect(subject.engine.revokeCount(app)).toBe(1);
    expect(subject.engine.revokeCount(other)).toBe(0);

    subject.engine.behaviour.revoke = () => {
      throw new Error("the engine cannot reach its backend");
    };
    expect((await call("PUT", "sys/revoke-prefix/t/creds")).status).toBe(503);
    expect((await call("PUT", "sys/revoke-force/t/creds")).status).toBe(204);
    expect((await call("PUT", "sys/leases/lookup", { lease_id: other })).status).toBe(400);

    // Without sudo, as in Vault, even with every other capability on the path.
    const policy = 'path "sys/*" { capabilities = ["create", "read", "update", "delete", "list"] }';
    expect((await call("PUT", "sys/policies/acl/no-sudo", { policy })).status).toBe(204);
    const token = (await call("POST", "auth/token/create", { policies: ["no-sudo"] })).body.auth.client_token;
    expect((await call("PUT", "sys/revoke-prefix/t/creds", undefined, token)).status).toBe(403);
    expect((await call("PUT", "sys/revoke-force/t/creds", undefined, token)).status).toBe(403);
  });
});
