/**
 * Runs moto_server, a local emulator of AWS's wire protocols (DynamoDB, KMS, STS, IAM),
 * on a free loopback port for one test file. Every suite that talks to AWS goes through
 * here, so the product's real SDK clients are exercised over HTTP and nothing of ours is
 * stubbed.
 *
 * A suite that needs it is `describe.skipIf(!motoAvailable())` and calls `useMoto()`.
 * Where moto_server is missing, such suites skip with a loud line; with CI set, a missing
 * moto_server fails the run instead.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { useSuiteServer } from "./suite-server.ts";

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
  const probe = spawnSync(MOTO_BIN, ["--help"], { stdio: "ignore" });
  const available = probe.status === 0;
  if (!available) {
    if (process.env.CI) {
      throw new Error(`${MOTO_BIN} is not installed; CI requires the AWS-backed suites to run`);
    }
    console.warn(`\n*** ${MOTO_BIN} not found: SKIPPING the AWS-backed suites (install moto[server]) ***\n`);
  }
  return available;
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

/** A moto_server for the enclosing suite, running from its beforeAll to its afterAll. */
export function useMoto(): Moto {
  return useSuiteServer(startMoto, (moto) => moto.stop());
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_BIN, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}
