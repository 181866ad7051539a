import { defineConfig } from "vitest/config";

// GPU tests share one Dawn device per worker; lavapipe uses both cores, so run files one or two
// at a time and give kernels room on a slow CPU.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
