/**
 * `coffer agent` against a running `coffer dev`, logging in as a pod would: with a
 * projected service account token from the dev issuer in a file.
 *
 * - once mode renders several secrets in every format, mode 0600, and exits 0; refusals
 *   and an unreachable server end it with 1 and a clear reason, a bad file with 2;
 * - sidecar mode picks up a changed secret (and runs its hook), survives the token file's
 *   rotation (the old token stops being accepted), and keeps going through a restart of
 *   the server;
 * - a leased secret is renewed while the sidecar runs, from agent.yaml and from a Vault
 *   Agent template (against a broker with the lease test engine: STS credentials, the
 *   product's own leases, are not renewable).
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { useDevServer } from "../support/dev-server.ts";
import { type LoopbackServer, serveOnLoopback } from "../support/http.ts";
import { type LeaseDeployment, openLeaseDeployment } from "../support/lease-deployment.ts";
import { freePort } from "../support/moto.ts";
import { waitFor } from "../support/wait.ts";
import { api, runCli, startCli } from "./cli-harness.ts";

const ROOT = "agent-e2e-root";
const PASSWORD = 'pa$$ "word" 7f3c';
const API_KEY = "api-key-91b2e";

const POLICY = `
path "secret/data/app/*" { capabilities = ["read"] }
`;

async function fileText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

describe("coffer agent against coffer dev", () => {
  /** On disk, so a restart keeps what the agent reads. */
  const server = useDevServer({ inMemory: false, rootToken: ROOT });
  let work: string;
  const root = (method: string, path: string, body?: unknown) => api(server.url, ROOT, method, path, body);
  const jwt = (audience = "coffer", serviceAccount = "app") =>
    requestDevToken(server.url, { namespace: "shop", serviceAccount, audience }, ROOT);
  const role = (name: string, fields: Record<string, unknown>) =>
    root("POST", `auth/kubernetes/role/${name}`, {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "shop",
      audience: "coffer",
      token_policies: "app",
      ...fields,
    });

  /** Writes agent.yaml and a token file into a directory of their own. */
  async function agentDir(name: string, config: string, token?: string): Promise<string> {
    const dir = join(work, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "agent.yaml"), config);
    if (token !== undefined) await writeFile(join(dir, "token"), token);
    return dir;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "coffer-agent-work-"));
    await root("PUT", "sys/policies/acl/app", { policy: POLICY });
    await role("app", { token_ttl: "1h" });
    await root("POST", "secret/data/app/db", { data: { username: "app", password: PASSWORD } });
    await root("POST", "secret/data/app/api", { data: { key: API_KEY, region: "eu-west-1" } });
    await root("POST", "secret/data/app/env", { data: { LOG_LEVEL: "debug", FEATURE_X: "on" } });
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("once: logs in with the token file, renders three secrets in four formats with mode 0600, exits 0", async () => {
    const token = await jwt();
    const dir = await agentDir(
      "once",
      `address: ${server.url}
auth:
  role: app
  token_file: token
secrets:
  - path: secret/data/app/db
    destination: out/password
    format: raw
    field: password
  - path: secret/data/app/api
    destination: out/api.json
    format: json
  - path: secret/data/app/env
    destination: out/app.env
    format: dotenv
  - destination: out/app.conf
    format: template
    template: |
      url=postgres://{{ secret "secret/data/app/db" "username" }}:{{ secret "secret/data/app/db" "password" | urlquery }}@db/app
      api_key={{ secret "secret/data/app/api" "key" }}
ready_file: out/.ready
`,
      token,
    );
    const result = await runCli(["agent", "--config", join(dir, "agent.yaml"), "--once"], { env: {} });
    expect(result.code, result.stderr).toBe(0);

    expect(await fileText(join(dir, "out/password"))).toBe(PASSWORD);
    expect(JSON.parse((await fileText(join(dir, "out/api.json"))) ?? "")).toEqual({
      key: API_KEY,
      region: "eu-west-1",
    });
    expect(await fileText(join(dir, "out/app.env"))).toBe('LOG_LEVEL="debug"\nFEATURE_X="on"\n');
    expect(await fileText(join(dir, "out/app.conf"))).toBe(
      `url=postgres://app:${encodeURIComponent(PASSWORD)}@db/app\napi_key=${API_KEY}\n`,
    );
    for (const name of ["password", "api.json", "app.env", "app.conf", ".ready"]) {
      expect((await stat(join(dir, "out", name))).mode & 0o777).toBe(0o600);
    }
    // The log says what happened without a secret or a token in it.
    expect(result.stderr).toContain('"msg":"done"');
    for (const secret of [PASSWORD, API_KEY, "debug", token, "cof."])
      expect(result.stderr).not.toContain(secret);
  });

  it("once: a role that refuses the service account ends with 2 at once, saying why", async () => {
    await role("other", { bound_service_account_names: "someone-else" });
    const dir = await agentDir(
      "refused",
      `address: ${server.url}\nauth: { role: other, token_file: token }\nsecrets:\n  - { path: secret/data/app/db, destination: out/db.json }\n`,
      await jwt(),
    );
    const started = Date.now();
    const result = await runCli(["agent", "--config", join(dir, "agent.yaml"), "--once"], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("giving up: the server refused the request");
    expect(result.stderr).toMatch(/auth\/kubernetes\/login: HTTP 403/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await fileText(join(dir, "out/db.json"))).toBeUndefined();
  });

  it("once: a secret the policy does not grant ends with 2, naming the path", async () => {
    await root("POST", "secret/data/other/x", { data: { a: "b" } });
    const dir = await agentDir(
      "forbidden",
      `address: ${server.url}\nauth: { role: app, token_file: token }\nsecrets:\n  - { path: secret/data/other/x, destination: out/x.json }\n`,
      await jwt(),
    );
    const result = await runCli(["agent", "--config", join(dir, "agent.yaml"), "--once"], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GET secret\/data\/other\/x: HTTP 403: permission denied/);
  });

  it("once: an unreachable server is retried with backoff until once_timeout, then exits 2", async () => {
    const closedPort = await freePort();
    const dir = await agentDir(
      "unreachable",
      `address: http://127.0.0.1:${closedPort}
auth: { role: app, token_file: token }
secrets:
  - { path: secret/data/app/db, destination: out/db.json }
backoff: { initial: 100ms, max: 400ms }
once_timeout: 2s
`,
      await jwt(),
    );
    const result = await runCli(["agent", "--config", join(dir, "agent.yaml"), "--once"], { env: {} });
    expect(result.code).toBe(2);
    const retries = result.stderr.split("\n").filter((line) => line.includes("attempt failed, retrying"));
    expect(retries.length).toBeGreaterThanOrEqual(3);
    expect(retries[0]).toContain("connection refused");
    expect(result.stderr).toContain("giving up: once_timeout reached");
  });

  it("refuses an invalid configuration with 1 (a local error) before doing anything", async () => {
    const dir = await agentDir(
      "invalid",
      "auth: { role: app }\nsecrets:\n  - { path: secret/data/app/db }\n",
    );
    const result = await runCli(["agent", "--config", join(dir, "agent.yaml"), "--once"], { env: {} });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("secrets[0].destination: is required");
    expect(result.stderr).toContain("address: is required (or set COFFER_ADDR)");
  });

  it("sidecar: renders, picks up a changed secret, survives token rotation and a server restart", async () => {
    // Short token lifetimes make the agent renew and log in again every few seconds.
    await role("sidecar", { token_ttl: "2s", token_max_ttl: "4s" });
    const dir = await agentDir(
      "sidecar",
      `address: ${server.url}
auth: { role: sidecar, token_file: token }
secrets:
  - { path: secret/data/app/db, destination: out/password, format: raw, field: password }
  - { path: secret/data/app/env, destination: out/app.env, format: dotenv }
refresh_interval: 300ms
ready_file: out/.ready
backoff: { initial: 100ms, max: 500ms }
on_change:
  command: ["sh", "-c", "echo changed >> ${join(work, "sidecar", "hook.log")}"]
`,
      await jwt(),
    );
    const agent = startCli(["agent", "--config", join(dir, "agent.yaml")], {});
    const out = (name: string) => join(dir, "out", name);
    try {
      await waitFor("the first render", () => fileText(out(".ready")));
      expect(await fileText(out("password"))).toBe(PASSWORD);
      // The first render is not a change: the application has not started yet.
      expect(await fileText(join(dir, "hook.log"))).toBeUndefined();

      // A changed secret reaches its file, and only then does the hook run.
      await root("POST", "secret/data/app/db", { data: { username: "app", password: "second-password" } });
      await waitFor("the changed secret", async () =>
        (await fileText(out("password"))) === "second-password" ? true : undefined,
      );
      expect(await fileText(out("app.env"))).toBe('LOG_LEVEL="debug"\nFEATURE_X="on"\n');
      await waitFor("the on_change hook", () => fileText(join(dir, "hook.log")));
      // The hook's file is written before the hook exits, and the agent logs after that.
      await waitFor("the hook's log line", () =>
        agent.stderr().includes("on_change command succeeded") ? true : undefined,
      );

      // The kubelet rotates the token file; from now on only the new token is accepted. A
      // login between the two steps may meet the old audience, so the count starts after both.
      await writeFile(join(dir, "token"), await jwt("coffer-rotated"));
      await role("sidecar", { audience: "coffer-rotated" });
      const rotatedAt = agent.stderr().length;
      await waitFor(
        "two logins with the rotated token",
        () => (agent.stderr().slice(rotatedAt).split('"msg":"logged in"').length > 2 ? true : undefined),
        30_000,
      );
      await root("POST", "secret/data/app/db", { data: { username: "app", password: "third-password" } });
      await waitFor("the secret changed after rotation", async () =>
        (await fileText(out("password"))) === "third-password" ? true : undefined,
      );
      expect(agent.stderr().slice(rotatedAt)).not.toContain("login: HTTP 403");
      expect(agent.stderr()).toContain('"msg":"token renewed"');

      // The server goes away; the agent backs off without exiting, and carries on after.
      await server.close();
      const downAt = agent.stderr().length;
      await waitFor("retries while the server is down", () =>
        agent.stderr().slice(downAt).split("attempt failed, retrying").length > 3 ? true : undefined,
      );
      expect(agent.child.exitCode).toBeNull();
      await server.start();
      await root("POST", "secret/data/app/db", { data: { username: "app", password: "after-restart" } });
      await waitFor("the secret changed after the restart", async () =>
        (await fileText(out("password"))) === "after-restart" ? true : undefined,
      );
      expect((await stat(out("password"))).mode & 0o777).toBe(0o600);
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited).toBe(0);
    const log = agent.stderr();
    expect(log).toContain('"msg":"stopped"');
    for (const secret of [PASSWORD, "second-password", "third-password", "after-restart", "cof."]) {
      expect(log).not.toContain(secret);
    }
  });
});

describe("coffer agent with a leased secret", () => {
  let deployment: LeaseDeployment;
  let served: LoopbackServer | undefined;
  let address: string;
  let rootToken: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "coffer-agent-lease-"));
    deployment = await openLeaseDeployment();
    rootToken = deployment.rootToken;
    served = await serveOnLoopback(deployment.app);
    address = served.address;
  });

  afterAll(async () => {
    await served?.close();
    await deployment?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sidecar: renews the lease at two thirds of its duration, with a token from a file", async () => {
    await writeFile(join(dir, "token"), `${rootToken}\n`);
    await writeFile(
      join(dir, "agent.yaml"),
      `address: ${address}
auth: { method: token, token_file: token }
secrets:
  - { path: "t/creds/app?ttl=3", destination: out/creds.json }
ready_file: out/.ready
`,
    );
    const agent = startCli(["agent", "--config", join(dir, "agent.yaml")], {});
    try {
      await waitFor("the first render", () => fileText(join(dir, "out/.ready")));
      expect(JSON.parse((await fileText(join(dir, "out/creds.json"))) ?? "")).toEqual({ username: "app" });
      await waitFor(
        "two renewals",
        () => (deployment.engine.renewCalls.length >= 2 ? true : undefined),
        15_000,
      );
      expect(new Set(deployment.engine.renewCalls.map((call) => call.id)).size).toBe(1);
      expect(agent.stderr()).toContain('"msg":"lease renewed"');
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited).toBe(0);
    expect(agent.stderr()).not.toContain(rootToken);
  });

  it("a Vault Agent template's dynamic secret is renewed the same way", async () => {
    const calls = deployment.engine.renewCalls.length;
    await writeFile(join(dir, "token"), `${rootToken}\n`);
    await writeFile(
      join(dir, "agent.hcl"),
      `vault { address = "${address}" }
auto_auth {
  method "token_file" {
    config { token_file_path = "token" }
  }
}
template {
  destination = "out/creds.ini"
  contents    = "{{ with secret \\"t/creds/app?ttl=3\\" }}user={{ .Data.username }} renewable={{ .Renewable }}{{ end }}"
}
`,
    );
    const agent = startCli(["agent", "--config", join(dir, "agent.hcl")], {});
    try {
      expect(await waitFor("the render", () => fileText(join(dir, "out/creds.ini")))).toBe(
        "user=app renewable=true",
      );
      await waitFor(
        "two renewals",
        () => (deployment.engine.renewCalls.length >= calls + 2 ? true : undefined),
        15_000,
      );
      expect(new Set(deployment.engine.renewCalls.slice(calls).map((call) => call.id)).size).toBe(1);
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited).toBe(0);
  });
});
