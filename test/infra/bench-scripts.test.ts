/**
 * `npm run bench` runs its scripts with tsx, outside any vitest run, and they borrow test
 * helpers (moto_server, test engines, clocks). A helper that imports vitest at load time
 * breaks the whole benchmark before its first section, which no test run would notice.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url);
const BENCH = new URL("scripts/bench/", ROOT);
/** Every test helper a benchmark script imports, as a path from the project's root. */
const BORROWED = [
  ...new Set(
    readdirSync(BENCH)
      .filter((name) => name.endsWith(".ts"))
      .flatMap((name) =>
        [...readFileSync(new URL(name, BENCH), "utf8").matchAll(/from "\.\.\/\.\.\/(test\/[^"]+)"/g)].map(
          (match) => match[1] as string,
        ),
      ),
  ),
];

describe("the benchmark's scripts", () => {
  it("borrow only test helpers that load outside vitest", () => {
    expect(BORROWED).toContain("test/support/moto.ts");
    // The helpers only: some scripts start their work as soon as they are loaded.
    const probe = BORROWED.map((path) => `await import("./${path}");`).join("\n");
    const env = { ...process.env };
    delete env.VITEST;
    delete env.VITEST_POOL_ID;
    delete env.VITEST_WORKER_ID;
    const loaded = spawnSync("npx", ["tsx", "--input-type=module", "-e", `${probe}\nprocess.exit(0);`], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(loaded.stderr).not.toMatch(/Vitest failed to access its internal state/);
    expect(loaded.status).toBe(0);
  });
});
