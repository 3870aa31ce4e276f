/**
 * Section 4: cold start. The API bundle as shipped against a naive bundle built here that
 * eagerly imports Hono, jose, every engine and the DynamoDB, KMS, STS and IAM clients.
 * Each is loaded in a fresh Node process that serves one authenticated KV read (a Lambda
 * Function URL event against moto) and reports, from its own clock, how long it ran;
 * an empty Node process is the baseline. Overhead = bundle run - empty run, median of N,
 * in wall time and in the process's CPU time (user + system). On a shared machine the CPU
 * time is the steadier of the two: it leaves out waiting for moto and for a core.
 *
 * Two more rows say what observability costs: the shipped bundle with tracing on (as a
 * function with COFFER_TRACING=true under Lambda's active tracing runs it, its segments
 * sent to a daemon address on loopback where nothing listens), and Powertools' Logger and
 * Metrics alone, imported and used as the functions use them, in a bundle of their own.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { BUNDLE_OPTIONS, buildFunction } from "../build.ts";
import { round } from "./measure.ts";

const root = new URL("../../", import.meta.url).pathname;

/**
 * The naive baseline imports every engine the registry would load lazily (read from the
 * registry itself, so it stays complete) and creates every AWS client at module load.
 */
async function naiveEntry(): Promise<string> {
  const registry = await readFile(join(root, "shared/registry.ts"), "utf8");
  const engines = [...registry.matchAll(/import\("(\.[^"]+)"\)/g)].map((match) =>
    join("./shared", match[1] as string),
  );
  return [
    'import * as jose from "jose";',
    'import { DynamoDBClient } from "@aws-sdk/client-dynamodb";',
    'import { KMSClient } from "@aws-sdk/client-kms";',
    'import { STSClient } from "@aws-sdk/client-sts";',
    'import { IAMClient } from "@aws-sdk/client-iam";',
    ...engines.map((path, i) => `import * as engine${i} from "./${path}";`),
    `globalThis.__naive = { jose, engines: [${engines.map((_, i) => `engine${i}`).join(", ")}],`,
    "  clients: [new DynamoDBClient({}), new KMSClient({}), new STSClient({}), new IAMClient({})] };",
    'export { handler } from "./functions/api.ts";',
  ].join("\n");
}

/** Powertools' Logger and Metrics as the functions build them (functions/log-lines.ts, metrics.ts). */
const POWERTOOLS_ALONE = [
  'import { Logger } from "@aws-lambda-powertools/logger";',
  'import { Metrics } from "@aws-lambda-powertools/metrics";',
  'const logger = new Logger({ serviceName: "coffer" });',
  'const metrics = new Metrics({ namespace: "Coffer/bench", serviceName: "coffer" });',
  "metrics.clearDefaultDimensions();",
  'metrics.setDefaultDimensions({ Function: "api" });',
  "export const handler = async () => {",
  '  logger.info("served");',
  '  metrics.addMetric("Requests", "Count", 1);',
  "  metrics.publishStoredMetrics();",
  "  return { statusCode: 200 };",
  "};",
].join("\n");

/** What Lambda's runtime sets for a function with active tracing, and the stack's switch. */
const TRACED_ENV = {
  COFFER_TRACING: "true",
  AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
  LAMBDA_TASK_ROOT: "/var/task",
  _X_AMZN_TRACE_ID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  AWS_XRAY_DAEMON_ADDRESS: "127.0.0.1:2000",
};

async function bundleSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await bundleSize(path);
    else if (entry.name.endsWith(".mjs")) total += (await stat(path)).size;
  }
  return total;
}

export interface ColdStartRow {
  bundle: string;
  /** Every file of the bundle, lazily loaded chunks included. */
  sizeKiB: number;
  /** The entry file alone: what the runtime parses before the handler exists. */
  entryKiB: number;
  medianRunMs: number;
  /** Of the run: importing the bundle (module load and broker construction). */
  medianImportMs: number;
  /** Of the run: the first request (lazy chunks, first connections, keyring unwrap, reads). */
  medianFirstRequestMs: number;
  overheadMs: number;
  /** The process's CPU time, start to the first answer, and its overhead over an empty start. */
  medianCpuMs: number;
  cpuOverheadMs: number;
}

export interface ColdStartResult {
  rows: ColdStartRow[];
  emptyNodeMs: number;
  emptyNodeCpuMs: number;
  /** ours overhead / naive overhead: the target is at most 0.5. */
  overheadRatio: number;
  /** The same ratio in CPU time. */
  cpuOverheadRatio: number;
}

interface ChildRun {
  /** Milliseconds since the process started, when it was done. */
  totalMs: number;
  importMs: number;
  firstRequestMs: number;
  /** CPU time of the whole process, user + system. */
  cpuMs: number;
}

function runChild(script: string, env: Record<string, string>): ChildRun {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`cold start run failed: ${result.stderr}`);
  const run = JSON.parse(result.stdout.trim().split("\n").pop() ?? "") as ChildRun;
  if (!Number.isFinite(run.totalMs)) throw new Error(`cold start run printed no time: ${result.stdout}`);
  return run;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** `env` configures the functions (table, key, endpoint); `token` may read secret/bench/db. */
export async function benchColdStart(
  env: Record<string, string>,
  token: string,
  runs: number,
): Promise<ColdStartResult> {
  const dir = await mkdtemp(join(tmpdir(), "coffer-coldstart-"));
  try {
    const ours = await buildFunction(
      { name: "api", entry: "functions/api.ts", handlerExport: "handler" },
      { root, outRoot: join(dir, "ours") },
    );
    const oursEntry = join(ours.outdir, "api.mjs");
    const naiveDir = join(dir, "naive");
    await build({
      ...BUNDLE_OPTIONS,
      logLevel: "silent",
      stdin: { contents: await naiveEntry(), resolveDir: root, loader: "ts", sourcefile: "naive-api.ts" },
      outfile: join(naiveDir, "index.mjs"),
    });
    const powertoolsDir = join(dir, "powertools");
    await build({
      ...BUNDLE_OPTIONS,
      logLevel: "silent",
      stdin: { contents: POWERTOOLS_ALONE, resolveDir: root, loader: "ts", sourcefile: "powertools.ts" },
      outfile: join(powertoolsDir, "index.mjs"),
    });

    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/v1/secret/data/bench/db",
      rawQueryString: "",
      headers: { "x-vault-token": token, host: "bench.lambda-url.us-east-1.on.aws" },
      requestContext: {
        http: {
          method: "GET",
          path: "/v1/secret/data/bench/db",
          protocol: "HTTP/1.1",
          sourceIp: "127.0.0.1",
          userAgent: "bench",
        },
        domainName: "bench.lambda-url.us-east-1.on.aws",
        requestId: "bench",
        routeKey: "$default",
        stage: "$default",
        timeEpoch: 0,
      },
      isBase64Encoded: false,
    };
    const serveOnce = (file: string) => `
      const started = performance.now();
      const { handler } = await import(${JSON.stringify(file)});
      const imported = performance.now();
      const response = await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 30000 });
      if (response.statusCode !== 200) { console.error("status " + response.statusCode + " " + response.body); process.exit(3); }
      const done = performance.now();
      const cpu = process.cpuUsage();
      console.log(JSON.stringify({ totalMs: done, importMs: imported - started, firstRequestMs: done - imported, cpuMs: (cpu.user + cpu.system) / 1000 }));`;
    const childEnv = env;

    const emptyRuns: ChildRun[] = [];
    const oursRuns: ChildRun[] = [];
    const naiveRuns: ChildRun[] = [];
    const tracedRuns: ChildRun[] = [];
    const powertoolsRuns: ChildRun[] = [];
    // Interleaved, so drift in machine load hits all three alike.
    for (let i = 0; i < runs; i++) {
      emptyRuns.push(
        runChild(
          "const cpu = process.cpuUsage(); console.log(JSON.stringify({ totalMs: performance.now(), importMs: 0, firstRequestMs: 0, cpuMs: (cpu.user + cpu.system) / 1000 }));",
          childEnv,
        ),
      );
      oursRuns.push(runChild(serveOnce(oursEntry), childEnv));
      naiveRuns.push(runChild(serveOnce(join(naiveDir, "index.mjs")), childEnv));
      tracedRuns.push(runChild(serveOnce(oursEntry), { ...childEnv, ...TRACED_ENV }));
      powertoolsRuns.push(runChild(serveOnce(join(powertoolsDir, "index.mjs")), childEnv));
    }
    const emptyNodeMs = median(emptyRuns.map((run) => run.totalMs));
    const emptyNodeCpuMs = median(emptyRuns.map((run) => run.cpuMs));
    const row = async (
      bundle: string,
      runs: ChildRun[],
      outDir: string,
      entry: string,
    ): Promise<ColdStartRow> => {
      const total = median(runs.map((run) => run.totalMs));
      return {
        bundle,
        sizeKiB: round((await bundleSize(outDir)) / 1024, 1),
        entryKiB: round((await stat(entry)).size / 1024, 1),
        medianRunMs: round(total, 1),
        medianImportMs: round(median(runs.map((run) => run.importMs)), 1),
        medianFirstRequestMs: round(median(runs.map((run) => run.firstRequestMs)), 1),
        overheadMs: round(total - emptyNodeMs, 1),
        medianCpuMs: round(median(runs.map((run) => run.cpuMs)), 1),
        cpuOverheadMs: round(median(runs.map((run) => run.cpuMs)) - emptyNodeCpuMs, 1),
      };
    };
    const shipped = await row("api (as shipped)", oursRuns, ours.outdir, oursEntry);
    const naive = await row("naive eager baseline", naiveRuns, naiveDir, join(naiveDir, "index.mjs"));
    const traced = await row("api, tracing on", tracedRuns, ours.outdir, oursEntry);
    const powertools = await row(
      "Powertools Logger + Metrics alone",
      powertoolsRuns,
      powertoolsDir,
      join(powertoolsDir, "index.mjs"),
    );
    return {
      rows: [shipped, naive, traced, powertools],
      emptyNodeMs: round(emptyNodeMs, 1),
      emptyNodeCpuMs: round(emptyNodeCpuMs, 1),
      overheadRatio: round(shipped.overheadMs / naive.overheadMs),
      cpuOverheadRatio: round(shipped.cpuOverheadMs / naive.cpuOverheadMs),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
