import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Suites start moto_server or dev servers of their own; processes keep them apart.
    pool: "forks",
    // vitest's default is one worker fewer than the CPUs: one on a 2-core machine, where
    // much of a file's time is spent waiting on moto_server, PostgreSQL and child
    // processes. Three overlap that waiting; four made every file slower here than three
    // (docs/benchmarks.md, "Test suite").
    maxWorkers: 3,
    minWorkers: 1,
    // Servers a worker keeps across the files it runs (test/support/worker-servers.ts).
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
