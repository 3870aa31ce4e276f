/**
 * Section 6: reads per second through real HTTP on `coffer dev` at several concurrency
 * levels, each level a fixed number of requests spread over that many workers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer } from "../../cli/dev.ts";
import { round, summarize } from "./measure.ts";

export interface ConcurrencyRow {
  concurrency: number;
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function benchHttpConcurrency(
  levels: readonly number[],
  requests: number,
): Promise<ConcurrencyRow[]> {
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-bench-"));
  const server = await startDevServer({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    inMemory: false,
    auditLog: join(dataDir, "audit.log"),
  });
  try {
    const headers = { "X-Vault-Token": server.rootToken };
    const url = `${server.url}/v1/secret/data/bench/db`;
    const write = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ data: { password: "pw" } }),
    });
    if (write.status !== 200) throw new Error(`write failed: ${write.status}`);
    const rows: ConcurrencyRow[] = [];
    for (const concurrency of levels) {
      const durations: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < requests) {
          next++;
          const start = performance.now();
          const response = await fetch(url, { headers });
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`read failed: ${response.status}`);
          durations.push(performance.now() - start);
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, worker));
      const summary = summarize(durations, performance.now() - started);
      rows.push({
        concurrency,
        requests: summary.count,
        perSecond: round(summary.perSecond, 0),
        p50Ms: round(summary.p50Ms),
        p99Ms: round(summary.p99Ms),
      });
    }
    return rows;
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
