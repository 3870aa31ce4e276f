/**
 * What a caller without a token can make the broker spend: a 1 MB body of 200,000
 * one-letter strings, sent without a token to three write paths, through the app on
 * `coffer dev`'s adapters (SQLite file, audit log file), next to the same requests with
 * an empty body; then the largest bodies a login (which needs no token) reads, and the 1 MB
 * body from a caller with a token allowed on the path, who is charged for it. Prints the
 * CPU time (user + system) per request and the audit log bytes each caused.
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

const REQUESTS = 5;

/** `{...fields, "x":["a", "a", ...]}` with `strings` strings, padded with spaces to `bytes`. */
function manyStrings(strings: number, bytes: number, fields = ""): string {
  const body = `{${fields}"x":[${Array.from({ length: strings }, () => '"a"').join(",")}]}`;
  return body.replace("[", `[${" ".repeat(bytes - body.length)}`);
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "coffer-unauthenticated-"));
  const auditLog = join(dataDir, "audit.log");
  try {
    const broker = await createLocalBroker({ dataDir, auditLog });
    const { rootToken } = await initialize(broker);
    const app = createApp(broker, { logError: () => {} });
    const send = async (path: string, body: string, token?: string) => {
      const headers: Record<string, string> = token ? { "X-Vault-Token": token } : {};
      const response = await app.request(`/v1/${path}`, { method: "POST", body, headers });
      await response.arrayBuffer();
      return response.status;
    };
    await send("sys/auth/kubernetes", '{"type":"kubernetes"}', rootToken);
    const hostile = manyStrings(200_000, 1_000_000);
    const writes = ["secret/data/app/db", "auth/token/create", "sys/policies/acl/x"];
    const cases: { caller: string; path: string; body: string; token?: string }[] = [
      ...writes.map((path) => ({ caller: "no token", path, body: hostile })),
      ...writes.map((path) => ({ caller: "no token", path, body: "{}" })),
      // A login body of 32 KiB (the most accepted) of one-letter strings: too many values.
      {
        caller: "no token (login)",
        path: "auth/kubernetes/login",
        body: manyStrings(8_000, 32 * 1024, '"role":"app","jwt":"x",'),
      },
      // The most a login can have hashed: 64 values, 32 KiB of strings.
      {
        caller: "no token (login)",
        path: "auth/kubernetes/login",
        body: JSON.stringify({ role: "app", jwt: "x", x: Array.from({ length: 61 }, () => "a".repeat(520)) }),
      },
      { caller: "root token", path: "secret/data/app/db", body: hostile, token: rootToken },
    ];
    const rows = [];
    for (const { caller, path, body, token } of cases) {
      await send(path, body, token); // loads the engine's code: not what is measured
      const statuses = new Set<number>();
      const auditBefore = statSync(auditLog).size;
      const cpu = process.cpuUsage();
      for (let i = 0; i < REQUESTS; i++) statuses.add(await send(path, body, token));
      const used = process.cpuUsage(cpu);
      rows.push({
        caller,
        path,
        "body bytes": Buffer.byteLength(body),
        status: [...statuses].join(","),
        "CPU ms per request": round((used.user + used.system) / 1000 / REQUESTS, 1),
        "audit bytes per request": Math.round((statSync(auditLog).size - auditBefore) / REQUESTS),
      });
    }
    console.table(rows);
    await broker.store.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
