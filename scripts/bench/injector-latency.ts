/**
 * The injector's admission latency, measured apart from `npm run bench` because it runs
 * inside the API server's request (the webhook's timeout is 5 s, Kubernetes' ceiling 10 s):
 *
 *   1. in process: the pure AdmissionReview function, on a Deployment's pod and on a pod
 *      with init containers, volumes and three containers;
 *   2. through the Lambda handler: the shipped bundle (scripts/build.ts) given function URL
 *      events, JSON in and out, as Lambda calls it warm;
 *   3. cold start: the bundle loaded in a fresh Node process that answers one review, against
 *      an empty Node start, median of N interleaved runs.
 *
 * Prints one JSON object. `npx tsx scripts/bench/injector-latency.ts [runs]`
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reviewAdmission } from "../../shared/injector/admission-review.ts";
import { CASES, OPTIONS } from "../../test/support/admission-cases.ts";
import { buildFunction } from "../build.ts";
import { round, sample } from "./measure.ts";

const root = new URL("../../", import.meta.url).pathname;
const COUNT = 5_000;

function reviewOf(name: string) {
  const entry = CASES.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`no case ${name}`);
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "bench",
      kind: { kind: "Pod" },
      operation: "CREATE",
      namespace: "shop",
      object: entry.pod,
    },
  };
}

const eventOf = (review: unknown) => ({
  version: "2.0",
  rawPath: "/",
  requestContext: { http: { method: "POST", path: "/" } },
  body: JSON.stringify(review),
  isBase64Encoded: false,
});

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

function runChild(script: string, env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env,
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`cold start run failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as {
    totalMs: number;
    importMs: number;
    firstMs: number;
  };
}

async function main() {
  const runs = Number(process.argv[2] ?? 15);
  const dir = await mkdtemp(join(tmpdir(), "coffer-injector-bench-"));
  try {
    // One after the other: each sample runs its operations sequentially, and so must they.
    const inProcess = {
      deploymentPod: await sample(COUNT, async () => reviewAdmission(reviewOf("deployment-pod"), OPTIONS)),
      busyPod: await sample(COUNT, async () => reviewAdmission(reviewOf("busy-pod"), OPTIONS)),
    };

    const report = await buildFunction(
      { name: "injector", entry: "functions/injector.ts", handlerExport: "handler" },
      { root, outRoot: dir },
    );
    const entry = join(report.outdir, "injector.mjs");
    const env = { ...process.env, COFFER_INJECTOR_ADDRESS: OPTIONS.address };
    process.env.COFFER_INJECTOR_ADDRESS = OPTIONS.address;
    const { handler } = (await import(entry)) as {
      handler: (event: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const event = eventOf(reviewOf("deployment-pod"));
    const first = await handler(event);
    if (first.statusCode !== 200) throw new Error(`the handler answered ${first.statusCode}: ${first.body}`);
    const throughHandler = {
      deploymentPod: await sample(COUNT, () => handler(event)),
      busyPod: await sample(COUNT, () => handler(eventOf(reviewOf("busy-pod")))),
    };

    const serveOnce = `
      const started = performance.now();
      const { handler } = await import(${JSON.stringify(entry)});
      const imported = performance.now();
      const response = await handler(${JSON.stringify(event)});
      if (response.statusCode !== 200) { console.error(response.body); process.exit(3); }
      const done = performance.now();
      console.log(JSON.stringify({ totalMs: done, importMs: imported - started, firstMs: done - imported }));`;
    const empty: number[] = [];
    const cold: { totalMs: number; importMs: number; firstMs: number }[] = [];
    // Interleaved, so drift in the machine's load hits both alike.
    for (let i = 0; i < runs; i++) {
      empty.push(
        runChild("console.log(JSON.stringify({ totalMs: performance.now(), importMs: 0, firstMs: 0 }));", env)
          .totalMs,
      );
      cold.push(runChild(serveOnce, env));
    }
    const emptyMs = median(empty);
    const totalMs = median(cold.map((run) => run.totalMs));
    const ms = (value: number) => round(value, 3);
    const latency = (s: Awaited<(typeof inProcess)["busyPod"]>) => ({
      p50Ms: ms(s.p50Ms),
      p99Ms: ms(s.p99Ms),
    });
    process.stdout.write(
      `${JSON.stringify(
        {
          node: process.version,
          samples: COUNT,
          inProcess: {
            deploymentPod: latency(await inProcess.deploymentPod),
            busyPod: latency(await inProcess.busyPod),
          },
          throughLambdaHandler: {
            deploymentPod: latency(throughHandler.deploymentPod),
            busyPod: latency(throughHandler.busyPod),
          },
          coldStart: {
            runs,
            bundleKiB: round(report.bytes / 1024, 1),
            entryKiB: round((await stat(entry)).size / 1024, 1),
            emptyNodeMs: round(emptyMs, 1),
            medianRunMs: round(totalMs, 1),
            medianImportMs: round(median(cold.map((run) => run.importMs)), 1),
            medianFirstAnswerMs: round(median(cold.map((run) => run.firstMs)), 1),
            overheadMs: round(totalMs - emptyMs, 1),
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
