import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Suites start moto_server or dev servers of their own; processes keep them apart.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
