/**
 * Section 6: warm KV reads per second over real HTTP, `coffer dev` against the bare-Hono
 * baseline serving the same SQLite file, each server in its own process and the load from
 * a third (http-load.ts). Rounds interleave the two servers at every concurrency level,
 * the order alternating; the comparison is the ratio of their throughputs within a round.
 * The reads use a token bound to a read-only policy, as a workload's. Each server reports
 * its peak resident memory under load.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBroker } from "../../cli/local-broker.ts";
import { ask, forkScript, stopAll } from "./forked-script.ts";
import type { LoadResult, LoadRun } from "./http-load.ts";
import { SECRET_URL, writeKvFixture } from "./kv-fixture.ts";
import { median, type Ratio, ratioOf, round } from "./measure.ts";

export interface HttpLevel {
  concurrency: number;
  /** Medians over the rounds. */
  cofferDev: { perSecond: number; p50Ms: number; p99Ms: number };
  bareHono: { perSecond: number; p50Ms: number; p99Ms: number };
  /** Per-round coffer dev / bare Hono throughput. */
  throughputRatio: Ratio;
  failed: number;
}

export interface HttpResult {
  rounds: number;
  durationMs: number;
  levels: HttpLevel[];
  peakRssMiB: { cofferDev: number; bareHono: number };
}

export async function benchHttpConcurrency(options: {
  levels: readonly number[];
  rounds: number;
  durationMs: number;
}): Promise<HttpResult> {
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-bench-http-"));
  const children: ChildProcess[] = [];
  try {
    const seed = await createLocalBroker({ dataDir });
    const fixture = await writeKvFixture(seed);
    await seed.store.close();
    const servers = {
      cofferDev: await forkScript("./http-server.ts", ["coffer-dev", dataDir, fixture.rootToken]),
      bareHono: await forkScript("./http-server.ts", [
        "bare-hono",
        dataDir,
        fixture.mountUuid,
        JSON.stringify(fixture.binding),
      ]),
    };
    children.push(servers.cofferDev.child, servers.bareHono.child);
    // The load generator announces nothing: each message it sends answers one run.
    const generator = fork(new URL("./http-load.ts", import.meta.url).pathname, [], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    children.push(generator);
    const names = ["cofferDev", "bareHono"] as const;
    const samples = new Map<string, LoadResult[]>();
    const peakRssMiB = { cofferDev: 0, bareHono: 0 };
    for (let r = 0; r < options.rounds; r++) {
      for (const concurrency of options.levels) {
        for (let s = 0; s < names.length; s++) {
          const name = names[(r + s) % names.length] as (typeof names)[number];
          const { url } = servers[name].first as { url: string };
          const run: LoadRun = {
            url: `${url}${SECRET_URL}`,
            token: fixture.policyToken,
            concurrency,
            warmup: 20,
            durationMs: options.durationMs,
          };
          const result = await ask<LoadResult>(generator, run);
          const key = `${name}/${concurrency}`;
          samples.set(key, [...(samples.get(key) ?? []), result]);
          const memory = await ask<{ peakRssMiB: number }>(servers[name].child, "memory");
          peakRssMiB[name] = Math.max(peakRssMiB[name], round(memory.peakRssMiB, 0));
        }
      }
    }
    const levels = options.levels.map((concurrency): HttpLevel => {
      const of = (name: string) => samples.get(`${name}/${concurrency}`) ?? [];
      const summary = (runs: LoadResult[]) => ({
        perSecond: round(median(runs.map((run) => run.perSecond)), 0),
        p50Ms: round(median(runs.map((run) => run.p50Ms))),
        p99Ms: round(median(runs.map((run) => run.p99Ms))),
      });
      return {
        concurrency,
        cofferDev: summary(of("cofferDev")),
        bareHono: summary(of("bareHono")),
        throughputRatio: ratioOf(
          of("cofferDev").map((run) => run.perSecond),
          of("bareHono").map((run) => run.perSecond),
        ),
        failed: [...of("cofferDev"), ...of("bareHono")].reduce((sum, run) => sum + run.failed, 0),
      };
    });
    return { rounds: options.rounds, durationMs: options.durationMs, levels, peakRssMiB };
  } finally {
    await stopAll(children);
    await rm(dataDir, { recursive: true, force: true });
  }
}
