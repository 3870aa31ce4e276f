/**
 * The load generator of the HTTP section, in its own process so that sending requests
 * does not share an event loop with serving them: closed-loop clients over node:http
 * keep-alive connections, one connection per client, each sending its next request when
 * the last answer arrived. Forked by http-concurrency.ts; each message is one run.
 */
import { Agent, get } from "node:http";
import { summarize } from "./measure.ts";

export interface LoadRun {
  url: string;
  token: string;
  concurrency: number;
  /** Requests per client before the clock starts: connections open, servers warm. */
  warmup: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

async function run(load: LoadRun): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency });
  const headers = { "X-Vault-Token": load.token };
  let failed = 0;
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const start = performance.now();
      get(load.url, { agent, headers }, (response) => {
        if (response.statusCode !== 200) failed++;
        response.resume();
        response.on("end", () => resolve(performance.now() - start));
        response.on("error", reject);
      }).on("error", reject);
    });
  // Every client warms up first (its connection opened, both ends' code warm); the clock
  // starts when all have.
  await Promise.all(
    Array.from({ length: load.concurrency }, async () => {
      for (let i = 0; i < load.warmup; i++) await once();
    }),
  );
  failed = 0;
  const durations: number[] = [];
  const started = performance.now();
  const deadline = started + load.durationMs;
  await Promise.all(
    Array.from({ length: load.concurrency }, async () => {
      while (performance.now() < deadline) durations.push(await once());
    }),
  );
  const wall = performance.now() - started;
  agent.destroy();
  const summary = summarize(durations, wall);
  return { ...summary, requests: summary.count, failed };
}

process.on("message", async (message) => {
  if (message === "stop") process.exit(0);
  process.send?.(await run(message as LoadRun));
});
