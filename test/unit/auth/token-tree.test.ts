/**
 * Token trees over the Vault API: a token made by another is its child (it records its
 * parent, inherits its identity, never outlives its maximum) and dies with it, whether
 * the parent is revoked (self, by token, by accessor) or expires; orphans need the
 * privilege; revoke-orphan keeps the children; nothing attaches to a token whose
 * revocation started, even in a process that still has it cached; and a revocation that
 * cannot finish answers 503 and is finished by the sweep.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tokenIndexKey, tokenKey } from "../../../shared/auth/tokens/token-keys.ts";
import type { TokenRecord } from "../../../shared/auth/tokens/token-store.ts";
import { RETRY_CAP_MS } from "../../../shared/leases/revocation.ts";
import type { Item } from "../../../shared/store/item-store.ts";
import type { ApiCall } from "../../support/http.ts";
import { type KubernetesCluster, trustCluster } from "../../support/kubernetes-cluster.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../../support/lease-deployment.ts";
import { frozenClock } from "../../support/test-clock.ts";

const TREE_POLICY = `
  path "auth/token/create" { capabilities = ["update"] }
  path "t/creds/*" { capabilities = ["read"] }`;

describe("token trees", () => {
  let subject: LeaseDeployment;
  let call: ApiCall;
  let cluster: KubernetesCluster;

  beforeEach(async () => {
    subject = await openLeaseDeployment({ clock: frozenClock() });
    call = subject.call;
    expect((await call("POST", "sys/policies/acl/tree", { policy: TREE_POLICY })).status).toBe(204);
    cluster = await trustCluster(call, { policies: ["tree"], now: subject.clock.now });
  });
  afterEach(async () => {
    await subject.close();
  });

  /** A token made by `maker` (root when undefined); fails the test unless it is made. */
  async function create(body: Record<string, unknown>, maker?: string, path = "auth/token/create") {
    const reply = await call("POST", path, body, maker);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body.auth as {
      client_token: string;
      accessor: string;
      lease_duration: number;
      orphan: boolean;
    };
  }
  const usable = async (token: string) =>
    (await call("GET", "auth/token/lookup-self", undefined, token)).status;
  const lookup = async (token: string) =>
    (await call("GET", "auth/token/lookup-self", undefined, token)).body.data;
  async function lease(token: string, ttl = 3600): Promise<string> {
    const reply = await call("GET", `t/creds/x?ttl=${ttl}`, undefined, token);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return String(reply.body.lease_id);
  }
  const leaseLive = async (id: string) =>
    (await call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200;

  /** A login, its child, its grandchild, each with a lease. */
  async function threeLevels() {
    const login = await cluster.token("payments", "api");
    const child = (await create({ policies: ["tree"] }, login)).client_token;
    const grandchild = (await create({ policies: ["tree"] }, child)).client_token;
    const tokens = [login, child, grandchild];
    const leases = await Promise.all(tokens.map((token) => lease(token)));
    return { tokens, leases };
  }

  it("makes a token created by another its child: it inherits the identity and dies with its parent", async () => {
    const { tokens, leases } = await threeLevels();
    const [login, child, grandchild] = tokens as [string, string, string];
    expect(await lookup(login)).toMatchObject({ orphan: true, path: "auth/kubernetes/login" });
    const entity = (await lookup(login)).entity_id;
    expect(await lookup(child)).toMatchObject({ orphan: false, entity_id: entity });
    expect(await lookup(grandchild)).toMatchObject({ orphan: false, entity_id: entity });

    expect((await call("POST", "auth/token/revoke-self", undefined, login)).status).toBe(204);
    for (const token of tokens) expect(await usable(token)).toBe(403);
    for (const id of leases) {
      expect(await leaseLive(id)).toBe(false);
      expect(subject.engine.revokeCount(id)).toBe(1);
    }
    expect(await subject.broker.tokens.find(grandchild)).toBeUndefined();
  });

  it("revokes the tree by token and by accessor alike", async () => {
    const byToken = await threeLevels();
    expect((await call("POST", "auth/token/revoke", { token: byToken.tokens[0] })).status).toBe(204);
    const byAccessor = await threeLevels();
    const { accessor } = await lookup(byAccessor.tokens[1] as string);
    expect((await call("POST", "auth/token/revoke-accessor", { accessor })).status).toBe(204);
    for (const token of byToken.tokens) expect(await usable(token)).toBe(403);
    // The child and its grandchild; the login above stays.
    expect(await Promise.all(byAccessor.tokens.map(usable))).toEqual([200, 403, 403]);
    expect(await Promise.all(byAccessor.leases.map(leaseLive))).toEqual([true, false, false]);
  });

  it("never lets a child outlive its parent's maximum", async () => {
    // A parent of 60 s, 120 s at most: its child once got 768 hours and read on after it.
    const parent = await create({ policies: ["tree"], ttl: "60s", explicit_max_ttl: "120s" });
    const child = await create({ policies: ["tree"] }, parent.client_token);
    expect(child.lease_duration).toBe(120);
    expect(await lookup(child.client_token)).toMatchObject({ ttl: 120, explicit_max_ttl: 0 });
    subject.clock.advance(30_000);
    const renewed = await call("POST", "auth/token/renew-self", { increment: "1h" }, child.client_token);
    expect(renewed.body.auth.lease_duration).toBe(90);
    // A child of a token without a maximum of its own still stops at the system's.
    const unbounded = await create(
      { policies: ["tree"] },
      (await create({ policies: ["tree"] })).client_token,
    );
    expect(unbounded.lease_duration).toBe(768 * 3600);
  });

  it("makes orphans only for callers with the privilege", async () => {
    const login = await cluster.token("payments", "api");
    expect(await call("POST", "auth/token/create", { no_parent: true }, login)).toMatchObject({
      status: 400,
      body: { errors: ["root or sudo privileges required to create orphan token"] },
    });
    expect((await call("POST", "auth/token/create-orphan", {}, login)).status).toBe(403);

    // As in Vault, create-orphan needs a policy on its path, no sudo; no_parent needs sudo.
    await call("POST", "sys/policies/acl/orphans", {
      policy: `path "auth/token/create-orphan" { capabilities = ["update"] }
               path "auth/token/create" { capabilities = ["update", "sudo"] }`,
    });
    const maker = (await create({ policies: ["tree", "orphans"] })).client_token;
    const child = await create({ policies: ["tree"] }, maker);
    const viaPath = await create({ policies: ["tree"] }, maker, "auth/token/create-orphan");
    const viaField = await create({ policies: ["tree"], no_parent: true }, maker);
    expect(child.orphan).toBe(false);
    for (const orphan of [viaPath, viaField]) {
      expect(orphan.orphan).toBe(true);
      expect(await lookup(orphan.client_token)).toMatchObject({ orphan: true, entity_id: "" });
    }
    expect((await call("POST", "auth/token/revoke-self", undefined, maker)).status).toBe(204);
    expect(await usable(child.client_token)).toBe(403);
    expect(await usable(viaPath.client_token)).toBe(200);
    expect(await usable(viaField.client_token)).toBe(200);
  });

  it("revoke-orphan needs sudo, revokes the token and its leases, and keeps its children as orphans", async () => {
    const { tokens, leases } = await threeLevels();
    const [login, child, grandchild] = tokens as [string, string, string];
    expect(await call("POST", "auth/token/revoke-orphan", { token: child }, login)).toMatchObject({
      status: 403,
    });
    await call("POST", "sys/policies/acl/orphaner", {
      policy: 'path "auth/token/revoke-orphan" { capabilities = ["update"] }',
    });
    const notSudo = (await create({ policies: ["orphaner"] })).client_token;
    expect(await call("POST", "auth/token/revoke-orphan", { token: child }, notSudo)).toMatchObject({
      status: 400,
      body: { errors: ["root or sudo privileges required to revoke and orphan"] },
    });

    expect((await call("POST", "auth/token/revoke-orphan", { token: child })).status).toBe(204);
    expect(await Promise.all(tokens.map(usable))).toEqual([200, 403, 200]);
    expect(await Promise.all(leases.map(leaseLive))).toEqual([true, false, true]);
    expect(await lookup(grandchild)).toMatchObject({ orphan: true });
    // Made an orphan, the grandchild no longer dies with the login.
    expect((await call("POST", "auth/token/revoke-self", undefined, login)).status).toBe(204);
    expect(await usable(grandchild)).toBe(200);
  });

  it("revokes an expired token's tree and leases in the sweep", async () => {
    const parent = await create({ policies: ["tree"], ttl: "60s" });
    const child = (await create({ policies: ["tree"], ttl: "1h" }, parent.client_token)).client_token;
    const leases = [await lease(parent.client_token), await lease(child)];
    subject.clock.advance(61_000);
    expect(await usable(child)).toBe(200);
    const report = await subject.broker.leases.sweep({ budgetMs: 60_000 });
    expect(report).toMatchObject({ complete: true, tokens_revoked: 2, failed: 0 });
    expect(report.lag_ms_max).toBeGreaterThanOrEqual(1_000);
    expect(await usable(child)).toBe(403);
    expect(await Promise.all(leases.map(leaseLive))).toEqual([false, false]);
    expect((await subject.broker.leases.sweep({ budgetMs: 60_000 })).tokens_due).toBe(0);
  });

  it("lets nothing attach to a token whose revocation started, in any process", async () => {
    const otherCall = (await subject.process()).call;
    const parent = (await create({ policies: ["tree"] })).client_token;
    // The other process has the token cached.
    expect((await otherCall("GET", "auth/token/lookup-self", undefined, parent)).status).toBe(200);
    expect((await call("POST", "auth/token/revoke-self", undefined, parent)).status).toBe(204);

    // Within its cache bound it still knows the token as usable, but can attach nothing to it.
    expect((await otherCall("GET", "auth/token/lookup-self", undefined, parent)).status).toBe(200);
    expect((await otherCall("POST", "auth/token/create", { policies: ["tree"] }, parent)).status).toBe(403);
    expect((await otherCall("GET", "t/creds/x", undefined, parent)).status).toBe(403);
    expect(subject.engine.revokeCalls).toEqual([]);
  });

  it("answers 503 while a lease of the tree cannot be revoked, and the sweep finishes the tree", async () => {
    const { tokens, leases } = await threeLevels();
    subject.engine.behaviour.revoke = () => {
      throw new Error("the backend is down");
    };
    const revoked = await call("POST", "auth/token/revoke", { token: tokens[0] });
    expect(revoked.status).toBe(503);
    expect(revoked.headers.get("retry-after")).not.toBeNull();
    expect(revoked.body.errors[0]).toMatch(
      /^the token is revoked and can no longer be used, but .*the backend is down/,
    );
    for (const token of tokens) expect(await usable(token)).toBe(403);

    subject.engine.behaviour.revoke = undefined;
    subject.clock.advance(RETRY_CAP_MS);
    const report = await subject.broker.leases.sweep({ budgetMs: 60_000 });
    expect(report).toMatchObject({ complete: true, failed: 0 });
    expect(await Promise.all(leases.map(leaseLive))).toEqual([false, false, false]);
    for (const token of tokens) expect(await subject.broker.tokens.find(token)).toBeUndefined();
    // A retry of the request now sees it finished.
    expect((await call("POST", "auth/token/revoke", { token: tokens[0] })).status).toBe(204);
  });

  it("keeps tokens stored before trees working: lookups, children, renewal into the index, revocation", async () => {
    /** A token as stored before trees: none of the newer attributes, no token index entry. */
    async function legacy(ttl: number): Promise<string> {
      const { token, record } = await subject.broker.tokens.create({
        policies: ["default", "tree"],
        displayName: "token-old",
        path: "auth/token/create",
        ttl,
        maxTtl: 768 * 3600,
      });
      const item = (await subject.broker.store.get(tokenKey(record.hmac))) as Item;
      const newer = ["ttl", "explicit_max_ttl", "period", "num_uses", "last_renewed_at", "parent", "role"];
      const kept = Object.fromEntries(
        Object.entries(item).filter(
          ([name]) => ![...newer, "state", "revoke_mode", "revision", "due_at", "attempts"].includes(name),
        ),
      ) as Item;
      await subject.broker.store.write([
        { op: "put", item: kept },
        { op: "delete", key: tokenIndexKey(record.accessor, record.dueAt) },
      ]);
      subject.broker.tokens.forget(record.hmac);
      return token;
    }
    const old = await legacy(3600);
    expect(await lookup(old)).toMatchObject({ orphan: true, explicit_max_ttl: 0, ttl: 3600 });
    const child = (await create({ policies: ["tree"] }, old)).client_token;
    expect((await call("POST", "auth/token/revoke-self", undefined, old)).status).toBe(204);
    expect(await usable(child)).toBe(403);

    // Renewed, it gets its entry in the token index, and its expiry revokes it.
    const renewedOld = await legacy(600);
    expect((await call("POST", "auth/token/renew-self", { increment: 60 }, renewedOld)).status).toBe(200);
    const grandchild = (await create({ policies: ["tree"] }, renewedOld)).client_token;
    subject.clock.advance(61_000);
    expect(await subject.broker.leases.sweep({ budgetMs: 60_000 })).toMatchObject({ tokens_revoked: 2 });
    expect(await usable(grandchild)).toBe(403);
  });

  it("starts no work queued behind the pass's limits once its deadline has come", async () => {
    const root = await create({ policies: ["tree"] });
    const children = [];
    for (let i = 0; i < 20; i++)
      children.push((await create({ policies: ["tree"] }, root.client_token)).client_token);
    for (const child of children) await lease(child);
    // The first lease revocation takes the pass past its deadline: the ones waiting their turn must not start.
    subject.engine.behaviour.revoke = () => {
      subject.clock.advance(10_000);
      return undefined;
    };
    const record = (await subject.broker.tokens.lookup(root.client_token)) as TokenRecord;
    const outcome = await subject.broker.tokens.revoke(record, { deadline: subject.clock.now() + 5_000 });
    expect(outcome.complete).toBe(false);
    expect(subject.engine.revokeCalls.length).toBeLessThanOrEqual(4);
    subject.engine.behaviour.revoke = undefined;
    expect(await subject.broker.leases.sweep({ budgetMs: 60_000 })).toMatchObject({ complete: true });
    for (const child of children) expect(await subject.broker.tokens.find(child)).toBeUndefined();
  });

  it("resumes in the sweep a revocation cut short by its deadline", async () => {
    const { tokens, leases } = await threeLevels();
    const login = (await subject.broker.tokens.lookup(tokens[0] as string)) as TokenRecord;
    const outcome = await subject.broker.tokens.revoke(login, { deadline: subject.clock.now() });
    expect(outcome).toMatchObject({ complete: false, revoked: 0 });
    expect(await usable(tokens[0] as string)).toBe(403);
    expect(await usable(tokens[1] as string)).toBe(200);

    const report = await subject.broker.leases.sweep({ budgetMs: 60_000 });
    expect(report).toMatchObject({ complete: true, tokens_due: 1, tokens_revoked: 3 });
    for (const token of tokens) expect(await subject.broker.tokens.find(token)).toBeUndefined();
    expect(await Promise.all(leases.map(leaseLive))).toEqual([false, false, false]);
  });
});
