/**
 * Sets up .sst/platform when it is missing or stale: as a vitest globalSetup, or run
 * directly (`tsx test/infra/setup-platform.ts`) before `tsc -p tsconfig.infra.json`.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePlatform } from "./platform.ts";

const log = (line: string) => process.stderr.write(`${line}\n`);

export default async function setup(): Promise<void> {
  await ensurePlatform(log);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  setup().catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
