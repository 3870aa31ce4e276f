/**
 * `coffer operator migrate --from-vault` with a populated `coffer dev` as the source (it
 * speaks Vault's API) and another as the target: KV v2 with every version's data and
 * state and the metadata, KV v1, policies and Kubernetes auth arrive intact; a second run
 * changes nothing; a run cut off mid-way by a target that stops answering (some writes
 * applied, their answers lost) is finished by the next. Recorded Vault answers stand for
 * what Coffer lacks (a pki engine, AppRole), which is reported and not copied.
 */
import { createServer, request as forward, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { useDevServer } from "../support/dev-server.ts";
import { api, runCli } from "./cli-harness.ts";

const source = useDevServer({ rootToken: "source-root", scope: "test" });
const target = useDevServer({ rootToken: "target-root", scope: "test" });

const onSource = (method: string, path: string, body?: unknown) =>
  api(source.url, "source-root", method, path, body);
const onTarget = (method: string, path: string, body?: unknown) =>
  api(target.url, "target-root", method, path, body);

async function populate() {
  for (const n of [1, 2, 3, 4]) await onSource("POST", "secret/data/app/db", { data: { password: `v${n}` } });
  await onSource("POST", "secret/metadata/app/db", { max_versions: 7, custom_metadata: { owner: "team-a" } });
  await onSource("POST", "secret/delete/app/db", { versions: [1] });
  await onSource("POST", "secret/destroy/app/db", { versions: [2] });
  await onSource("POST", "secret/data/team/a/b/nested", { data: { deep: "yes" } });
  await onSource("POST", "sys/mounts/legacy", { type: "kv", options: { version: "1" } });
  await onSource("POST", "legacy/x/api", { key: "k-1" });
  await onSource("POST", "sys/policies/acl/app-read", {
    policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
  });
  await onSource("POST", "sys/auth/k8s", { type: "kubernetes" });
  const { publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  await onSource("POST", "auth/k8s/config", {
    issuer: "https://issuer.example.com",
    jwks: JSON.stringify({ keys: [jwk] }),
  });
  await onSource("POST", "auth/k8s/role/app", {
    bound_service_account_names: ["app"],
    bound_service_account_namespaces: ["team-a"],
    audience: "coffer",
    token_policies: ["app-read"],
  });
}

const migrate = (targetAddress = target.url) =>
  runCli(["operator", "migrate", "--from-vault", source.url], {
    env: {
      HOME: target.home,
      VAULT_ADDR: targetAddress,
      VAULT_TOKEN: "target-root",
      VAULT_SOURCE_TOKEN: "source-root",
    },
    timeoutMs: 60_000,
  });

// biome-ignore lint/suspicious/noExplicitAny: answers are Vault JSON.
const data = (answer: any) => answer.data;

async function expectMigrated() {
  const metadata = data(await onTarget("GET", "secret/metadata/app/db"));
  expect(metadata).toMatchObject({
    current_version: 4,
    max_versions: 7,
    custom_metadata: { owner: "team-a" },
  });
  expect(metadata.versions["1"].deletion_time).not.toBe("");
  expect(metadata.versions["2"].destroyed).toBe(true);
  expect(metadata.versions["3"]).toMatchObject({ deletion_time: "", destroyed: false });
  expect(data(await onTarget("GET", "secret/data/app/db?version=3")).data).toEqual({ password: "v3" });
  expect(data(await onTarget("GET", "secret/data/app/db")).data).toEqual({ password: "v4" });
  expect(data(await onTarget("GET", "secret/data/team/a/b/nested")).data).toEqual({ deep: "yes" });
  expect(data(await onTarget("GET", "legacy/x/api"))).toEqual({ key: "k-1" });
  expect(data(await onTarget("GET", "sys/policies/acl/app-read")).policy).toContain("secret/data/app/*");
  expect(data(await onTarget("GET", "auth/k8s/role/app"))).toMatchObject({
    audience: "coffer",
    token_policies: ["app-read"],
  });
  expect(data(await onTarget("GET", "auth/k8s/config"))).toMatchObject({
    issuer: "https://issuer.example.com",
  });
}

describe("operator migrate --from-vault", () => {
  it("copies KV v2 with versions and metadata, KV v1, policies and Kubernetes auth; reports the rest", async () => {
    await populate();
    const run = await migrate();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("copied      secret/app/db (kv v2, 4 versions)");
    expect(run.stdout).toMatch(/not copied {2}transit\/ \(transit\): Vault does not hand out transit keys/);
    expect(run.stdout).toMatch(/not copied {2}secret\/app\/db: version 1 is deleted at the source/);
    await expectMigrated();

    const again = await migrate();
    expect(again.code, again.stderr).toBe(0);
    expect(data(await onTarget("GET", "secret/metadata/app/db")).current_version).toBe(4);
    await expectMigrated();
  });

  it("finishes a run that was cut off mid-way, writes applied and their answers lost", async () => {
    await populate();
    // Forwards every request; from the write of app/db's version 1 on (the 6th), the target's
    // answers are lost: the writes are applied, the migration hears they failed, so it
    // stops before deleting that version as the source has it.
    let requests = 0;
    const proxy: Server = createServer((req, res) => {
      const lost = ++requests > 5;
      const upstream = new URL(target.url);
      const outgoing = forward(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          if (lost) {
            answer.resume();
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ errors: ["the connection was lost"] }));
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(outgoing);
    });
    await new Promise<void>((ready) => proxy.listen(0, "127.0.0.1", ready));
    const cut = await migrate(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    await new Promise((closed) => proxy.close(closed));
    expect(cut.code).toBe(2);
    expect(cut.stdout).toMatch(/FAILED/);

    const finished = await migrate();
    expect(finished.code, finished.stdout).toBe(0);
    await expectMigrated();
  });
});

describe("operator migrate against recorded Vault answers", () => {
  let vault: Server;
  beforeEach(async () => {
    // What a Vault with a pki engine, AppRole and only its built-in policies answers.
    const answers: Record<string, unknown> = {
      "GET /v1/sys/mounts": {
        "cubbyhole/": { type: "cubbyhole", options: null },
        "identity/": { type: "identity", options: null },
        "pki/": { type: "pki", options: null },
        "sys/": { type: "system", options: null },
      },
      "GET /v1/sys/policies/acl?list=true": { keys: ["default", "root"] },
      "GET /v1/sys/auth": { "approle/": { type: "approle" }, "token/": { type: "token" } },
    };
    vault = createServer((req, res) => {
      const body = answers[`${req.method} ${req.url}`];
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          body ? { data: body, lease_id: "", renewable: false, lease_duration: 0 } : { errors: [] },
        ),
      );
    });
    await new Promise<void>((ready) => vault.listen(0, "127.0.0.1", ready));
  });
  afterEach(async () => {
    await new Promise((closed) => vault.close(closed));
  });

  it("reports the engines and auth methods Coffer lacks, and copies nothing of them", async () => {
    const run = await runCli(
      ["operator", "migrate", "--from-vault", `http://127.0.0.1:${(vault.address() as AddressInfo).port}`],
      {
        env: {
          HOME: target.home,
          VAULT_ADDR: target.url,
          VAULT_TOKEN: "target-root",
          VAULT_SOURCE_TOKEN: "s",
        },
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("not copied  pki/ (pki): Coffer has no pki secrets engine");
    expect(run.stdout).toContain("not copied  auth/approle/ (approle): Coffer has no approle auth method");
    expect(run.stdout).toContain("not copied  policy default: Coffer keeps its own default policy");
    expect(run.stdout).toContain("0 copied, 3 not copied, 0 failed.");
    expect(data(await onTarget("GET", "sys/mounts"))).not.toHaveProperty("pki/");
  });
});
