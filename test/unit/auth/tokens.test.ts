/**
 * The token store over the Vault API: create (with Vault's subset rule), lookup and
 * revoke by token and by accessor, renew, expiry, the `default` policy, and the
 * per-process cache bound (TOKEN_CACHE_MS) between two processes of one deployment.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_TOKEN_TTL_S, TOKEN_CACHE_MS } from "../../../shared/auth/tokens/token-store.ts";
import { openSqliteStore } from "../../../shared/store/sqlite.node.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { frozenClock } from "../../support/test-clock.ts";

describe("token store", () => {
  let deployment: Deployment;

  beforeEach(async () => {
    deployment = await openDeployment({ clock: frozenClock() });
    await deployment.call("POST", "sys/policies/acl/app", {
      policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
    });
  });
  afterEach(async () => {
    await deployment.close();
  });

  const create = (body: Record<string, unknown>, token?: string) =>
    deployment.call("POST", "auth/token/create", body, token);

  it("creates a token with Vault's auth block, adding the default policy", async () => {
    const { status, body } = await create({
      policies: ["app"],
      ttl: "1h",
      meta: { team: "a" },
      display_name: "CI Bot",
    });
    expect(status).toBe(200);
    expect(body.auth).toMatchObject({
      client_token: expect.stringMatching(/^cof\./),
      accessor: expect.any(String),
      policies: ["app", "default"],
      token_policies: ["app", "default"],
      metadata: { team: "a" },
      lease_duration: 3600,
      renewable: true,
      token_type: "service",
    });
    const lookup = await deployment.call("GET", "auth/token/lookup-self", undefined, body.auth.client_token);
    expect(lookup.body.data).toMatchObject({
      display_name: "token-ci-bot",
      policies: ["app", "default"],
      ttl: 3600,
    });
  });

  it("honours no_default_policy, explicit_max_ttl and the system maximum", async () => {
    const { body } = await create({
      policies: "app",
      no_default_policy: true,
      ttl: "48h",
      explicit_max_ttl: "2h",
    });
    expect(body.auth).toMatchObject({ policies: ["app"], lease_duration: 7200 });
    const long = await create({ policies: ["app"], ttl: `${MAX_TOKEN_TTL_S + 10}` });
    expect(long.body.auth.lease_duration).toBe(MAX_TOKEN_TTL_S);
    const child = await create({});
    expect(child.body.auth.policies).toEqual(["root"]);
    expect(child.body.auth.lease_duration).toBe(0);
  });

  it("lets a non-root caller hand out only policies it holds", async () => {
    const parent = (await create({ policies: ["app"] })).body.auth.client_token;
    await deployment.call("POST", "sys/policies/acl/minter", {
      policy: 'path "auth/token/create" { capabilities = ["update"] }',
    });
    const minter = (await create({ policies: ["app", "minter"] })).body.auth.client_token;
    expect((await create({ policies: ["app"] }, parent)).status).toBe(403);
    const subset = await create({ policies: ["app"] }, minter);
    expect(subset.status).toBe(200);
    expect(subset.body.auth.policies).toEqual(["app", "default"]);
    const escalation = await create({ policies: ["root"] }, minter);
    expect(escalation).toMatchObject({
      status: 400,
      body: { errors: ["child policies must be subset of parent"] },
    });
    expect((await create({ policies: ["other"] }, minter)).status).toBe(400);
  });

  it("refuses fields it does not support with a clear 400", async () => {
    for (const [body, fragment] of [
      [{ type: "batch" }, "only service tokens"],
      [{ id: "my-token" }, '"id" is not supported'],
      [{ entity_alias: "ops" }, "'entity_alias' is only allowed in combination with token role"],
      [{ ttl: "forever" }, 'invalid value for "ttl"'],
      [{ meta: { a: 1 } }, 'invalid value for "meta.a"'],
      [{ policies: ["bad/name"] }, "invalid policy name"],
    ] as const) {
      const { status, body: reply } = await create(body as Record<string, unknown>);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(reply.errors?.[0]).toContain(fragment);
    }
  });

  it("accepts Vault's fields it does not use, and ignores fields Vault does not know with a warning", async () => {
    // Clients send every field of Vault's schema: empty ones, and lease (ttl's old name).
    const created = await create({ id: "", lease: "1h", entity_alias: "", mount_point: "token" });
    expect(created.status).toBe(200);
    expect(created.body.auth.lease_duration).toBe(3600);
    expect(created.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [mount_point]"]);
    // ttl wins over lease, as in Vault.
    expect((await create({ ttl: "2h", lease: "1h" })).body.auth.lease_duration).toBe(7200);
  });

  it("looks tokens up and revokes them by token and by accessor", async () => {
    const { client_token: token, accessor } = (await create({ policies: ["app"] })).body.auth;
    const byToken = await deployment.call("POST", "auth/token/lookup", { token });
    expect(byToken.body.data).toMatchObject({ id: token, accessor, policies: ["app", "default"] });
    const byAccessor = await deployment.call("POST", "auth/token/lookup-accessor", { accessor });
    expect(byAccessor.body.data).toMatchObject({ id: "", accessor });

    expect((await deployment.call("POST", "auth/token/revoke-accessor", { accessor })).status).toBe(204);
    expect((await deployment.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
    expect(await deployment.call("POST", "auth/token/lookup", { token })).toMatchObject({
      status: 403,
      body: { errors: ["bad token"] },
    });
    // As in Vault: an accessor that names no token is answered with a warning.
    expect(await deployment.call("POST", "auth/token/revoke-accessor", { accessor })).toMatchObject({
      status: 200,
      body: { warnings: ["No token found with this accessor"] },
    });
    expect(await deployment.call("POST", "auth/token/lookup-accessor", { accessor })).toMatchObject({
      status: 400,
      body: { errors: ["invalid accessor"] },
    });

    const second = (await create({ policies: ["app"] })).body.auth.client_token;
    expect((await deployment.call("POST", "auth/token/revoke", { token: second })).status).toBe(204);
    expect((await deployment.call("POST", "auth/token/revoke", { token: second })).status).toBe(204);
    expect((await deployment.call("POST", "sys/capabilities-self", { path: "x" }, second)).status).toBe(403);
  });

  it("needs a policy for lookup, revoke and create of other tokens", async () => {
    const { client_token: token, accessor } = (await create({ policies: ["app"] })).body.auth;
    expect((await deployment.call("POST", "auth/token/lookup", { token }, token)).status).toBe(403);
    expect((await deployment.call("POST", "auth/token/revoke-accessor", { accessor }, token)).status).toBe(
      403,
    );
    expect((await deployment.call("POST", "auth/token/revoke-self", undefined, token)).status).toBe(204);
    expect((await deployment.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
  });

  it("refuses an expired token everywhere, and renews within the max TTL", async () => {
    const { client_token: token } = (await create({ policies: ["app"], ttl: "10m", explicit_max_ttl: "15m" }))
      .body.auth;
    deployment.clock.advance(9 * 60_000);
    const renewed = await deployment.call("POST", "auth/token/renew-self", { increment: "10m" }, token);
    expect(renewed.body.auth.lease_duration).toBe(6 * 60);
    deployment.clock.advance(6 * 60_000);
    for (const [method, path] of [
      ["GET", "auth/token/lookup-self"],
      ["POST", "auth/token/renew-self"],
      ["POST", "sys/capabilities-self"],
    ]) {
      const body = method === "POST" ? { path: "x" } : undefined;
      expect((await deployment.call(method as string, path as string, body, token)).status).toBe(403);
    }
  });

  it("renews for the token's own TTL when the increment is 0 or absent, as Vault's clients ask", async () => {
    const { client_token: token } = (await create({ policies: ["app"], ttl: "10m" })).body.auth;
    for (const body of [{ increment: 0 }, { increment: "0s" }, {}]) {
      deployment.clock.advance(5 * 60_000);
      const renewed = await deployment.call("POST", "auth/token/renew-self", body, token);
      expect(renewed.status).toBe(200);
      expect(renewed.body.auth.lease_duration).toBe(10 * 60);
    }
    deployment.clock.advance(9 * 60_000);
    expect((await deployment.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);
  });

  it("bounds revocation delay in other processes by TOKEN_CACHE_MS, and applies it at once in its own", async () => {
    const other = await deployment.process();
    const { client_token: token } = (await create({ policies: ["app"] })).body.auth;
    expect((await other.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);

    expect((await deployment.call("POST", "auth/token/revoke-self", undefined, token)).status).toBe(204);
    expect((await deployment.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);

    deployment.clock.advance(TOKEN_CACHE_MS - 1);
    expect((await other.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);
    deployment.clock.advance(1);
    expect((await other.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
  });

  it("stores tokens only as HMACs: the token never reaches the disk or the audit log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-tokens-"));
    try {
      const onDisk = await openDeployment({ store: openSqliteStore({ path: join(dir, "coffer.db") }) });
      const { client_token: token } = (
        await onDisk.call("POST", "auth/token/create", { meta: { team: "a" } })
      ).body.auth;
      expect((await onDisk.call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);
      await onDisk.close();
      const secret = token.slice("cof.".length);
      for (const file of readdirSync(dir)) {
        expect(readFileSync(join(dir, file)).includes(Buffer.from(secret)), file).toBe(false);
        expect(readFileSync(join(dir, file)).includes(Buffer.from(onDisk.rootToken.slice(4))), file).toBe(
          false,
        );
      }
      expect(JSON.stringify(onDisk.audit)).not.toContain(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
