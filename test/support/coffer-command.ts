/**
 * The script a test runs with `node` to run the `coffer` command as a separate process.
 *
 * In a vitest run: the command's bundle, made from the sources by the product's own build
 * (scripts/build.ts, as `npm run build` makes build/cli/) once for the run, by the first
 * file that needs it. From the sources through tsx (cli/bin.mjs in a checkout), each
 * command costs about a second of CPU to start, the bundle a fifth of that, and the suites
 * start hundreds. Outside a vitest run (a benchmark script): cli/bin.mjs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runRecordFile } from "./worker-servers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const SOURCES = join(ROOT, "cli/bin.mjs");
const BUILD_TIMEOUT_MS = 180_000;

async function bundledCommand(): Promise<string> {
  const directory = runRecordFile("cli");
  if (!directory) return SOURCES;
  const entry = join(directory, "cli", "coffer.mjs");
  const done = join(directory, "built");
  const failed = join(directory, "failed");
  try {
    // Whoever makes the directory builds; the others wait for its verdict.
    mkdirSync(directory);
  } catch {
    const deadline = Date.now() + BUILD_TIMEOUT_MS;
    while (!existsSync(done)) {
      if (existsSync(failed))
        throw new Error(`the coffer bundle failed to build: ${readFileSync(failed, "utf8")}`);
      if (Date.now() > deadline) throw new Error("timed out waiting for the coffer bundle");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return entry;
  }
  try {
    const { buildCli } = await import("../../scripts/build.ts");
    await buildCli({ root: ROOT, outRoot: directory });
    writeFileSync(done, "");
    return entry;
  } catch (error) {
    writeFileSync(failed, String(error));
    throw error;
  }
}

export const COFFER_SCRIPT = await bundledCommand();
