// Where each command writes: human summaries and progress on stderr, data on stdout. With --json,
// stdout is exactly one JSON value; without it, stdout is empty (benchmark prints its leaderboard,
// which is data). Every command runs here on tiny inputs, as a user runs it (bin/mimic.js, so
// dist/ must be built), and the quiet demo/benchmark runner keeps a failing step's stderr.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runMimic } from "../../src/run_mimic.js";

const bin = path.resolve(__dirname, "../../bin/mimic.js");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-streams-"));
const t = (...p: string[]) => path.join(tmp, ...p);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * `mimic <args>` as a child process. Asynchronous on purpose: a test of several spawnSync calls
 * blocks the worker's event loop for minutes on a loaded CPU, and vitest then fails the run with
 * "Timeout calling onTaskUpdate" (its worker RPC waits 60 s) although every test passed.
 */
function mimic(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** `mimic <args> --json`: exit 0 and stdout is one JSON value (returned). */
async function json(args: string[]): Promise<unknown> {
  const r = await mimic([...args, "--json"]);
  expect(r.status, `mimic ${args.join(" ")} --json\n${r.stderr}`).toBe(0);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`mimic ${args[0]} --json: stdout is not one JSON value:\n${r.stdout.slice(0, 400)}`);
  }
}

/** `mimic <args>`: exit 0, nothing on stdout, a summary on stderr (returned). */
async function human(args: string[]): Promise<string> {
  const r = await mimic(args);
  expect(r.status, `mimic ${args.join(" ")}\n${r.stderr}`).toBe(0);
  expect(r.stdout, `mimic ${args[0]} wrote a summary to stdout`).toBe("");
  expect(r.stderr.length, `mimic ${args[0]} printed no summary`).toBeGreaterThan(0);
  return r.stderr;
}

let frames: string[] = [];

beforeAll(async () => {
  const synth = ["synth", "--scenes", "2", "--seconds", "2", "--fps", "4", "--size", "96x64", "--seed", "3"];
  await json([...synth, "-o", t("synth")]);
  await human([...synth, "-o", t("synth2"), "--no-video"]);
  frames = fs
    .readdirSync(t("synth", "rgb"))
    .sort()
    .map((f) => t("synth", "rgb", f));
  // An 8-pair dataset (one batch of the benchmark's nano recipe) in the mined layout, for train
  // and benchmark: mining videos this small may keep no pair.
  const rows = ["path1,path2,correspondence"];
  for (let k = 0; k < 8; k++) {
    fs.mkdirSync(t("ds", "s", "v", String(k)), { recursive: true });
    fs.copyFileSync(frames[k % frames.length], t("ds", "s", "v", String(k), "0000.png"));
    fs.copyFileSync(frames[(k + 1) % frames.length], t("ds", "s", "v", String(k), "0001.png"));
    fs.writeFileSync(t("ds", "s", "v", String(k), "corresponding.json"), "{}\n");
    rows.push(`s/v/${k}/0000.png,s/v/${k}/0001.png,s/v/${k}/corresponding.json`);
  }
  fs.writeFileSync(t("ds", "pairs.csv"), `${rows.join("\n")}\n`);
}, 240_000);

describe("stdout carries data, stderr the rest", () => {
  it("doctor", async () => {
    expect(((await json(["doctor"])) as { ok: boolean }).ok).toBe(true);
    expect(await human(["doctor"])).toMatch(/ok\s+webgpu/);
    const q = await mimic(["doctor", "--quiet"]);
    expect([q.status, q.stdout]).toEqual([0, ""]);
  });

  it("synth (run in beforeAll)", async () => {
    expect(fs.existsSync(t("synth", "videos"))).toBe(true);
  });

  it("mine, merge, eval-mining, report", async () => {
    const m = (await json(["mine", t("synth", "videos"), "-o", t("mined")])) as { videos: number };
    expect(m.videos).toBe(2);
    await human(["mine", t("synth", "videos"), "-o", t("mined2")]);
    expect(((await json(["merge", t("mined"), "-o", t("merged")])) as { videos: number }).videos).toBe(2);
    await human(["merge", t("mined"), "-o", t("merged2")]);
    await json(["eval-mining", t("mined"), "--gt", t("synth"), "-o", t("eval.json")]);
    await human(["eval-mining", t("mined"), "--gt", t("synth"), "-o", t("eval2.json")]);
    await json(["report", "--mined", t("mined"), "-o", t("r1.html")]);
    expect(await human(["report", "--mined", t("mined"), "-o", t("r2.html")])).toContain("wrote");
  });

  it("match", async () => {
    expect(((await json(["match", frames[0], frames[1]])) as { matches: number }).matches).toBeGreaterThanOrEqual(0);
    expect(await human(["match", frames[0], frames[1]])).toContain("matches");
  });

  it("train, reconstruct, probe", async () => {
    const train = ["train", "--data", t("ds"), "--model", "nano", "--steps", "1", "--batch", "1", "--workers", "0"];
    expect(((await json([...train, "-o", t("run")])) as { steps: number }).steps).toBe(1);
    await human([...train, "-o", t("run2")]);
    const rec = ["reconstruct", "--ckpt", t("run"), "--view1", frames[0], "--view2", frames[1]];
    expect(typeof ((await json([...rec, "-o", t("rec1.png")])) as { loss: number }).loss).toBe("number");
    await human([...rec, "-o", t("rec2.png")]);
    const probe = ["probe", "--ckpt", "random", "--task", "depth", "--data", t("synth"), "--epochs", "1", "--resamples", "10"];
    expect(await json([...probe, "-o", t("p1")])).toHaveProperty("metrics");
    await human([...probe, "-o", t("p2")]);
  });

  it("benchmark: --json prints the leaderboard as JSON; without it, as markdown on stdout", async () => {
    const bench = [
      "benchmark",
      t("ds"),
      "--probe",
      t("synth"),
      "--steps",
      "1",
      "--batch",
      "2",
      "--seeds",
      "1",
      "--no-random-init",
      "-o",
      t("bench"),
    ];
    const lb = (await json(bench)) as { rows: unknown[]; scale: string; recipe: { batch: number } };
    expect(lb.rows.length).toBeGreaterThan(0);
    expect([lb.scale, lb.recipe.batch]).toEqual(["nano@steps=1@batch=2@seeds=1", 2]); // --batch names a custom scale
    expect(JSON.parse(fs.readFileSync(t("bench", "runs", "ds", "seed0", "train", "config.json"), "utf8")).batch).toBe(2);
    const r = await mimic(bench); // finished runs are reused
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("| ");
    expect(() => JSON.parse(r.stdout)).toThrow();
    // what each entry cost goes to stderr (the reused run with the time it took when it ran)
    expect(r.stderr).toMatch(/time: \d+ s wall for this command/);
    expect(r.stderr).toMatch(/ {2}ds: \d+\.\d min per seed \(pretraining \d+\.\d min, probes \d+\.\d min; 1 seed\)/);
  });

  it("a quiet step (demo, benchmark) that fails prints its stderr with the command", async () => {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    try {
      expect(await runMimic(["train", "--steps", "1"], true)).toBe(2);
    } finally {
      spy.mockRestore();
    }
    const text = err.join("");
    expect(text).toContain("$ mimic train --steps 1");
    expect(text).toContain("failed with exit 2");
    expect(text).toMatch(/required option '--data/);
  });
});
