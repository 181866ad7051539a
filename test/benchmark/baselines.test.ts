// The random-pairs baseline (src/benchmark/baselines.ts): seeded, mined-dataset layout, byte-identical.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baselineRecipes, makeBaselines, makeRandomPairs, RANDOM_PAIRS_HASH, randomPairsDefaults } from "../../src/benchmark/baselines.js";
import { readDatasetInfo } from "../../src/benchmark/run.js";
import { readPairsCsv } from "../../src/train/data.js";
import { ffmpeg } from "../video/gen.js";

let tmp: string;
let videos: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-baselines-"));
  videos = path.join(tmp, "videos");
  fs.mkdirSync(videos);
  // Two tiny videos: 5 s and 4 s at 5 fps -> 5 and 4 frames sampled at 1 s.
  for (const [name, dur] of [
    ["a.mp4", 5],
    ["b.mp4", 4],
  ] as const)
    ffmpeg(["-f", "lavfi", "-i", `testsrc2=size=64x48:rate=5:duration=${dur}`, "-pix_fmt", "yuv420p", path.join(videos, name)]);
}, 30_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file under `dir` (relative path -> bytes), except the timing journal progress.jsonl. */
function snapshot(dir: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name !== "progress.jsonl") m.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return m;
}

describe("random-pairs baseline", () => {
  it("draws two different frames of the same video per pair, in the mined-dataset layout", async () => {
    const out = path.join(tmp, "rp");
    const r = await makeRandomPairs(videos, out, { ...randomPairsDefaults, size: 32 });
    expect(r).toEqual({ videos: 2, pairs: 9, failed: 0 });
    const records = fs
      .readFileSync(path.join(out, "pairs.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.length).toBe(9);
    for (const x of records) {
      expect(x.t1).not.toBe(x.t2);
      expect(x.path1.split("/").slice(0, 2)).toEqual(x.path2.split("/").slice(0, 2));
      expect(x.overlap).toBe(0);
      expect(x.inliers).toBe(0);
      expect(x.H).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect(x.correspondence).toEqual({});
      expect(x.config).toBe(RANDOM_PAIRS_HASH);
      expect(fs.readFileSync(path.join(out, x.id, "corresponding.json"), "utf8")).toBe("{}\n");
      expect(fs.statSync(path.join(out, x.path1)).size).toBeGreaterThan(0);
    }
    // Frames come from the whole video, not just its start.
    const frames = new Set(records.flatMap((x) => [`${x.video}@${x.t1}`, `${x.video}@${x.t2}`]));
    expect(frames.size).toBeGreaterThan(6); // of the 9 sampled frames
    expect((await readPairsCsv(out)).length).toBe(9);
    expect(readDatasetInfo(out)).toMatchObject({ name: "rp", pairs: 9, configHash: RANDOM_PAIRS_HASH });
  });

  it("is byte-identical for the same seed and differs for another seed", async () => {
    const cfg = { ...randomPairsDefaults, size: 32 };
    await makeRandomPairs(videos, path.join(tmp, "s0a"), cfg);
    await makeRandomPairs(videos, path.join(tmp, "s0b"), cfg);
    await makeRandomPairs(videos, path.join(tmp, "s1"), { ...cfg, seed: 1 });
    const a = snapshot(path.join(tmp, "s0a"));
    const b = snapshot(path.join(tmp, "s0b"));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(b.get(k)?.equals(v), k).toBe(true);
    expect(a.has("pairs.csv") && a.has("stats.json") && a.has("config.json")).toBe(true);
    const s1 = fs.readFileSync(path.join(tmp, "s1", "pairs.jsonl"), "utf8");
    expect(s1).not.toBe(a.get("pairs.jsonl")?.toString());
  });

  it("makeBaselines makes the four baselines (mining through the runner) and keeps finished ones", async () => {
    expect(baselineRecipes.map((b) => b.name)).toEqual(["random-pairs", "mimic-preset", "default-preset", "no-upper-bound"]);
    const calls: string[][] = [];
    const runner = async (args: string[]) => {
      calls.push(args);
      const out = args[args.indexOf("--out") + 1];
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, "pairs.csv"), "path1,path2,correspondence\n");
      fs.writeFileSync(path.join(out, "stats.json"), "{}\n");
      return 0;
    };
    const out = path.join(tmp, "baselines");
    const made = await makeBaselines(videos, out, { quiet: true, runner, only: ["mimic-preset", "default-preset", "no-upper-bound"] });
    expect(made.map((m) => [m.name, m.reused])).toEqual([
      ["mimic-preset", false],
      ["default-preset", false],
      ["no-upper-bound", false],
    ]);
    expect(calls.map((c) => c.slice(4).filter((a) => a !== "--quiet"))).toEqual([
      ["--force", "--preset", "mimic"],
      ["--force"],
      ["--force", "--overlap-upper", "100"],
    ]);
    expect(calls.every((c) => c[0] === "mine" && c[1] === videos)).toBe(true);
    const again = await makeBaselines(videos, out, { quiet: true, runner, only: ["mimic-preset"] });
    expect(again).toEqual([{ name: "mimic-preset", dir: path.join(out, "mimic-preset"), reused: true }]);
    expect(calls.length).toBe(3);
  });
});
