/**
 * Revocation when the network between Coffer and AWS fails, and when requests race, over
 * real HTTP: every AWS call of the broker (DynamoDB, KMS, STS, IAM) goes through a fault
 * proxy in front of moto (test/support/fault-proxy.ts), which resets connections before or
 * after moto applied a request, answers errors in each service's own format, or holds a
 * request until the test lets it go.
 *
 * What must hold whatever fails: a revoke answers 204 only once the credential is ended
 * (the session denied in IAM, the database user dropped) and recorded; otherwise 503 with
 * Retry-After naming the lease. A revocation left half-done is finished by a later sweep.
 * A renewal never brings back a lease whose credential a revoker may have ended.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXPIRY_GRACE_MS } from "../../shared/engines/aws/sts-lease.ts";
import { type Lease, leaseFromItem } from "../../shared/leases/lease.ts";
import { leaseKey } from "../../shared/leases/lease-keys.ts";
import { CLAIM_MS } from "../../shared/leases/revocation.ts";
import { createDynamoDbStore, createTable } from "../../shared/store/dynamodb.ts";
import { type AwsFixture, openAwsFixture } from "../support/aws-engine-fixture.ts";
import {
  type DatabaseFixture,
  openDatabaseFixture,
  READ_ONLY_CREATION,
} from "../support/database-fixture.ts";
import { type FaultProxy, type ProxiedRequest, setsClaim, startFaultProxy } from "../support/fault-proxy.ts";
import { type ApiCall, httpCaller, type LoopbackServer, serveOnLoopback } from "../support/http.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";
import { postgresAvailable, usePostgres } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";

/** A write that records an early revocation: the lease kept, invisible, until its clean-up. */
const recordsRevokedLease = (request: ProxiedRequest) =>
  request.service === "dynamodb" &&
  request.operation === "TransactWriteItems" &&
  request.body.includes('"state":{"S":"revoked"}');

describe.skipIf(!motoAvailable())("revoking STS credentials while the network fails", () => {
  const moto = useMoto();
  let proxy: FaultProxy;
  let aws: AwsFixture;
  let server: LoopbackServer;
  let http: ApiCall;

  beforeAll(async () => {
    proxy = await startFaultProxy(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
  });
  beforeEach(async () => {
    proxy.clear();
    aws = await openAwsFixture(moto, {}, proxy.endpoint);
    server = await serveOnLoopback(aws.app);
    http = httpCaller(server.address, aws.rootToken);
    const role = await http("POST", "aws/roles/app", {
      credential_type: "assumed_role",
      role_arns: [aws.roles.app!.arn],
    });
    expect(role.status).toBe(204);
  }, 60_000);
  afterEach(async () => {
    proxy.clear();
    await server?.close();
  });

  /** New credentials: the lease id and the session's aws:userid. */
  async function credentials(): Promise<{ id: string; userId: string }> {
    const creds = await http("GET", "aws/creds/app");
    expect(creds.status).toBe(200);
    return {
      id: creds.body.lease_id,
      userId: `${aws.roles.app!.id}:${creds.body.data.arn.split("/").pop()}`,
    };
  }

  const deniedSessions = async () =>
    (await aws.denyPolicy("app"))?.Statement.find((statement) => statement.Sid === "CofferRevokedSessions")
      ?.Condition.StringEquals?.["aws:userid"] ?? [];

  /** The lease item as it is in the table, read past the proxy. */
  async function stored(id: string): Promise<Lease | undefined> {
    const item = await aws.broker.store.get(leaseKey(id));
    return item && leaseFromItem(item);
  }

  it("recognises its own claim when the claim's answer is lost, and answers 204 with the session denied", async () => {
    const { id, userId } = await credentials();
    // moto applies the claim; the connection resets; the SDK retries and the condition fails.
    const lost = proxy.inject({ match: setsClaim, fault: { kind: "reset-after" }, times: 1 });
    const reply = await http("PUT", `sys/leases/revoke/${id}`);
    expect(lost.applied()).toBe(1);
    expect(reply.status).toBe(204);
    expect(await deniedSessions()).toEqual([userId]);
    expect(await http("PUT", "sys/leases/lookup", { lease_id: id })).toMatchObject({
      status: 400,
      body: { errors: ["invalid lease"] },
    });
    expect(aws.logs.filter((event) => event.level === "error")).toEqual([]);
  });

  it("recognises its own final write when that answer is lost", async () => {
    const { id, userId } = await credentials();
    const lost = proxy.inject({ match: recordsRevokedLease, fault: { kind: "reset-after" }, times: 1 });
    expect((await http("PUT", `sys/leases/revoke/${id}`)).status).toBe(204);
    expect(lost.applied()).toBe(1);
    expect(await deniedSessions()).toEqual([userId]);
    expect(await stored(id)).toMatchObject({ state: "revoked", claim: null });
    expect(aws.logs.filter((event) => event.level === "error")).toEqual([]);
  });

  it("leaves an interrupted revocation due when its claim runs out, and the sweep then finishes it", async () => {
    const { id, userId } = await credentials();
    // The claim lands, then DynamoDB is gone for this request: it ends with a 503.
    const lost = proxy.inject({ match: setsClaim, fault: { kind: "reset-after" }, times: 1 });
    proxy.inject({
      match: (request) => request.service === "dynamodb" && lost.applied() > 0,
      fault: { kind: "reset-before" },
    });
    const reply = await http("PUT", `sys/leases/revoke/${id}`);
    expect(reply.status).toBe(503);
    expect(reply.headers.get("retry-after")).toBe("1");
    proxy.clear();
    const claimed = (await stored(id)) as Lease;
    expect(claimed.claim).not.toBeNull();
    expect(claimed.dueAt).toBeLessThanOrEqual(claimed.claim!.until);

    aws.clock.advance(CLAIM_MS + 1_000);
    const report = await aws.broker.leases.sweep({ budgetMs: 10_000 });
    expect(report).toMatchObject({ due: 1, revoked_early: 1, failed: 0 });
    expect(await deniedSessions()).toEqual([userId]);
    expect(await http("PUT", "sys/leases/lookup", { lease_id: id })).toMatchObject({ status: 400 });
  });

  it("answers a retry after a 503 with 503 while the first request's claim holds, and the clean-up still runs", async () => {
    const { id, userId } = await credentials();
    // The first request denies the session in IAM, then cannot record it: every attempt fails.
    proxy.inject({
      match: recordsRevokedLease,
      fault: { kind: "error", status: 500, code: "InternalServerError", message: "Internal server error" },
    });
    const first = await http("PUT", `sys/leases/revoke/${id}`);
    expect(first.status).toBe(503);
    expect(await deniedSessions()).toEqual([userId]);
    proxy.clear();

    // The retry cannot see that revocation finished: it waits for the claim, then says so.
    const retry = await http("PUT", `sys/leases/revoke/${id}`);
    expect(retry.status).toBe(503);
    expect(retry.headers.get("retry-after")).toBe("1");
    expect(retry.body.errors[0]).toContain(id);
    expect(retry.body.errors[0]).toMatch(/still being revoked/);

    // The claim runs out; the next sweep revokes again (a second Deny of the same session).
    aws.clock.advance(CLAIM_MS + 1_000);
    expect(await aws.broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({
      revoked_early: 1,
      failed: 0,
    });
    expect((await http("PUT", `sys/leases/revoke/${id}`)).status).toBe(204);
    expect(await deniedSessions()).toEqual([userId]);

    // Once the credentials have expired, the clean-up prunes the deny entry and the lease.
    aws.clock.advance(3_600_000 + EXPIRY_GRACE_MS);
    expect(await aws.broker.leases.sweep({ budgetMs: 10_000 })).toMatchObject({ revoked: 1, failed: 0 });
    expect(await aws.denyPolicy("app")).toBeUndefined();
    expect(await stored(id)).toBeUndefined();
  });
});

describe.skipIf(!motoAvailable() || !postgresAvailable())(
  "renewing a database lease while it is revoked",
  () => {
    const moto = useMoto();
    const postgres = usePostgres();
    let proxy: FaultProxy;
    let db: DatabaseFixture;
    let server: LoopbackServer;
    let http: ApiCall;
    let tables = 0;

    beforeAll(async () => {
      proxy = await startFaultProxy(moto.endpoint);
    });
    afterAll(async () => {
      await proxy?.close();
    });
    beforeEach(async () => {
      proxy.clear();
      // Requests must be able to pass one another here (one is held at the proxy), so the
      // client is not limited to one connection; the test never runs two transactions at once.
      const client = new DynamoDBClient({ ...motoClientConfig(moto), endpoint: proxy.endpoint });
      const tableName = `renew-race-${++tables}`;
      await createTable(client, tableName);
      db = await openDatabaseFixture(
        postgres,
        {},
        { store: createDynamoDbStore({ client, tableName }), storage: "dynamodb" },
      );
      server = await serveOnLoopback(db.app);
      http = httpCaller(server.address, db.rootToken);
      const role = await http("POST", "database/roles/reader", {
        db_name: "pg",
        creation_statements: READ_ONLY_CREATION,
        default_ttl: 7200,
      });
      expect(role.status).toBe(204);
    }, 60_000);
    afterEach(async () => {
      proxy.clear();
      await server?.close();
      await db?.close();
    });

    it("refuses a renewal while a revoker holds the lease, so the revocation's delete stands", async () => {
      const creds = await http("GET", "database/creds/reader");
      expect(creds.status).toBe(200);
      const id: string = creds.body.lease_id;
      expect(await db.generatedUsers()).toEqual([creds.body.data.username]);

      // Hold the revoker right after its claim is applied, before it drops the user.
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      proxy.inject({ match: setsClaim, fault: { kind: "delay", phase: "after", until: gate }, times: 1 });
      const revoking = http("PUT", `sys/leases/revoke/${id}`);
      await waitFor("the claim to be applied", async () => {
        const item = await db.broker.store.get(leaseKey(id));
        return item?.claim ? true : undefined;
      });

      const renew = await http("PUT", "sys/leases/renew", { lease_id: id, increment: 7200 });
      release();
      const revoked = await revoking;

      expect(renew).toMatchObject({ status: 400, body: { errors: ["lease is being revoked"] } });
      expect(revoked.status).toBe(204);
      // Neither a lease without its user nor a user without its lease.
      expect(await http("PUT", "sys/leases/lookup", { lease_id: id })).toMatchObject({ status: 400 });
      expect(await db.generatedUsers()).toEqual([]);
      expect(await db.leaseItems()).toBe(0);
    });
  },
);
