/**
 * Runs moto_server, a local emulator of AWS's wire protocols (DynamoDB, KMS, STS, IAM),
 * on a free loopback port. Every suite that talks to AWS goes through
 * here, so the product's real SDK clients are exercised over HTTP and nothing of ours is
 * stubbed.
 *
 * A suite that needs it is `describe.skipIf(!motoAvailable())` and calls `useMoto()`; in a
 * vitest run, the files a worker runs one after the other share one moto_server, reset
 * for each suite (test/support/worker-servers.ts).
 * Where moto_server is missing, such suites skip with a loud line; with CI set, a missing
 * moto_server fails the run instead.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { useSuiteServer } from "./suite-server.ts";
import { readSlotServer, recordSlotServer, runRecordFile, slotServerFile } from "./worker-servers.ts";

export interface Moto {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const MOTO_BIN = process.env.MOTO_SERVER ?? "moto_server";

/** What an AWS SDK client needs to talk to this moto instead of AWS. */
export function motoClientConfig(moto: Moto) {
  return { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
}

export function motoAvailable(): boolean {
  const available = motoInstalled();
  if (!available) {
    if (process.env.CI) {
      throw new Error(`${MOTO_BIN} is not installed; CI requires the AWS-backed suites to run`);
    }
    console.warn(`\n*** ${MOTO_BIN} not found: SKIPPING the AWS-backed suites (install moto[server]) ***\n`);
  }
  return available;
}

/**
 * Whether moto_server runs, asked once per run: starting it only to print its help takes
 * a second of CPU, and every AWS-backed file asks while it is collected.
 */
function motoInstalled(): boolean {
  const answer = runRecordFile("moto-installed");
  if (answer && existsSync(answer)) return readFileSync(answer, "utf8") === "yes";
  const installed = spawnSync(MOTO_BIN, ["--help"], { stdio: "ignore" }).status === 0;
  if (answer) writeFileSync(answer, installed ? "yes" : "no");
  return installed;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * A moto_server for the enclosing suite, from its beforeAll to its afterAll: the one its
 * worker slot keeps (test/support/worker-servers.ts), reset so the suite finds it empty,
 * or outside a vitest run one of its own.
 */
export function useMoto(): Moto {
  return useSuiteServer(
    async () => (await slotMoto()) ?? (await startMoto()),
    (moto) => moto.stop(),
  );
}

/** A moto_server of its own, stopped by `stop()`. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = spawn(MOTO_BIN, motoArgs(port), { stdio: ["ignore", "ignore", "pipe"], env: motoEnv() });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await untilServing(child, port, () => stderr);
  return motoAt(port, async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  });
}

/**
 * The moto_server kept for this worker slot, reset; started (detached, to serve the slot's
 * later files too) when the slot has none or it died. Undefined outside a vitest run.
 */
async function slotMoto(): Promise<Moto | undefined> {
  const file = slotServerFile("moto");
  if (!file) return undefined;
  const kept = readSlotServer(file);
  if (kept) {
    const moto = motoAt(kept.port, async () => {});
    try {
      await moto.reset();
      return moto;
    } catch {
      // It is gone: start another.
    }
  }
  const port = await freePort();
  const log = `${file}.log`;
  const output = openSync(log, "w");
  const child = spawn(MOTO_BIN, motoArgs(port), {
    stdio: ["ignore", "ignore", output],
    env: motoEnv(),
    detached: true,
  });
  closeSync(output);
  child.unref();
  await untilServing(child, port, () => readFileSync(log, "utf8").slice(-4000));
  recordSlotServer(file, { pid: child.pid as number, port });
  // Stopped at the end of the run, not of the suite.
  return motoAt(port, async () => {});
}

const motoArgs = (port: number) => ["-H", "127.0.0.1", "-p", String(port)];
const motoEnv = () => ({ ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" });

async function untilServing(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early: ${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start on ${endpoint}: ${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function motoAt(port: number, stop: () => Promise<void>): Moto {
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    stop,
  };
}
