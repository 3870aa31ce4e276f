import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Suites start moto_server or dev servers of their own; processes keep them apart.
    pool: "forks",
    // Servers a worker keeps across the files it runs (test/support/worker-servers.ts).
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
