// The `mimic` binary as a user runs it (dist/ is built by the pretest bootstrap).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const bin = path.resolve(__dirname, "../../bin/mimic.js");
const mimic = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });

describe("mimic CLI", () => {
  it("--help lists the commands and exits 0", () => {
    const r = mimic("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("doctor");
  });

  it("an unknown command exits 2 with the usage", () => {
    const r = mimic("no-such-command");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command");
  });

  it("doctor --json names the adapter and ffmpeg and exits 0 on this machine", () => {
    const r = mimic("doctor", "--json");
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.adapter.name.length).toBeGreaterThan(0);
    expect(report.adapter.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(report.ffmpeg.version).toMatch(/ffmpeg version/);
    console.log(`[doctor] adapter: ${report.adapter.name}; ffmpeg: ${report.ffmpeg.path}`);
  });

  it("doctor reports a broken FFMPEG_PATH with the fix and exits 1", () => {
    const r = spawnSync(process.execPath, [bin, "doctor"], {
      encoding: "utf8",
      env: { ...process.env, FFMPEG_PATH: "/nonexistent/ffmpeg" },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/MISSING ffmpeg .*FFMPEG_PATH=\/nonexistent\/ffmpeg.*Fix:/);
  });
});
