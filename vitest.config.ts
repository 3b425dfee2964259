import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/temp-dir.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Boot tests each run a whole emulated PC; two cores cannot run more than two at once usefully.
    maxWorkers: 2,
  },
});
