/**
 * `coffer dev` as a stand-in cluster: its development issuer publishes discovery and a
 * JWKS like an API server, auth/kubernetes trusts it, and `coffer dev token` prints a
 * token in the exact shape of a projected service account token, over real HTTP.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { banner, startDevServer } from "../../cli/dev.ts";
import { createDevIssuer, DEV_ISSUER_PATH } from "../../cli/dev-issuer.ts";
import { devServerAddress, requestDevToken } from "../../cli/dev-token.ts";
import { COFFER_SCRIPT } from "../support/coffer-command.ts";
import { type DevCommand, startDevCommand, useDevServer } from "../support/dev-server.ts";
import type { ApiCall } from "../support/http.ts";
import { freePort } from "../support/moto.ts";

const bin = COFFER_SCRIPT;

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("coffer dev as a development cluster", () => {
  const server = useDevServer({ inMemory: false });
  const api: ApiCall = (...args) => server.call(...args);

  it("serves OIDC discovery and a JWKS, and configures auth/kubernetes to trust them", async () => {
    expect(server.issuer).toBe(`${server.url}${DEV_ISSUER_PATH}`);
    const discovery = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({ issuer: server.issuer, jwks_uri: `${server.issuer}/openid/v1/jwks` });
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const config = await api("GET", "auth/kubernetes/config");
    expect(config.body.data).toMatchObject({ oidc_discovery_url: server.issuer, issuer: server.issuer });
    expect((await api("GET", "sys/auth")).body.data["kubernetes/"].type).toBe("kubernetes");
  });

  it("prints how to log in", () => {
    const text = banner(server, { port: 0, host: "127.0.0.1", dataDir: server.home, inMemory: false });
    expect(text).toContain(`trusts the development issuer ${server.issuer}`);
    expect(text).toContain("coffer dev token --namespace default --service-account app --audience coffer");
    expect(text).toContain("/v1/auth/kubernetes/login");
  });

  it("mints tokens in the exact shape of projected service account tokens", async () => {
    const token = await requestDevToken(server.url, {
      namespace: "team-a",
      serviceAccount: "app",
      audience: "coffer",
      ttl: "10m",
    });
    const header = decodeProtectedHeader(token);
    expect(Object.keys(header).sort()).toEqual(["alg", "kid"]);
    expect(header.alg).toBe("RS256");
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: server.issuer,
      sub: "system:serviceaccount:team-a:app",
      aud: ["coffer"],
      "kubernetes.io": {
        namespace: "team-a",
        node: { name: "coffer-dev", uid: expect.any(String) },
        pod: { name: expect.stringMatching(/^app-[a-z0-9]{5}$/), uid: expect.any(String) },
        serviceaccount: { name: "app", uid: expect.any(String) },
      },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    // The service account keeps its uid; each pod is new.
    const again = decodeJwt(
      await requestDevToken(server.url, { namespace: "team-a", serviceAccount: "app" }),
    );
    const projected = (value: Record<string, unknown>) =>
      value["kubernetes.io"] as { serviceaccount: { uid: string }; pod: { uid: string } };
    expect(projected(again).serviceaccount.uid).toBe(projected(claims).serviceaccount.uid);
    expect(projected(again).pod.uid).not.toBe(projected(claims).pod.uid);
    // Without --audience, the audience is the issuer, as Kubernetes does by default.
    expect(again.aud).toEqual([server.issuer]);
    expect((again.exp as number) - (again.iat as number)).toBe(3600);
  });

  it("logs in with a dev token: the role's policy allows its read, anything else is 403", async () => {
    await api("PUT", "sys/policies/acl/app", {
      policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
    });
    await api("POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
      token_policies: "app",
    });
    await api("POST", "secret/data/app/db", { data: { password: "pw" } });
    await api("POST", "secret/data/billing/db", { data: { password: "other" } });

    const jwt = await requestDevToken(server.url, {
      namespace: "default",
      serviceAccount: "app",
      audience: "coffer",
    });
    const login = await api("POST", "auth/kubernetes/login", { role: "app", jwt }, null);
    expect(login.status).toBe(200);
    const token = login.body.auth.client_token;
    expect((await api("GET", "secret/data/app/db", undefined, token)).body.data.data).toEqual({
      password: "pw",
    });
    expect((await api("GET", "secret/data/billing/db", undefined, token)).status).toBe(403);
    expect((await api("POST", "secret/data/app/db", { data: { password: "x" } }, token)).status).toBe(403);
    expect((await api("GET", "sys/auth", undefined, token)).status).toBe(403);

    const wrongAudience = await requestDevToken(server.url, { namespace: "default", serviceAccount: "app" });
    const refused = await api("POST", "auth/kubernetes/login", { role: "app", jwt: wrongAudience }, null);
    expect(refused).toMatchObject({
      status: 403,
      body: { errors: ["permission denied: the token's audience does not match the role"] },
    });
  });

  it("lets one templated policy serve every namespace", async () => {
    const accessor = (await api("GET", "sys/auth")).body.data["kubernetes/"].accessor;
    const ns = `{{identity.entity.aliases.${accessor}.metadata.service_account_namespace}}`;
    await api("PUT", "sys/policies/acl/per-namespace", {
      policy: `path "secret/data/${ns}/*" { capabilities = ["read"] }`,
    });
    await api("POST", "auth/kubernetes/role/teams", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "team-*",
      audience: "coffer",
      token_policies: "per-namespace",
    });
    await api("POST", "secret/data/team-a/db", { data: { v: "a" } });
    await api("POST", "secret/data/team-b/db", { data: { v: "b" } });
    const jwt = await requestDevToken(server.url, {
      namespace: "team-a",
      serviceAccount: "app",
      audience: "coffer",
    });
    const token = (await api("POST", "auth/kubernetes/login", { role: "teams", jwt }, null)).body.auth
      .client_token;
    expect((await api("GET", "secret/data/team-a/db", undefined, token)).body.data.data).toEqual({ v: "a" });
    expect((await api("GET", "secret/data/team-b/db", undefined, token)).status).toBe(403);
  });

  it("refuses bad mint requests with a clear 400", async () => {
    for (const [body, message] of [
      [{ namespace: "Bad_NS", service_account: "app" }, "namespace must be a Kubernetes name"],
      [{ namespace: "default" }, "service_account must be a Kubernetes name"],
      [{ namespace: "default", service_account: "app", ttl: "0s" }, "ttl must be between 1s and 7d"],
      [
        { namespace: "default", service_account: "app", ttl: "soon" },
        'ttl must be a duration such as "10m" or 600',
      ],
      [{ namespace: "default", service_account: "app", audience: "" }, "audience must be a non-empty string"],
    ] as const) {
      const response = await fetch(`${server.issuer}/token`, { method: "POST", body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ errors: [message] });
    }
    const notJson = await fetch(`${server.issuer}/token`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${server.issuer}/nothing`)).status).toBe(404);
  });

  it("mints only for callers on this machine or holding a root token", async () => {
    const issuer = await createDevIssuer(server.broker, undefined);
    const serve = issuer.wrap(() => new Response("app"));
    const mint = (headers: Record<string, string>) =>
      serve(
        new Request("http://coffer.example/dev-issuer/token", {
          method: "POST",
          headers,
          body: JSON.stringify({ namespace: "default", service_account: "app" }),
        }),
        { incoming: { socket: { remoteAddress: "10.0.0.7" } } },
      );
    expect((await mint({})).status).toBe(403);
    expect((await mint({ "X-Vault-Token": "cof.not-a-token" })).status).toBe(403);
    expect((await mint({ "X-Vault-Token": server.rootToken })).status).toBe(200);
    expect(await (await serve(new Request("http://coffer.example/v1/sys/health"))).text()).toBe("app");
  });

  it("keeps its signing key across restarts of the same data directory", async () => {
    const kid = decodeProtectedHeader(
      await requestDevToken(server.url, { namespace: "default", serviceAccount: "app" }),
    ).kid;
    const second = await startDevServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: server.home,
      inMemory: true,
    });
    const otherKid = decodeProtectedHeader(
      await requestDevToken(second.url, { namespace: "default", serviceAccount: "app" }),
    ).kid;
    await second.close();
    expect(otherKid).not.toBe(kid);
    // Started as the first time, on any free port: auth/kubernetes follows the issuer wherever it is.
    await server.restart({ port: 0 });
    const restartedKid = decodeProtectedHeader(
      await requestDevToken(server.url, { namespace: "default", serviceAccount: "app" }),
    ).kid;
    expect(restartedKid).toBe(kid);
    expect((await api("GET", "auth/kubernetes/config")).body.data.oidc_discovery_url).toBe(server.issuer);
  });
});

describe("coffer dev token (the command)", () => {
  let dev: DevCommand | undefined;
  let dataDir: string;
  afterAll(async () => {
    await dev?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("reads the address from COFFER_ADDR or VAULT_ADDR, defaulting to 127.0.0.1:8200", () => {
    expect(devServerAddress({})).toBe("http://127.0.0.1:8200");
    expect(devServerAddress({ VAULT_ADDR: "http://127.0.0.1:9000/" })).toBe("http://127.0.0.1:9000");
    expect(devServerAddress({ VAULT_ADDR: "http://a:1", COFFER_ADDR: "http://b:2" })).toBe("http://b:2");
  });

  it("prints a token the running dev server accepts at login", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "coffer-identity-cli-"));
    dev = await startDevCommand({ dataDir });
    const { rootToken, url: address } = dev;
    await fetch(`${address}/v1/auth/kubernetes/role/app`, {
      method: "POST",
      headers: { "X-Vault-Token": rootToken },
      body: JSON.stringify({
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
      }),
    });

    const printed = await run(
      [
        "dev",
        "token",
        "--namespace",
        "default",
        "--service-account",
        "app",
        "--audience",
        "coffer",
        "--ttl",
        "5m",
      ],
      { VAULT_ADDR: address, COFFER_ADDR: "" },
    );
    expect(printed.code).toBe(0);
    const jwt = printed.stdout.trim();
    expect(jwt.split(".")).toHaveLength(3);
    const login = await fetch(`${address}/v1/auth/kubernetes/login`, {
      method: "POST",
      body: JSON.stringify({ role: "app", jwt }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { auth: { policies: string[] } }).auth.policies).toEqual(["default"]);

    const invalid = await run(["dev", "token", "--namespace", "Bad", "--service-account", "app"], {
      COFFER_ADDR: address,
    });
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain("namespace must be a Kubernetes name");
  }, 60_000);

  it("says clearly when no dev server is running", async () => {
    const port = await freePort();
    const result = await run(["dev", "token", "--namespace", "default", "--service-account", "app"], {
      COFFER_ADDR: `http://127.0.0.1:${port}`,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`cannot reach the dev server at http://127.0.0.1:${port}`);
  }, 30_000);
});
