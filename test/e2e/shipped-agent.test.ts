/**
 * The agent as it ships: the command's bundle (scripts/build.ts), copied alone into a
 * directory with no node_modules and no sources around it, run by node in a mount
 * namespace whose root filesystem is read-only, so that nothing but the directory the
 * files go to can be written: no temporary directory, no cache. It reads a Vault Agent
 * configuration in JSON, as the injector writes it, against a `coffer dev` set up as
 * docs/kubernetes.md says (test/support/shop-dev-server.ts) whose aws engine assumes
 * roles in moto:
 *
 * - a consul-template template with a KV version 2 secret and AWS credentials is rendered
 *   to its file with its mode, the credentials are moto's for the role, and the file is
 *   rendered again when the secret rotates;
 * - exec mode starts the program with the secrets in its environment, and starts it
 *   again with the new secret when it rotates, the leased credentials unchanged.
 *
 * test/infra/cli-bundle.test.ts covers the bundle's contents and one agent run in
 * Coffer's own configuration; test/infra/image.test.ts the image with the manifests'
 * configurations. Needs root and unshare, as those do; skipped with a loud line without
 * them, and a failure under CI=true.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, CLI_ENTRY } from "../../scripts/build.ts";
import { mountAwsOnMoto } from "../support/aws-engine-fixture.ts";
import { motoAvailable, useMoto } from "../support/moto.ts";
import { SHOP_SECRETS, useShopDevServer } from "../support/shop-dev-server.ts";
import { waitFor } from "../support/wait.ts";
import { api, startProcess } from "./cli-harness.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** The shop's policy, and AWS credentials. */
const POLICY = `
path "secret/data/shop/*" { capabilities = ["read"] }
path "aws/creds/deploy" { capabilities = ["read"] }
`;

/** Root and a mount namespace: to bind the secrets directory and make the rest read-only. */
function canIsolate(): boolean {
  return process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "true"]).status === 0;
}

const isolated = canIsolate();
if (!isolated) {
  const reason = "running the bundle on a read-only root needs root and unshare --mount";
  if (process.env.CI === "true") {
    it("runs the shipped agent on a read-only root", () => {
      throw new Error(`${reason}: not available here`);
    });
  } else {
    console.warn(`\n!!! SKIPPED: test/e2e/shipped-agent.test.ts: ${reason}\n`);
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

const runnable = isolated && motoAvailable();

describe.runIf(runnable)("the shipped agent, from its bundle alone on a read-only root", () => {
  const moto = useMoto();
  const shop = useShopDevServer();
  let work: string;
  /** Where the bundle is copied: nothing else beside it. */
  let bundle: string;
  const children: ChildProcess[] = [];
  const root = (method: string, path: string, body?: unknown) =>
    api(shop.url, shop.rootToken, method, path, body);

  /**
   * `argv` run with only `writable` writable: the directory bound onto itself, then the
   * root filesystem (this machine's only one) made read-only, in a mount namespace of the
   * process's own. Its environment is PATH, and a TMPDIR that does not exist: a program
   * that needs a temporary directory cannot find or make one (tsx, which ran the command
   * before it was bundled, needs one at start).
   */
  function startIsolated(writable: string, argv: readonly string[]) {
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro / && shift && exec "$@"';
    const started = startProcess(
      "unshare",
      ["--mount", "--propagation", "private", "sh", "-ec", script, "sh", writable, ...argv],
      { PATH: process.env.PATH, TMPDIR: join(work, "no-temp") },
    );
    children.push(started.child);
    return started;
  }

  /** The bundled agent with a Vault Agent configuration, in a directory of its own that it may write. */
  async function startAgent(name: string, config: (dir: string) => Record<string, unknown>) {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const token = join(dir, "token");
    writeFileSync(token, await shop.projectedToken());
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({
        vault: { address: shop.url },
        auto_auth: {
          method: {
            type: "kubernetes",
            mount_path: "auth/kubernetes",
            config: { role: "shop-api", token_path: token },
          },
        },
        template_config: { static_secret_render_interval: "300ms" },
        ...config(dir),
      }),
    );
    const agent = startIsolated(dir, [
      process.execPath,
      join(bundle, `${CLI_ENTRY.name}.mjs`),
      "agent",
      "--config",
      file,
    ]);
    /** For the checks it waits on: an agent that ended will not write anything more. */
    const stillRunning = () => {
      if (agent.child.exitCode !== null) throw new Error(`the agent exited: ${agent.stderr()}`);
    };
    return { dir, stillRunning, ...agent };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "coffer-shipped-agent-"));
    const built = await buildCli({ root: ROOT, outRoot: join(work, "build") });
    bundle = join(work, "coffer");
    cpSync(built.outdir, bundle, { recursive: true });
    rmSync(join(work, "build"), { recursive: true, force: true });

    await root("PUT", "sys/policies/acl/shop-api", { policy: POLICY });
    await mountAwsOnMoto(root, moto);
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  });

  it("has nothing beside the bundle, and leaves nothing writable but the agent's directory", async () => {
    expect(existsSync(join(bundle, `${CLI_ENTRY.name}.mjs`))).toBe(true);
    const parents = bundle.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/") || "/");
    expect(parents.filter((dir) => existsSync(join(dir, "node_modules")))).toEqual([]);
    const dir = join(work, "probe");
    mkdirSync(dir);
    // Each write in a process of its own: the first that fails ends it.
    const write = async (path: string) => {
      const node = 'const fs = require("fs"), os = require("os"), path = require("path")';
      const probe = startIsolated(dir, [process.execPath, "-e", `${node}; fs.writeFileSync(${path}, "x")`]);
      return { code: await probe.exited, stderr: probe.stderr() };
    };
    expect(await write(JSON.stringify(join(dir, "written")))).toMatchObject({ code: 0 });
    expect(readText(join(dir, "written"))).toBe("x");
    const outside = await write(JSON.stringify(join(tmpdir(), "coffer-shipped-probe")));
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain("EROFS");
    expect(existsSync(join(tmpdir(), "coffer-shipped-probe"))).toBe(false);
    const temp = await write('path.join(os.tmpdir(), "probe")');
    expect(temp.code).not.toBe(0);
    expect(temp.stderr).toContain("ENOENT");
  });

  it("renders a KV secret and AWS credentials with a consul-template template, and renders it again on rotation", async () => {
    const contents = `{{- with secret "secret/data/shop/db" -}}
password = {{ .Data.data.password }}
{{ end -}}
{{ with secret "aws/creds/deploy" -}}
aws_access_key_id = {{ .Data.access_key }}
aws_secret_access_key = {{ .Data.secret_key }}
aws_session_token = {{ .Data.security_token }}
{{ end -}}`;
    const agent = await startAgent("files", (dir) => ({
      template: [{ contents, destination: join(dir, "out", "app.conf"), perms: "0640" }],
    }));
    const out = join(agent.dir, "out", "app.conf");
    try {
      const first = await waitFor("the first render", () => {
        agent.stillRunning();
        return readText(out);
      });
      expect(first.startsWith(`password = ${SHOP_SECRETS.db.password}\n`)).toBe(true);
      expect(statSync(out).mode & 0o777).toBe(0o640);
      const value = (name: string) => new RegExp(`^${name} = (\\S+)$`, "m").exec(first)?.[1] as string;
      // Credentials moto issued for the role: STS knows whose they are.
      const sts = new STSClient({
        endpoint: moto.endpoint,
        region: moto.region,
        credentials: {
          accessKeyId: value("aws_access_key_id"),
          secretAccessKey: value("aws_secret_access_key"),
          sessionToken: value("aws_session_token"),
        },
      });
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      expect(identity.Arn).toMatch(/:assumed-role\/deploy\//);

      await shop.writeSecret("db", { password: "second-password" });
      const rotated = await waitFor("the rotated secret in the file", () => {
        agent.stillRunning();
        const text = readText(out);
        return text?.startsWith("password = second-password\n") ? text : undefined;
      });
      // The lease is held, not read again: the same credentials.
      expect(rotated.slice(rotated.indexOf("aws_access_key_id"))).toBe(
        first.slice(first.indexOf("aws_access_key_id")),
      );
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited, agent.stderr()).toBe(0);
    for (const secret of [SHOP_SECRETS.db.password, "second-password"]) {
      expect(agent.stderr()).not.toContain(secret);
    }
  });

  it("exec mode: runs the program with its secrets in its environment, and again with the rotated one", async () => {
    await shop.writeSecret("db", { password: "exec-first" });
    const agent = await startAgent("exec", (dir) => ({
      env_template: {
        DB_PASSWORD: {
          contents: '{{ with secret "secret/data/shop/db" }}{{ .Data.data.password }}{{ end }}',
          error_on_missing_key: true,
        },
        AWS_ACCESS_KEY_ID: {
          contents: '{{ with secret "aws/creds/deploy" }}{{ .Data.access_key }}{{ end }}',
        },
      },
      exec: {
        command: [
          "sh",
          "-c",
          `echo "$DB_PASSWORD $AWS_ACCESS_KEY_ID $$" >> ${join(dir, "runs.log")}; trap 'exit 0' TERM; while :; do sleep 0.1; done`,
        ],
        restart_on_secret_changes: "always",
        restart_stop_signal: "SIGTERM",
      },
    }));
    const runs = () => (readText(join(agent.dir, "runs.log")) ?? "").split("\n").filter(Boolean);
    const started = (times: number) => () => {
      agent.stillRunning();
      return runs().length >= times ? runs() : undefined;
    };
    try {
      const [first] = await waitFor("the program's first start", started(1));
      expect(first).toMatch(/^exec-first \S+ \d+$/);
      await shop.writeSecret("db", { password: "exec-second" });
      const [, second] = await waitFor("the program's restart", started(2));
      const [, key, pid] = (first as string).split(" ");
      expect(second).toMatch(/^exec-second \S+ \d+$/);
      expect(second?.split(" ")[1]).toBe(key);
      expect(second?.split(" ")[2]).not.toBe(pid);
    } finally {
      agent.child.kill("SIGTERM");
    }
    expect(await agent.exited, agent.stderr()).toBe(0);
    expect(runs()).toHaveLength(2);
    expect(agent.stderr()).not.toContain("exec-second");
  });
});
