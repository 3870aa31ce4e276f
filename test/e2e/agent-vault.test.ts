/**
 * `coffer agent` with Vault Agent configurations (HCL) against a running `coffer dev`
 * whose aws engine talks to moto, logging in as a pod would:
 *
 * - a consul-template template renders a KV v2 secret, a KV v1 secret, a KV v2 path
 *   written without data/, and AWS credentials; the file follows a rotated secret;
 * - the probe fails before the first render and passes after; SIGHUP reloads a changed
 *   configuration, and keeps the running one when the new one does not load;
 * - exec mode starts the program with its secrets in the environment, restarts it with
 *   the new ones, and ends with the program's exit code;
 * - bad inputs (HCL, templates, a deleted secret, a missing key, a native path without
 *   data/) fail with where and why.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestDevToken } from "../../cli/dev-token.ts";
import { mountAwsOnMoto } from "../support/aws-engine-fixture.ts";
import { useDevServer } from "../support/dev-server.ts";
import { freePort, motoAvailable, useMoto } from "../support/moto.ts";
import { waitFor } from "../support/wait.ts";
import { api, runCli, startCli } from "./cli-harness.ts";

const ROOT = "agent-vault-root";
const POLICY = `
path "secret/data/app/*" { capabilities = ["read"] }
path "kv1/app/*" { capabilities = ["read"] }
path "aws/creds/deploy" { capabilities = ["read"] }
`;

async function fileText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

describe.skipIf(!motoAvailable())("coffer agent with Vault Agent configurations", () => {
  const moto = useMoto();
  /** On disk, so a restart (an outage) keeps the secrets, the role and the aws mount. */
  const server = useDevServer({ inMemory: false, rootToken: ROOT });
  let work: string;
  const root = (method: string, path: string, body?: unknown) => api(server.url, ROOT, method, path, body);

  /** A directory with the pod's token and agent.hcl; returns its path. */
  async function agentDir(name: string, config: (dir: string) => string): Promise<string> {
    const dir = join(work, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "token"),
      await requestDevToken(
        server.url,
        { namespace: "shop", serviceAccount: "app", audience: "coffer" },
        ROOT,
      ),
    );
    await writeFile(join(dir, "agent.hcl"), config(dir));
    return dir;
  }

  const header = (dir: string, extra = "") => `
vault {
  address = "${server.url}"
}
auto_auth {
  method "kubernetes" {
    mount_path = "auth/kubernetes"
    config = {
      role       = "app"
      token_path = "${join(dir, "token")}"
    }
  }
}
template_config {
  static_secret_render_interval = "300ms"
}
${extra}`;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "coffer-agent-vault-"));
    await root("PUT", "sys/policies/acl/app", { policy: POLICY });
    await root("POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "shop",
      audience: "coffer",
      token_policies: "app",
      token_ttl: "1h",
    });
    await root("POST", "secret/data/app/db", { data: { username: "app", password: "first-password" } });
    await root("POST", "sys/mounts/kv1", { type: "kv", options: { version: "1" } });
    await root("POST", "kv1/app/config", { region: "eu-west-1", tags: "web,production" });
    await mountAwsOnMoto(root, moto);
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("renders KV v2, KV v1 and AWS credentials, follows a rotation, answers the probe, reloads on SIGHUP", async () => {
    const template = `{{- with secret "secret/data/app/db" }}password={{ .Data.data.password }}{{ end }}
{{ with secret "secret/app/db" }}user={{ .Data.data.username }}{{ end }}
{{ with secret "kv1/app/config" -}}
region={{ .Data.region }}
{{ if .Data.tags | split "," | contains "production" }}production=true{{ end }}
{{ end -}}
{{ with secret "aws/creds/deploy" }}[default]
aws_access_key_id = {{ .Data.access_key }}
aws_secret_access_key = {{ .Data.secret_key }}
lease = {{ .LeaseDuration }}
{{ end }}`;
    const dir = await agentDir(
      "sidecar",
      (d) =>
        `${header(d)}
template {
  source      = "app.ctmpl"
  destination = "out/app.conf"
  perms       = "0640"
}
`,
    );
    await writeFile(join(dir, "app.ctmpl"), template);
    const status = join(dir, "out", ".status");
    const probe = (ready: boolean) =>
      runCli(["agent", "probe", "--status-file", status, ...(ready ? ["--ready"] : [])], { env: {} });

    const before = await probe(false);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`cannot read ${status}: ENOENT`);

    const agent = startCli(["agent", "--config", join(dir, "agent.hcl"), "--status-file", status], {});
    const out = join(dir, "out", "app.conf");
    try {
      const first = await waitFor("the first render", () => fileText(out));
      const lines = first.split("\n");
      expect(lines.slice(0, 4)).toEqual([
        "password=first-password",
        "user=app",
        "region=eu-west-1",
        "production=true",
      ]);
      expect(first).toMatch(/^aws_access_key_id = \S+$/m);
      expect(first).toMatch(/^aws_secret_access_key = \S+$/m);
      expect(first).toMatch(/^lease = \d+$/m);
      expect((await import("node:fs/promises").then((fs) => fs.stat(out))).mode & 0o777).toBe(0o640);
      await waitFor("a ready status", async () => ((await probe(true)).code === 0 ? true : undefined));

      // The secret rotates: the file follows within the render interval.
      await root("POST", "secret/data/app/db", { data: { username: "app", password: "second-password" } });
      await waitFor("the rotated secret", async () =>
        (await fileText(out))?.startsWith("password=second-password\n") ? true : undefined,
      );

      // A configuration that does not parse is refused; the agent keeps running the old one.
      await writeFile(join(dir, "agent.hcl"), `${header(dir)}\ntemplate {\n  source = "app.ctmpl"\n`);
      const reloadAt = agent.stderr().length;
      agent.child.kill("SIGHUP");
      await waitFor("the refused reload", () =>
        agent.stderr().slice(reloadAt).includes("reload failed: keeping the running configuration")
          ? true
          : undefined,
      );
      expect(agent.stderr().slice(reloadAt)).toMatch(
        /HCL: line 20, column 1: expected \\"}\\" before the end of the file/,
      );
      expect(agent.child.exitCode).toBeNull();

      // A changed configuration is read on SIGHUP: a second template appears.
      await writeFile(
        join(dir, "agent.hcl"),
        `${header(dir)}
template {
  source      = "app.ctmpl"
  destination = "out/app.conf"
  perms       = "0640"
}
template {
  contents    = "{{ with secret \\"secret/data/app/db\\" }}{{ .Data.data.password | base64Encode }}{{ end }}"
  destination = "out/password.b64"
  command     = "echo written >> ${join(dir, "command.log")}"
}
`,
      );
      agent.child.kill("SIGHUP");
      expect(
        await waitFor("the reloaded configuration's file", () => fileText(join(dir, "out", "password.b64"))),
      ).toBe(Buffer.from("second-password").toString("base64"));
      expect(agent.stderr()).toContain('"msg":"configuration reloaded"');
      // A template's command runs after its file's first write too, as in Vault Agent.
      expect(await waitFor("the template's command", () => fileText(join(dir, "command.log")))).toBe(
        "written\n",
      );

      // An outage, then a line saying the agent recovered.
      await server.close();
      await waitFor("a failed attempt", () =>
        agent.stderr().includes("attempt failed, retrying") ? true : undefined,
      );
      await server.start();
      await waitFor("the recovery", () => (agent.stderr().includes('"msg":"recovered"') ? true : undefined));
      expect(agent.stderr()).toMatch(/"msg":"recovered","failures":\d+,"outage_s":\d+/);
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited).toBe(0);
    const log = agent.stderr();
    for (const secret of ["first-password", "second-password", "cof."]) expect(log).not.toContain(secret);
  });

  it("exec mode: starts the program with its secrets, restarts it when they change, ends with its code", async () => {
    await root("POST", "secret/data/app/db", { data: { username: "app", password: "exec-first" } });
    const dir = await agentDir(
      "exec",
      (d) =>
        `${header(d)}
env_template "DB_PASSWORD" {
  contents             = "{{ with secret \\"secret/data/app/db\\" }}{{ .Data.data.password }}{{ end }}"
  error_on_missing_key = true
}
env_template "REGION" {
  contents = "{{ with secret \\"kv1/app/config\\" }}{{ .Data.region }}{{ end }}"
}
exec {
  command                   = ["sh", "-c", "echo \\"$DB_PASSWORD $REGION $$\\" >> ${join(d, "runs.log")}; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
  restart_on_secret_changes = "always"
  restart_stop_signal       = "SIGTERM"
}
`,
    );
    const runs = async () => ((await fileText(join(dir, "runs.log"))) ?? "").split("\n").filter(Boolean);
    const agent = startCli(["agent", "--config", join(dir, "agent.hcl")], {});
    try {
      await waitFor("the program's first start", async () => ((await runs()).length >= 1 ? true : undefined));
      const [first] = await runs();
      expect(first).toMatch(/^exec-first eu-west-1 \d+$/);
      await root("POST", "secret/data/app/db", { data: { username: "app", password: "exec-second" } });
      await waitFor("the program's restart", async () => ((await runs()).length >= 2 ? true : undefined));
      const [, second] = await runs();
      expect(second).toMatch(/^exec-second eu-west-1 \d+$/);
      expect(second?.split(" ")[2]).not.toBe(first?.split(" ")[2]);
      expect(agent.stderr()).toContain("restarting the program: its environment or command changed");

      // SIGHUP with another command (and restarts turned off): the new command runs.
      const config = await readFile(join(dir, "agent.hcl"), "utf8");
      await writeFile(
        join(dir, "agent.hcl"),
        config.replace('echo \\"$DB', 'echo reloaded \\"$DB').replace('"always"', '"never"'),
      );
      agent.child.kill("SIGHUP");
      await waitFor("the new command", async () => ((await runs()).length >= 3 ? true : undefined));
      expect((await runs())[2]).toMatch(/^reloaded exec-second eu-west-1 \d+$/);
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited).toBe(0);
    expect(agent.stderr()).not.toContain("exec-second");

    const exiting = await agentDir(
      "exec-exit",
      (d) => `${header(d)}
env_template "A" {
  contents = "{{ with secret \\"secret/data/app/db\\" }}{{ .Data.data.username }}{{ end }}"
}
exec {
  command = ["sh", "-c", "test \\"$A\\" = app && exit 7"]
}
`,
    );
    const result = await runCli(["agent", "--config", join(exiting, "agent.hcl")], { env: {} });
    expect(result.code).toBe(7);
    const once = await runCli(["agent", "--config", join(exiting, "agent.hcl"), "--once"], { env: {} });
    expect(once.code).toBe(1);
    expect(once.stderr).toContain("--once cannot be combined with exec");
    expect(result.stderr).toContain('"msg":"stopped: the program exited"');
  });

  it("bad inputs fail with where and why", async () => {
    const once = (dir: string, file = "agent.hcl") =>
      runCli(["agent", "--config", join(dir, file), "--once"], { env: {} });

    const unparseable = await agentDir("bad-hcl", (d) => `${header(d)}\ntemplate {\n  contents = "x\n}\n`);
    const hcl = await once(unparseable);
    expect(hcl.code).toBe(1);
    expect(hcl.stderr).toMatch(/HCL: line 19, column 14: unterminated string/);

    const badTemplate = await agentDir(
      "bad-template",
      (d) =>
        `${header(d)}\ntemplate {\n  destination = "out/x"\n  contents = <<EOT\nline one\n{{ with secret "secret/data/app/db" }}{{ .Data.data.password | nope }}{{ end }}\nEOT\n}\n`,
    );
    const template = await once(badTemplate);
    expect(template.code).toBe(1);
    expect(template.stderr).toContain('template: template[0].contents:2:64: function "nope" not defined');

    const missingKey = await agentDir(
      "missing-key",
      (d) =>
        `${header(d)}\ntemplate {\n  destination = "out/x"\n  contents = "{{ with secret \\"secret/data/app/db\\" }}{{ .Data.data.pasword }}{{ end }}"\n}\n`,
    );
    const missing = await once(missingKey);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('map has no entry for key \\"pasword\\"');
    expect(await fileText(join(missingKey, "out", "x"))).toBeUndefined();

    await root("POST", "secret/data/app/gone", { data: { a: "b" } });
    await root("DELETE", "secret/data/app/gone");
    const deletedDir = await agentDir(
      "deleted",
      (d) =>
        `${header(d)}\ntemplate {\n  destination = "out/x"\n  contents = "{{ with secret \\"secret/data/app/gone\\" }}{{ .Data.data.a }}{{ end }}"\n}\n`,
    );
    const deleted = await once(deletedDir);
    expect(deleted.code).toBe(2);
    expect(deleted.stderr).toMatch(
      /version 1 of this secret was deleted at \S+: undelete it or write a new version/,
    );

    // exit_on_retry_failure: a sidecar that cannot reach the server gives up after its retries.
    const closedPort = await freePort();
    const retrying = await agentDir(
      "retries",
      (d) => `vault {
  address = "http://127.0.0.1:${closedPort}"
  retry { num_retries = 2 }
}
auto_auth {
  method "kubernetes" {
    min_backoff = "50ms"
    max_backoff = "100ms"
    config = { role = "app", token_path = "${join(d, "token")}" }
  }
}
template_config { exit_on_retry_failure = true }
template {
  destination = "out/x"
  contents = "{{ with secret \\"secret/data/app/db\\" }}{{ .Data.data.username }}{{ end }}"
}
`,
    );
    const gaveUp = await runCli(["agent", "--config", join(retrying, "agent.hcl")], { env: {} });
    expect(gaveUp.code).toBe(2);
    expect(gaveUp.stderr.split("attempt failed, retrying").length - 1).toBe(3);
    expect(gaveUp.stderr).toContain("giving up: exit_on_retry_failure after every retry failed");

    // Coffer's own agent.yaml reads API paths as written: a KV v2 path without data/ is explained.
    const native = join(work, "native");
    await mkdir(native, { recursive: true });
    await writeFile(join(native, "token"), ROOT);
    await writeFile(
      join(native, "agent.yaml"),
      `address: ${server.url}\nauth: { method: token, token_file: token }\nsecrets:\n  - { path: secret/app/db, destination: out/db.json }\n`,
    );
    const withoutData = await once(native, "agent.yaml");
    expect(withoutData.code).toBe(2);
    expect(withoutData.stderr).toContain(
      "secret/app/db is on a KV version 2 mount, whose secrets are read at secret/data/app/db",
    );
  });
});
