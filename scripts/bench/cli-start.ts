/**
 * Section 7: how fast the `coffer` command starts and how much memory it takes. Each
 * command runs in a fresh Node process, interleaved in rounds with an empty Node start
 * (`node -e 0`), the baseline measured in the same round: `coffer --help`, `coffer kv get`
 * and `coffer agent --once` (a Kubernetes login and one secret written to a file) against a
 * `coffer dev` on loopback. The bundle as `npm run build` makes it, built into a directory
 * with no node_modules; then the same commands from the TypeScript sources through tsx,
 * as a checkout runs them. Wall time from spawn to exit on this process's clock; peak RSS
 * from GNU time (`/usr/bin/time -f %M`). The ratio is taken per round, then its median.
 * Last, the agent as a sidecar for two minutes (one in `npm run bench`), shaped like the manifests' sidecar (three
 * files, one a template; reads every second, a 30 s token renewed), for its peak RSS
 * (VmHWM), which the manifests' memory limits are sized from.
 *
 * Alone: `npx tsx scripts/bench/cli-start.ts [--rounds N]`; also part of `npm run bench`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { requestDevToken } from "../../cli/dev-token.ts";
import { freePort } from "../../test/support/moto.ts";
import { buildCli } from "../build.ts";
import { percentile, round } from "./measure.ts";

const root = new URL("../../", import.meta.url).pathname;
const ROOT_TOKEN = "bench-root-token";

interface Run {
  wallMs: number;
  /** User and system CPU time: less disturbed than wall time by other work on the machine. */
  cpuMs: number;
  peakRssKiB: number;
}

/** One fresh process under GNU time; fails loudly if the command does. */
function measure(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "%M %U %S", process.execPath, ...args], {
      cwd,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      const wallMs = performance.now() - started;
      const [rss, user, system] = (stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number);
      const peakRssKiB = rss ?? Number.NaN;
      const cpuMs = ((user ?? Number.NaN) + (system ?? Number.NaN)) * 1000;
      if (code !== 0 || !Number.isFinite(peakRssKiB) || !Number.isFinite(cpuMs)) {
        reject(new Error(`node ${args.join(" ")} failed (${code}): ${stderr}`));
      } else resolve({ wallMs, cpuMs, peakRssKiB });
    });
  });
}

async function startDevServer(port: number): Promise<ChildProcess> {
  const server = spawn(
    process.execPath,
    [join(root, "cli/bin.mjs"), "dev", "--port", String(port), "--in-memory", "--root-token", ROOT_TOKEN],
    { stdio: "ignore" },
  );
  const address = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt++) {
    const ready = await fetch(`${address}/v1/sys/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return server;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill();
  throw new Error("coffer dev did not start");
}

async function call(address: string, method: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${address}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": ROOT_TOKEN, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

export interface CliStartRow {
  command: string;
  runs: string;
  medianMs: number;
  medianCpuMs: number;
  medianPeakRssMiB: number;
  /** Median CPU time over the empty start's. */
  cpuRatio: number;
  /** Median over rounds of (this command's wall time / the empty start's in that round). */
  ratio: number;
  /** The middle half of the per-round ratios: how noisy the machine was. */
  ratioP25: number;
  ratioP75: number;
}

export interface CliStartResult {
  rounds: number;
  emptyNode: { medianMs: number; medianCpuMs: number; medianPeakRssMiB: number };
  rows: CliStartRow[];
  /** The agent as a sidecar: three files, read every second, a 30 s token renewed. */
  sidecar: { seconds: number; peakRssMiB: number };
}

/** The sidecar's peak RSS (VmHWM) after running `seconds`, then stopped with SIGTERM. */
async function sidecarPeak(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  seconds: number,
): Promise<number> {
  const agent = spawn(process.execPath, args, { env, stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const status = await readFile(`/proc/${agent.pid}/status`, "utf8");
  agent.kill("SIGTERM");
  const peak = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (agent.exitCode !== null || !peak) throw new Error("the sidecar did not keep running");
  return Number(peak);
}

export async function benchCliStart(rounds: number, sidecarSeconds = 120): Promise<CliStartResult> {
  const work = await mkdtemp(join(tmpdir(), "coffer-bench-cli-"));
  const port = await freePort();
  const address = `http://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  try {
    const bundle = await buildCli({ root, outRoot: join(work, "build") });
    server = await startDevServer(port);
    await call(address, "POST", "secret/data/bench/db", {
      data: { password: "bench-password", user: "app" },
    });
    await call(address, "POST", "secret/data/bench/api", { data: { key: "bench-api-key" } });
    await call(address, "PUT", "sys/policies/acl/bench", {
      policy: 'path "secret/data/bench/*" { capabilities = ["read"] }',
    });
    await call(address, "POST", "auth/kubernetes/role/bench", {
      bound_service_account_names: "bench",
      bound_service_account_namespaces: "bench",
      audience: "coffer",
      token_policies: "bench",
      // Short, so that the sidecar renews its token while it is measured.
      token_ttl: "30s",
    });
    const jwt = await requestDevToken(
      address,
      { namespace: "bench", serviceAccount: "bench", audience: "coffer", ttl: "1h" },
      ROOT_TOKEN,
    );
    await writeFile(join(work, "token"), jwt);
    await mkdir(join(work, "out"));
    await writeFile(
      join(work, "agent.yaml"),
      [
        "auth: { method: kubernetes, role: bench, token_file: token }",
        "secrets:",
        "  - { path: secret/data/bench/db, destination: out/password, format: raw, field: password }",
      ].join("\n"),
    );
    await writeFile(
      join(work, "sidecar.yaml"),
      [
        "auth: { method: kubernetes, role: bench, token_file: token }",
        "secrets:",
        "  - { path: secret/data/bench/db, destination: out/sidecar-password, format: raw, field: password }",
        "  - { path: secret/data/bench/api, destination: out/api.json, format: json }",
        "  - destination: out/app.conf",
        "    format: template",
        "    template: |",
        '      database_url = "postgres://app:{{ secret "secret/data/bench/db" "password" | urlquery }}@db/app"',
        '      api_key = {{ secret "secret/data/bench/api" "key" | json }}',
        "refresh_interval: 1s",
      ].join("\n"),
    );
    const env = { PATH: process.env.PATH, HOME: work, COFFER_ADDR: address, COFFER_TOKEN: ROOT_TOKEN };
    const entry = join(bundle.outdir, "coffer.mjs");
    const sources = join(root, "cli/bin.mjs");
    const commands: [string, string[]][] = [
      ["node -e 0", ["-e", "0"]],
      ["coffer --help", [entry, "--help"]],
      ["coffer kv get", [entry, "kv", "get", "secret/bench/db"]],
      ["coffer agent --once", [entry, "agent", "--once", "--config", join(work, "agent.yaml")]],
      ["coffer --help (sources, tsx)", [sources, "--help"]],
      ["coffer kv get (sources, tsx)", [sources, "kv", "get", "secret/bench/db"]],
      [
        "coffer agent --once (sources, tsx)",
        [sources, "agent", "--once", "--config", join(work, "agent.yaml")],
      ],
    ];
    const runs = new Map<string, Run[]>(commands.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      // A different order each round, so no command always follows the same one.
      const order = commands.map((_, i) => commands[(i + r) % commands.length] as [string, string[]]);
      for (const [name, args] of order) runs.get(name)?.push(await measure(args, env, work));
    }
    const sidecarKiB = await sidecarPeak(
      [entry, "agent", "--config", join(work, "sidecar.yaml")],
      env,
      sidecarSeconds,
    );
    const empty = runs.get("node -e 0") as Run[];
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    const mib = (kib: number) => round(kib / 1024, 1);
    return {
      rounds,
      emptyNode: {
        medianMs: round(median(empty.map((run) => run.wallMs)), 0),
        medianCpuMs: round(median(empty.map((run) => run.cpuMs)), 0),
        medianPeakRssMiB: mib(median(empty.map((run) => run.peakRssKiB))),
      },
      sidecar: { seconds: sidecarSeconds, peakRssMiB: mib(sidecarKiB) },
      rows: commands.slice(1).map(([name]) => {
        const own = runs.get(name) as Run[];
        const ratios = own.map((run, i) => run.wallMs / (empty[i] as Run).wallMs).sort((a, b) => a - b);
        return {
          command: name,
          runs: String(own.length),
          medianMs: round(median(own.map((run) => run.wallMs)), 0),
          medianCpuMs: round(median(own.map((run) => run.cpuMs)), 0),
          medianPeakRssMiB: mib(median(own.map((run) => run.peakRssKiB))),
          cpuRatio: round(median(own.map((run) => run.cpuMs)) / median(empty.map((run) => run.cpuMs)), 2),
          ratio: round(percentile(ratios, 50), 2),
          ratioP25: round(percentile(ratios, 25), 2),
          ratioP75: round(percentile(ratios, 75), 2),
        };
      }),
    };
  } finally {
    server?.kill("SIGTERM");
    await rm(work, { recursive: true, force: true });
  }
}

export function printCliStart(result: CliStartResult): void {
  console.log(
    `   empty Node start: ${result.emptyNode.medianMs} ms, ${result.emptyNode.medianCpuMs} ms CPU, ${result.emptyNode.medianPeakRssMiB} MiB; ${result.rounds} interleaved rounds`,
  );
  console.table(result.rows);
  console.log(
    `   coffer agent as a sidecar (three files, refresh every 1 s, 30 s token), peak RSS after ${result.sidecar.seconds} s: ${result.sidecar.peakRssMiB} MiB`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf("--rounds");
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 20;
  const result = await benchCliStart(rounds);
  console.log("The coffer command: start to exit and peak RSS, over an empty Node start");
  printCliStart(result);
  console.log(JSON.stringify(result));
}
