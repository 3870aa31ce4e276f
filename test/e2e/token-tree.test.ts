/**
 * Trees of secrets die together, end to end: a Kubernetes login, the token it made, and
 * the token that one made, each holding STS credentials (moto) and a PostgreSQL user (a
 * real server) and reading KV and transit. Revoking the root of the tree, disabling its
 * auth mount, revoke-identity, and the root's plain expiry each leave no live token, no
 * live lease, no PostgreSQL user and a Deny for every STS session, while the trees of
 * others are untouched; revoke-orphan leaves the children alive.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { createRevoker } from "../../functions/revoker.ts";
import { type AwsFixture, openAwsFixture } from "../support/aws-engine-fixture.ts";
import { READ_ONLY_CREATION } from "../support/database-fixture.ts";
import { type KubernetesCluster, trustCluster } from "../support/kubernetes-cluster.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";
import { postgresAvailable, usePostgres } from "../support/postgres.ts";

const TREE_POLICY = `
  path "auth/token/create" { capabilities = ["update"] }
  path "aws/creds/app" { capabilities = ["read"] }
  path "database/creds/reader" { capabilities = ["read"] }
  path "secret/data/tree/*" { capabilities = ["read"] }
  path "transit/encrypt/tree" { capabilities = ["update"] }`;

interface Holding {
  token: string;
  /** STS and database leases. */
  leases: string[];
  /** The aws:userid of its STS session. */
  session: string;
  /** Its PostgreSQL user. */
  user: string;
}

describe.skipIf(!motoAvailable() || !postgresAvailable())("token trees across every engine", () => {
  const moto = useMoto();
  const postgres = usePostgres();
  let aws: AwsFixture;
  let clusters: Record<string, KubernetesCluster>;

  beforeEach(async () => {
    aws = await openAwsFixture(moto);
    const { call } = aws;
    const ok = async (reply: Promise<{ status: number; body: unknown }>) => {
      const { status, body } = await reply;
      expect(status, JSON.stringify(body)).toBeLessThan(300);
    };
    await ok(
      call("POST", "aws/roles/app", { credential_type: "assumed_role", role_arns: [aws.roles.app!.arn] }),
    );
    for (const { rolname } of await postgres.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname LIKE 'v-%'",
    )) {
      await postgres.query(`DROP OWNED BY "${rolname}"; DROP ROLE "${rolname}"`);
    }
    await postgres.query("DROP TABLE IF EXISTS app_data");
    await postgres.query("CREATE TABLE app_data (id int PRIMARY KEY, secret text)");
    await ok(call("POST", "sys/mounts/database", { type: "database" }));
    await ok(
      call("POST", "database/config/pg", {
        plugin_name: "postgresql-database-plugin",
        connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}`,
        username: postgres.user,
        password: postgres.password,
        allowed_roles: "*",
      }),
    );
    await ok(
      call("POST", "database/roles/reader", {
        db_name: "pg",
        creation_statements: READ_ONLY_CREATION,
        default_ttl: "1h",
      }),
    );
    await ok(call("POST", "sys/mounts/transit", { type: "transit" }));
    await ok(call("POST", "transit/keys/tree"));
    await ok(call("POST", "secret/data/tree/config", { data: { level: "any" } }));
    await ok(call("POST", "sys/policies/acl/tree", { policy: TREE_POLICY }));
    clusters = {};
    for (const mount of ["kubernetes", "k8s-other"]) {
      clusters[mount] = await trustCluster(call, { mount, policies: ["tree"], now: aws.clock.now });
      // Logins through "short" live 15 minutes, well inside their STS sessions' hour.
      await ok(
        call("POST", `auth/${mount}/role/short`, {
          bound_service_account_names: "*",
          bound_service_account_namespaces: "*",
          audience: "coffer",
          token_policies: ["tree"],
          token_ttl: "15m",
        }),
      );
    }
  }, 120_000);

  /** What a token of the tree holds and uses: STS credentials, a database user, KV and transit. */
  async function hold(token: string): Promise<Holding> {
    const sts = await aws.call("GET", "aws/creds/app", undefined, token);
    expect(sts.status, JSON.stringify(sts.body)).toBe(200);
    const db = await aws.call("GET", "database/creds/reader", undefined, token);
    expect(db.status, JSON.stringify(db.body)).toBe(200);
    expect((await aws.call("GET", "secret/data/tree/config", undefined, token)).status).toBe(200);
    expect((await aws.call("POST", "transit/encrypt/tree", { plaintext: "aGk=" }, token)).status).toBe(200);
    return {
      token,
      leases: [sts.body.lease_id, db.body.lease_id],
      session: `${aws.roles.app!.id}:${String(sts.body.data.arn).split("/").pop()}`,
      user: db.body.data.username,
    };
  }

  /** A login through `mount` as `name`, its child and its grandchild, each holding everything. */
  async function tree(mount: string, name: string, role = "workload"): Promise<Holding[]> {
    const login = await clusters[mount]!.token("payments", name, role);
    const child = (await aws.call("POST", "auth/token/create", { policies: ["tree"] }, login)).body.auth
      .client_token;
    const grandchild = (await aws.call("POST", "auth/token/create", { policies: ["tree"] }, child)).body.auth
      .client_token;
    const holdings: Holding[] = [];
    for (const token of [login, child, grandchild]) holdings.push(await hold(token));
    return holdings;
  }

  const tokenUsable = async (token: string) =>
    (await aws.call("GET", "auth/token/lookup-self", undefined, token)).status === 200;
  const leaseLive = async (id: string) =>
    (await aws.call("PUT", "sys/leases/lookup", { lease_id: id })).status === 200;
  async function userExists(user: string) {
    return (await postgres.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user])).length > 0;
  }
  async function denied(): Promise<string[]> {
    const statement = (await aws.denyPolicy("app"))?.Statement[0];
    return (statement?.Condition.StringEquals?.["aws:userid"] as string[] | undefined) ?? [];
  }

  /**
   * A revocation answered: 204 when the request saw it all ended, or 503 when its budget
   * ran out first (moto serves one call at a time, and slowly), the tokens unusable
   * already; then the revoker's sweep must finish it.
   */
  async function finished(reply: { status: number; body: { errors?: string[] } }) {
    if (reply.status === 503) {
      expect(reply.body.errors?.[0]).toMatch(/can no longer be used, but the revocation is not finished/);
      const report = await createRevoker(aws.broker, () => {})(
        {},
        { getRemainingTimeInMillis: () => 120_000 },
      );
      expect(report).toMatchObject({ complete: true, failed: 0 });
    } else {
      expect(reply.status, JSON.stringify(reply.body)).toBe(204);
    }
  }

  /** Nothing of the tree is left alive: tokens, leases, users, sessions. */
  async function expectGone(holdings: Holding[]) {
    const deny = await denied();
    for (const held of holdings) {
      expect(await tokenUsable(held.token)).toBe(false);
      expect(await aws.broker.tokens.find(held.token)).toBeUndefined();
      expect((await aws.call("GET", "secret/data/tree/config", undefined, held.token)).status).toBe(403);
      expect((await aws.call("POST", "transit/encrypt/tree", { plaintext: "aGk=" }, held.token)).status).toBe(
        403,
      );
      for (const id of held.leases) expect(await leaseLive(id)).toBe(false);
      expect(await userExists(held.user)).toBe(false);
      expect(deny).toContain(held.session);
    }
  }

  /** Everything of the tree is alive. */
  async function expectAlive(holdings: Holding[]) {
    const deny = await denied();
    for (const held of holdings) {
      expect(await tokenUsable(held.token)).toBe(true);
      for (const id of held.leases) expect(await leaseLive(id)).toBe(true);
      expect(await userExists(held.user)).toBe(true);
      expect(deny).not.toContain(held.session);
    }
  }

  it("revokes the whole tree with its root", async () => {
    const doomed = await tree("kubernetes", "api");
    const bystander = await tree("kubernetes", "web");
    await finished(await aws.call("POST", "auth/token/revoke-self", undefined, doomed[0]!.token));
    await expectGone(doomed);
    await expectAlive(bystander);
  }, 120_000);

  it("revokes every tree of an auth mount when it is disabled", async () => {
    const doomed = [...(await tree("k8s-other", "api")), ...(await tree("k8s-other", "web"))];
    const bystander = await tree("kubernetes", "api");
    let disabled = await aws.call("DELETE", "sys/auth/k8s-other");
    // A 503 keeps the mount for another try, which resumes where this one stopped.
    for (let tries = 1; disabled.status === 503 && tries < 5; tries++) {
      disabled = await aws.call("DELETE", "sys/auth/k8s-other");
    }
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(204);
    await expectGone(doomed);
    await expectAlive(bystander);
  }, 120_000);

  it("revokes every tree of an identity with revoke-identity", async () => {
    const doomed = await tree("kubernetes", "api");
    const bystander = await tree("kubernetes", "web");
    const entity = (await aws.call("GET", "auth/token/lookup-self", undefined, doomed[0]!.token)).body.data
      .entity_id;
    await finished(await aws.call("PUT", "sys/leases/revoke-identity", { entity_id: entity }));
    await expectGone(doomed);
    await expectAlive(bystander);
  }, 120_000);

  it("revokes the tree when its root expires, in the revoker's sweep", async () => {
    const doomed = await tree("kubernetes", "api", "short");
    const bystander = await tree("kubernetes", "web");
    aws.clock.advance(16 * 60_000);
    const report = await createRevoker(aws.broker, () => {})({}, { getRemainingTimeInMillis: () => 60_000 });
    expect(report).toMatchObject({ complete: true, failed: 0, tokens_revoked: 3 });
    await expectGone(doomed);
    await expectAlive(bystander);
  }, 120_000);

  it("keeps the children alive, as orphans, with revoke-orphan", async () => {
    const [login, child, grandchild] = (await tree("kubernetes", "api")) as [Holding, Holding, Holding];
    await finished(await aws.call("POST", "auth/token/revoke-orphan", { token: child.token }));
    await expectGone([child]);
    await expectAlive([login, grandchild]);
    expect(
      (await aws.call("GET", "auth/token/lookup-self", undefined, grandchild.token)).body.data.orphan,
    ).toBe(true);
    // The orphan no longer dies with the login.
    await finished(await aws.call("POST", "auth/token/revoke-self", undefined, login.token));
    await expectGone([login]);
    await expectAlive([grandchild]);
  }, 120_000);
});
