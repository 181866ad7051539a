// Mining is deterministic (issue 23): the same inputs and config give byte-identical pairs.csv,
// pairs.jsonl and candidates.jsonl whatever the machine's load, the batch boundaries, and whether
// the run was killed (-9) and resumed. Inputs like the issue's: ffmpeg's testsrc2 (straight edges,
// repeated structure: many equal DoG samples and equal responses) seen through moving crops, long
// enough for several batches of 8 frames per video and several videos (decode-ahead, writes in
// flight across video boundaries). The default preset: the per-frame feature cap and windowed
// candidates, the configuration that reran differently before the fix.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minePresets } from "../../src/mine/config.js";
import { minePairs } from "../../src/mine/pipeline.js";
import { countLines, listTree } from "../tree.js";
import { ffmpeg } from "../video/gen.js";
import { cpuHogs } from "./hogs.js";

const bin = path.resolve(__dirname, "../../bin/mimic.js");
// Each test runs the CLI two to four times, half of them beside busy loops: on a shared 2-core
// machine that can take minutes.
const SLOW = 400_000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-determinism-"));
const videos = path.join(root, "videos");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const MANIFESTS = ["pairs.csv", "pairs.jsonl", "candidates.jsonl"];
const VIDEOS = 3;
const SECONDS = 20; // 20 samples per video: batches of 8, 8, 4

function mimic(...args: string[]): { child: ChildProcess; done: Promise<{ status: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  const done = new Promise<{ status: number | null; stderr: string }>((resolve) =>
    child.on("close", (status) => resolve({ status, stderr })),
  );
  return { child, done };
}

const manifests = (dir: string) => MANIFESTS.map((f) => fs.readFileSync(path.join(dir, f)));

function expectSameBytes(dir: string, ref: string, what: string): void {
  const [a, b] = [manifests(dir), manifests(ref)];
  MANIFESTS.forEach((f, i) => {
    expect(Buffer.compare(a[i], b[i]) === 0, `${what}: ${f} differs from the first run`).toBe(true);
  });
}

let first = "";

beforeAll(() => {
  fs.mkdirSync(videos);
  for (let i = 1; i <= VIDEOS; i++)
    ffmpeg([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=480x360:rate=25",
      "-vf",
      `crop=300:220:'60+50*sin(t/(2+${i}))':'50+40*cos(t/3)'`,
      "-t",
      String(SECONDS),
      "-pix_fmt",
      "yuv420p",
      path.join(videos, `v${i}.mp4`),
    ]);
}, SLOW);

describe("mining reruns give the same bytes", { timeout: SLOW }, () => {
  it("a first run keeps pairs, and a rerun beside two busy loops gives the same manifests", async () => {
    first = path.join(root, "first");
    const r = await mimic("mine", videos, "--out", first, "--quiet").done;
    expect(r.status, r.stderr).toBe(0);
    expect(countLines(path.join(first, "pairs.csv")) - 1, "pairs kept").toBeGreaterThan(3);
    expect(countLines(path.join(first, "candidates.jsonl")), "candidates").toBeGreaterThan(40);
    const stop = cpuHogs();
    try {
      const loaded = path.join(root, "loaded");
      const r2 = await mimic("mine", videos, "--out", loaded, "--quiet").done;
      expect(r2.status, r2.stderr).toBe(0);
      expectSameBytes(loaded, first, "rerun under load");
    } finally {
      stop();
    }
  });

  it("other batch boundaries (3 frames per submission) give the same manifests", async () => {
    const out = path.join(root, "batch3");
    await minePairs({ input: videos, out, config: { ...minePresets.default }, quiet: true, batch: 3 });
    expectSameBytes(out, first, "batch of 3");
  });

  // Kill points: inside the first video (its first pair folder), just after the first video is
  // journaled, just after the second.
  const killPoints: Array<[string, (out: string) => boolean]> = [
    ["the first pair folder", (out) => listTree(out).some((f) => f.endsWith("0000.jpg"))],
    ["1 finished video", (out) => countLines(path.join(out, "progress.jsonl")) >= 1],
    ["2 finished videos", (out) => countLines(path.join(out, "progress.jsonl")) >= 2],
  ];
  it.each(killPoints)("kill -9 at %s, then --resume, gives the uninterrupted manifests", async (what, reached) => {
    const out = path.join(root, `killed-${what.replace(/\W+/g, "-")}`);
    const run = mimic("mine", videos, "--out", out, "--quiet");
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (reached(out)) {
          run.child.kill("SIGKILL");
          clearInterval(t);
          resolve();
        }
      }, 10);
      run.child.on("exit", () => {
        clearInterval(t);
        resolve();
      });
    });
    await run.done;
    expect(countLines(path.join(out, "progress.jsonl")), "the run must be interrupted before its end").toBeLessThan(VIDEOS);
    const r = await mimic("mine", videos, "--out", out, "--resume", "--quiet").done;
    expect(r.status, r.stderr).toBe(0);
    expectSameBytes(out, first, `killed at ${what} and resumed`);
  });
});
