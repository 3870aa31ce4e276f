/**
 * A lease belongs to the token that obtained it: it records the token's accessor, which
 * sys/leases/lookup shows to callers with sudo there (and to no one else), and it is not
 * renewed once that token's revocation has started, even before the revocation reached
 * the lease itself.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TokenRecord } from "../../../shared/auth/tokens/token-store.ts";
import type { ApiCall } from "../../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";

describe("lease ownership", () => {
  let subject: LeaseDeployment;
  let call: ApiCall;
  let holder: { client_token: string; accessor: string };
  let leaseId: string;

  beforeEach(async () => {
    subject = await openLeaseDeployment();
    call = subject.call;
    await call("POST", "sys/policies/acl/holder", {
      policy: `path "t/creds/*" { capabilities = ["read"] }
               path "sys/leases/lookup" { capabilities = ["update"] }`,
    });
    holder = (await call("POST", "auth/token/create", { policies: ["holder"] })).body.auth;
    leaseId = (await call("GET", "t/creds/x", undefined, holder.client_token)).body.lease_id;
  });
  afterEach(async () => {
    await subject.close();
  });

  it("shows the accessor of the lease's token to callers with sudo on sys/leases/lookup only", async () => {
    const asRoot = await call("PUT", "sys/leases/lookup", { lease_id: leaseId });
    expect(asRoot.body.data).toMatchObject({ id: leaseId, token_accessor: holder.accessor });
    const asHolder = await call("PUT", "sys/leases/lookup", { lease_id: leaseId }, holder.client_token);
    expect(asHolder.status).toBe(200);
    expect(asHolder.body.data).not.toHaveProperty("token_accessor");
    await call("POST", "sys/policies/acl/auditor", {
      policy: 'path "sys/leases/lookup" { capabilities = ["update", "sudo"] }',
    });
    const auditor = (await call("POST", "auth/token/create", { policies: ["auditor"] })).body.auth
      .client_token;
    const asAuditor = await call("PUT", "sys/leases/lookup", { lease_id: leaseId }, auditor);
    expect(asAuditor.body.data.token_accessor).toBe(holder.accessor);
  });

  it("refuses to renew a lease once its token's revocation has started", async () => {
    expect((await call("PUT", "sys/leases/renew", { lease_id: leaseId })).status).toBe(200);
    const record = (await subject.broker.tokens.lookup(holder.client_token)) as TokenRecord;
    // Marked, its tree not walked yet: the lease is still there.
    const outcome = await subject.broker.tokens.revoke(record, { deadline: subject.clock.now() });
    expect(outcome.complete).toBe(false);
    expect((await call("PUT", "sys/leases/lookup", { lease_id: leaseId })).status).toBe(200);
    expect(await call("PUT", "sys/leases/renew", { lease_id: leaseId })).toMatchObject({
      status: 400,
      body: { errors: ["the token that obtained the lease has been revoked"] },
    });
    expect(subject.engine.renewCalls).toHaveLength(1);
  });
});
