/**
 * A server for the HTTP section, in its own process so that its memory is its own and the
 * load comes from elsewhere: `coffer dev` on a prepared data directory, or the bare-Hono
 * baseline over the same SQLite file. Forked by http-concurrency.ts; it sends `{ url }`
 * once listening, answers "memory" with the peak RSS since the last ask, and exits on
 * "stop".
 *
 *   http-server.ts coffer-dev <data dir> <root token>
 *   http-server.ts bare-hono <data dir> <mount uuid> <binding as JSON>
 */
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { startDevServer } from "../../cli/dev.ts";
import { openSqliteStore } from "../../shared/store/sqlite.node.ts";
import { createBareKvApp } from "./bare-hono.ts";
import { baselineEnvelope, decryptWithNodeCrypto } from "./baseline-envelope.ts";
import { BENCH_SECRET } from "./kv-fixture.ts";

const MEMORY_SAMPLE_MS = 100;

async function start(
  kind: string,
  dataDir: string,
  rest: string[],
): Promise<{ url: string; close(): Promise<void> }> {
  if (kind === "coffer-dev") {
    const server = await startDevServer({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      inMemory: false,
      rootToken: rest[0],
    });
    return server;
  }
  if (kind === "bare-hono") {
    const [mountUuid, binding] = rest as [string, string];
    const store = openSqliteStore({ path: join(dataDir, "coffer.db") });
    const envelope = await baselineEnvelope(BENCH_SECRET, JSON.parse(binding));
    const app = createBareKvApp(store, mountUuid, envelope, decryptWithNodeCrypto);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(listening));
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      async close() {
        await new Promise((resolve) => server.close(resolve));
        await store.close();
      },
    };
  }
  throw new Error(`unknown server kind ${kind}`);
}

const [kind = "", dataDir = "", ...rest] = process.argv.slice(2);
const server = await start(kind, dataDir, rest);
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, MEMORY_SAMPLE_MS);
process.on("message", async (message) => {
  if (message === "memory") {
    process.send?.({ peakRssMiB: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20 });
    peakRss = process.memoryUsage.rss();
  } else if (message === "stop") {
    clearInterval(sampler);
    await server.close();
    process.exit(0);
  }
});
process.send?.({ url: server.url });
