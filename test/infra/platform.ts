/**
 * The SST platform (.sst/platform: component sources, config.d.ts, @pulumi/*) that the
 * infrastructure tests and `tsc -p tsconfig.infra.json` need. A fresh clone has none, so
 * it is set up here, offline: `sst install` is the one SST command that needs neither AWS
 * nor the Pulumi download. It takes about a minute, once. A platform left by another
 * version of sst is replaced.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const PLATFORM_DIR = join(ROOT, ".sst", "platform");

const INSTALL_TIMEOUT_MS = 300_000;
const LOCK_DIR = join(ROOT, ".sst", "install.lock");
// A lock older than a whole install belongs to a process that died.
const STALE_LOCK_MS = INSTALL_TIMEOUT_MS + 60_000;

function installedSstVersion(): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, "node_modules", "sst", "package.json"), "utf8"));
  return String(manifest.version);
}

/** Why the platform cannot be used as it is, or undefined when it can. */
export function platformProblem(): string | undefined {
  const required = [
    "config.d.ts",
    "version",
    "src/components/index.ts",
    "node_modules/@pulumi/pulumi/package.json",
    "node_modules/@pulumi/aws/package.json",
  ];
  const missing = required.filter((file) => !existsSync(join(PLATFORM_DIR, file)));
  if (missing.length > 0) return `missing ${missing.join(", ")}`;
  // config.d.ts without the aws provider: some CLI command ran against another config.
  if (!readFileSync(join(PLATFORM_DIR, "config.d.ts"), "utf8").includes("@pulumi/aws")) {
    return "config.d.ts lacks the aws provider";
  }
  const version = readFileSync(join(PLATFORM_DIR, "version"), "utf8").trim();
  const wanted = installedSstVersion();
  if (version !== wanted) return `platform ${version} but sst ${wanted} is installed`;
  return undefined;
}

function acquireLock(): boolean {
  try {
    mkdirSync(LOCK_DIR, { recursive: false });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(LOCK_DIR).mtimeMs > STALE_LOCK_MS)
        rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch {
      // Released between the two calls: the next attempt takes it.
    }
    return false;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Sets up .sst/platform unless it is ready; safe to call from several processes at once. */
export async function ensurePlatform(log: (line: string) => void = () => {}): Promise<void> {
  if (platformProblem() === undefined) return;
  mkdirSync(join(ROOT, ".sst"), { recursive: true });
  const waitUntil = Date.now() + STALE_LOCK_MS;
  while (!acquireLock()) {
    if (Date.now() > waitUntil) throw new Error(`timed out waiting for ${LOCK_DIR}`);
    await sleep(1000);
  }
  try {
    const problem = platformProblem();
    if (problem === undefined) return; // another process set it up while we waited
    log(`setting up .sst/platform (${problem}): sst install, about a minute`);
    // Asynchronously: a test worker blocked for a minute loses its connection to vitest.
    await promisify(execFile)(join(ROOT, "node_modules", ".bin", "sst"), ["install", "--stage", "dev"], {
      cwd: ROOT,
      env: {
        ...process.env,
        SST_TELEMETRY_DISABLED: "1",
        SST_SKIP_DEPENDENCY_CHECK: "true",
        SST_NO_BUN: "1",
      },
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const after = platformProblem();
    if (after !== undefined) throw new Error(`sst install finished but the platform is not usable: ${after}`);
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}
