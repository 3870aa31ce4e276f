/**
 * What a caller without a token can make the broker spend: a 1 MB body of 200,000
 * one-letter strings, sent without a token to three write paths, through the app on
 * `coffer dev`'s adapters (SQLite file, audit log file), next to the same requests with
 * an empty body. Prints the CPU time (user + system) per request and the audit log bytes
 * each caused.
 *
 *   npx tsx scripts/bench/unauthenticated-body.ts
 *
 * Not part of `npm run bench`: it measures a defence, not the hot path.
 */
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalBroker } from "../../cli/local-broker.ts";
import { createApp } from "../../shared/app.ts";
import { initialize } from "../../shared/sys/init.ts";
import { round } from "./measure.ts";

const STRINGS = 200_000;
const REQUESTS = 5;

/** `{"x":["a", "a", ...]}`, padded with spaces to exactly 1,000,000 bytes. */
function hostileBody(): string {
  const body = `{"x":[${Array.from({ length: STRINGS }, () => '"a"').join(",")}]}`;
  return body.replace("[", `[${" ".repeat(1_000_000 - body.length)}`);
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-unauthenticated-"));
  const auditLog = join(dataDir, "audit.log");
  try {
    const broker = await createLocalBroker({ dataDir, auditLog });
    await initialize(broker);
    const app = createApp(broker, { logError: () => {} });
    const send = async (path: string, body: string) => {
      const response = await app.request(`/v1/${path}`, { method: "POST", body });
      await response.arrayBuffer();
      return response.status;
    };
    const rows = [];
    for (const body of [hostileBody(), "{}"]) {
      for (const path of ["secret/data/app/db", "auth/token/create", "sys/policies/acl/x"]) {
        await send(path, body); // loads the engine's code: not what is measured
        const statuses = new Set<number>();
        const auditBefore = statSync(auditLog).size;
        const cpu = process.cpuUsage();
        for (let i = 0; i < REQUESTS; i++) statuses.add(await send(path, body));
        const used = process.cpuUsage(cpu);
        rows.push({
          path,
          "body bytes": Buffer.byteLength(body),
          status: [...statuses].join(","),
          "CPU ms per request": round((used.user + used.system) / 1000 / REQUESTS, 1),
          "audit bytes per request": Math.round((statSync(auditLog).size - auditBefore) / REQUESTS),
        });
      }
    }
    console.table(rows);
    await broker.store.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
