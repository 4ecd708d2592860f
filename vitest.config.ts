import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Training tests are CPU-bound; two forks match the 2-core machine CI runs on.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/plain-summary-reporter.ts"],
  },
});
