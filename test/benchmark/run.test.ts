// `mimic benchmark` orchestration (src/benchmark/run.ts) with a fake `mimic` runner (no training in
// tests): the recipe passed to train/probe, result collection, resume, and input errors (exit 2).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchmarkInputError, type MimicRunner, readDatasetInfo, runBenchmark, timingSummary } from "../../src/benchmark/run.js";
import { type BenchmarkScale, benchmarkScales } from "../../src/benchmark/scales.js";

const bin = path.resolve(__dirname, "../../bin/mimic.js");
let tmp: string;
let probe: string;

function dataset(name: string, rows: number, hash: string | null): string {
  const d = path.join(tmp, "data", name);
  fs.mkdirSync(d, { recursive: true });
  const lines = [
    "path1,path2,correspondence",
    ...Array.from({ length: rows }, (_, i) => `s/v/${i}/0000.jpg,s/v/${i}/0001.jpg,s/v/${i}/corresponding.json`),
  ];
  fs.writeFileSync(path.join(d, "pairs.csv"), `${lines.join("\n")}\n`);
  if (hash) fs.writeFileSync(path.join(d, "config.json"), JSON.stringify({ configHash: hash }));
  return d;
}

/** A fake `mimic`: train writes latest.json; probe writes metrics derived from the dataset's pair count. */
function fakeRunner(calls: string[][]): MimicRunner {
  const pairsOf = new Map<string, number>();
  return async (args) => {
    calls.push(args);
    const flag = (f: string) => args[args.indexOf(f) + 1];
    if (args[0] === "train") {
      const out = flag("--out");
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(
        path.join(out, "latest.json"),
        JSON.stringify({ checkpoint: "checkpoint-000001.json", step: Number(flag("--steps")) }),
      );
      const n =
        fs
          .readFileSync(path.join(flag("--data"), "pairs.csv"), "utf8")
          .trim()
          .split("\n").length - 1;
      fs.writeFileSync(path.join(out, "checkpoint-000001.json"), JSON.stringify({ pairs: n }));
      // as mimic train records it: elapsed wall seconds at each step (here 60 s per pair of the dataset)
      fs.writeFileSync(
        path.join(out, "metrics.jsonl"),
        `${JSON.stringify({ step: 1, elapsedSec: 1 })}\n${JSON.stringify({ step: 2, elapsedSec: 60 * n })}\n`,
      );
      pairsOf.set(path.join(out, "checkpoint-000001.json"), n);
      return 0;
    }
    if (args[0] === "probe") {
      const ck = flag("--ckpt");
      const n = pairsOf.get(ck) ?? (fs.existsSync(ck) ? (JSON.parse(fs.readFileSync(ck, "utf8")) as { pairs: number }).pairs : 0);
      const metrics =
        flag("--task") === "depth"
          ? { absRel: 1 / (n + 1), delta1: n === 7 ? Number.NaN : n / 100 }
          : { mIoU: n / 200, pixelAccuracy: n / 50 };
      fs.mkdirSync(flag("--out"), { recursive: true });
      // NaN is written as null, like JSON.stringify does in the real probe.
      fs.writeFileSync(
        path.join(flag("--out"), "metrics.json"),
        JSON.stringify({ metrics, seconds: flag("--task") === "depth" ? 12 : 18 }),
      );
      return 0;
    }
    return 1;
  };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-bench-"));
  probe = path.join(tmp, "probe");
  const r = spawnSync(
    process.execPath,
    [bin, "synth", "--out", probe, "--scenes", "1", "--seconds", "2", "--fps", "2", "--size", "32x32", "--no-video", "--quiet"],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`mimic synth failed: ${r.stderr}`);
}, 70_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("mimic benchmark", () => {
  it("readDatasetInfo: name, pair rows, configHash or 'none'; a folder without pairs.csv is named in the error", () => {
    const a = dataset("with-hash", 3, "h123");
    expect(readDatasetInfo(a)).toEqual({ dir: a, name: "with-hash", pairs: 3, configHash: "h123" });
    expect(readDatasetInfo(dataset("no-hash", 2, null)).configHash).toBe("none");
    const empty = path.join(tmp, "data", "empty");
    fs.mkdirSync(empty, { recursive: true });
    expect(() => readDatasetInfo(empty)).toThrow(BenchmarkInputError);
    expect(() => readDatasetInfo(empty)).toThrow(`dataset ${empty} has no pairs.csv`);
  });

  it("trains each dataset with every seed of the scale's fixed recipe, probes depth and seg, adds random init, ranks, and resumes", async () => {
    const ds = [dataset("small", 5, "aaa"), dataset("big", 20, "bbb"), dataset("nan", 7, null)];
    const out = path.join(tmp, "out");
    const calls: string[][] = [];
    const s = { ...benchmarkScales.nano, seeds: 2 };
    // one benchmark run into `out` with a fake runner that records its calls
    const bench = (log: string[][], scale: BenchmarkScale = s, more: { scaleName?: string; positionPrior?: boolean } = {}) =>
      runBenchmark(ds, {
        probe,
        scaleName: "nano@seeds=2",
        scale,
        out,
        quiet: true,
        positionPrior: false,
        runner: fakeRunner(log),
        ...more,
      });
    const r = await bench(calls);
    // 3 datasets x 2 seeds x (train + 2 probes), then random init: 2 seeds x 2 probes
    expect(calls.map((c) => c[0])).toEqual([...Array(6).fill(["train", "probe", "probe"]).flat(), "probe", "probe", "probe", "probe"]);
    const train = calls[0];
    for (const [f, v] of [
      ["--objective", "croco"],
      ["--model", s.model],
      ["--steps", String(s.steps)],
      ["--batch", String(s.batch)],
      ["--blr", String(s.blr)],
      ["--seed", String(s.seed)],
    ])
      expect(train[train.indexOf(f) + 1], f).toBe(v);
    expect(calls[3][calls[3].indexOf("--seed") + 1]).toBe(String(s.seed + 1));
    const probeCall = calls[1];
    expect(probeCall[probeCall.indexOf("--epochs") + 1]).toBe(String(s.probeEpochs));
    expect(probeCall[probeCall.indexOf("--head") + 1]).toBe(s.probeHead);
    expect(probeCall[probeCall.indexOf("--data") + 1]).toBe(probe);
    expect(probeCall[probeCall.indexOf("--seed") + 1]).toBe(String(s.seed));
    const randomProbe = calls[18];
    expect(randomProbe.slice(0, 5)).toEqual(["probe", "--ckpt", "random", "--model", s.model]);

    expect(r.failures).toEqual([]);
    // the fake scores do not depend on the seed: intervals of width 0, every entry told apart
    expect(r.leaderboard.rows.map((x) => [x.rank.depth, x.name, x.pairs, x.configHash])).toEqual([
      [1, "big", 20, "bbb"],
      [2, "nan", 7, "none"],
      [3, "small", 5, "aaa"],
      [4, "random init", 0, "-"],
    ]);
    expect(r.leaderboard.rows[1].depth.delta1.mean).toBeNull();
    expect(r.leaderboard.rows[0].seg.mIoU).toEqual({ mean: 0.1, lo: 0.1, hi: 0.1, values: [0.1, 0.1] });
    const json = fs.readFileSync(path.join(out, "leaderboard.json"), "utf8");
    const md = fs.readFileSync(path.join(out, "leaderboard.md"), "utf8");
    expect(md).toBe(r.markdown);
    expect(fs.existsSync(path.join(out, "runs", "big", "seed1", "result.json"))).toBe(true);
    expect(fs.existsSync(path.join(out, "runs", "random-init", "seed0", "result.json"))).toBe(true);
    // what each run cost, read back from its files: pretraining (train's last elapsedSec) + the two probes
    expect(r.timing.filter((t) => t.seed === 0)).toEqual([
      { entry: "small", seed: 0, train: 300, probes: 30 },
      { entry: "big", seed: 0, train: 1200, probes: 30 },
      { entry: "nan", seed: 0, train: 420, probes: 30 },
      { entry: "random init", seed: 0, train: null, probes: 30 },
    ]);
    expect(timingSummary(r.timing)).toEqual([
      "small: 5.5 min per seed (pretraining 5.0 min, probes 0.5 min; 2 seeds)",
      "big: 20.5 min per seed (pretraining 20.0 min, probes 0.5 min; 2 seeds)",
      "nan: 7.5 min per seed (pretraining 7.0 min, probes 0.5 min; 2 seeds)",
      "random init: 0.5 min per seed (probes; 2 seeds)",
    ]);

    // Resume: nothing is rerun, and the files come out byte-identical.
    const again: string[][] = [];
    const r2 = await bench(again);
    expect(again).toEqual([]);
    expect(r2.reused).toHaveLength(8);
    expect(r2.timing).toEqual(r.timing); // reused runs report the time they took when they ran
    expect(fs.readFileSync(path.join(out, "leaderboard.json"), "utf8")).toBe(json);
    expect(fs.readFileSync(path.join(out, "leaderboard.md"), "utf8")).toBe(md);

    // A dataset re-mined with another config is rerun (only that one, every seed).
    fs.writeFileSync(path.join(ds[0], "config.json"), JSON.stringify({ configHash: "aaa2" }));
    const remined: string[][] = [];
    await bench(remined);
    expect(remined.filter((c) => c[0] === "train").map((c) => c[c.indexOf("--data") + 1])).toEqual([ds[0], ds[0]]);

    // Another probe protocol (head, epochs) keeps every trained encoder: only the probes rerun.
    const reprobed: string[][] = [];
    const r3 = await bench(reprobed, { ...s, probeHead: "upsample", probeEpochs: 5 });
    expect(reprobed.filter((c) => c[0] === "train")).toEqual([]);
    expect(reprobed.filter((c) => c[0] === "probe").length).toBe((3 * 2 + 2) * 2);
    expect(reprobed.every((c) => c[0] !== "probe" || c[c.indexOf("--head") + 1] === "upsample")).toBe(true);
    expect(r3.reused.filter((x) => x.endsWith("(training)")).length).toBe(6);
    expect(r3.leaderboard.rows.map((x) => [x.rank.depth, x.name])).toEqual([
      [1, "big"],
      [2, "nan"],
      [3, "small"],
      [4, "random init"],
    ]);

    // A new training recipe under the same scale name retrains every dataset; random init (no
    // training) keeps its probes, which depend only on the model and the probe protocol.
    const retrained: string[][] = [];
    const r4 = await bench(retrained, { ...s, probeHead: "upsample", probeEpochs: 5, steps: s.steps + 1 });
    expect(retrained.filter((c) => c[0] === "train").length).toBe(6);
    expect(retrained.filter((c) => c[0] === "probe").length).toBe(3 * 2 * 2);
    expect(retrained.some((c) => c.includes("random"))).toBe(false);
    expect(r4.reused).toEqual(["random init seed 0", "random init seed 1"]);

    // Another scale (recipe) in the same folder retrains everything; random init is still reused
    // (another scale name, same model and probe protocol), the position prior is new here.
    const other: string[][] = [];
    const r5 = await bench(
      other,
      { ...s, probeHead: "upsample", probeEpochs: 5, steps: 3 },
      { scaleName: "nano@steps=3", positionPrior: true },
    );
    expect(other.filter((c) => c[0] === "train").length).toBe(6);
    expect(r5.reused).toEqual(["random init seed 0", "random init seed 1"]);
    expect(other.filter((c) => c.includes("position")).length).toBe(2 * 2);
  });

  it("--seeds N after a run with fewer seeds reuses the finished seeds and runs only the new ones", async () => {
    const ds = [dataset("more", 4, "m1")];
    const out = path.join(tmp, "out-seeds");
    const bench = (log: string[][], seeds: number, scaleName: string, steps = benchmarkScales.nano.steps) =>
      runBenchmark(ds, {
        probe,
        scaleName,
        scale: { ...benchmarkScales.nano, seeds, steps },
        out,
        quiet: true,
        positionPrior: false,
        runner: fakeRunner(log),
      });
    const first: string[][] = [];
    const r1 = await bench(first, 2, "nano@seeds=2");
    expect(first.filter((c) => c[0] === "train").length).toBe(2);
    const more: string[][] = [];
    const r2 = await bench(more, 3, "nano@seeds=3");
    // only seed 2: one training, its two probes, random init's two probes
    expect(more.map((c) => [c[0], c[c.indexOf("--seed") + 1]])).toEqual([
      ["train", "2"],
      ["probe", "2"],
      ["probe", "2"],
      ["probe", "2"],
      ["probe", "2"],
    ]);
    expect(r2.reused).toEqual(["more seed 0", "more seed 1", "random init seed 0", "random init seed 1"]);
    expect(r2.leaderboard.rows[0].seg.mIoU.values).toHaveLength(3);
    // the first two seeds score as they did
    expect(r2.leaderboard.rows[0].seg.mIoU.values.slice(0, 2)).toEqual(r1.leaderboard.rows[0].seg.mIoU.values);
    // and back to the scale's own name and 3 seeds: nothing runs
    const again: string[][] = [];
    await bench(again, 3, "nano");
    expect(again).toEqual([]);
    // another recipe still reruns: the seed range is the only field that may differ
    const other: string[][] = [];
    await bench(other, 3, "nano@steps=7", 7);
    expect(other.filter((c) => c[0] === "train").length).toBe(3);
  });

  it("--objectives croco,mae: MAE on the same frames is its own row, named '<dataset> (mae)'", async () => {
    const calls: string[][] = [];
    const r = await runBenchmark([dataset("frames", 3, "f")], {
      probe,
      scaleName: "nano@seeds=1",
      scale: { ...benchmarkScales.nano, seeds: 1 },
      out: path.join(tmp, "out-mae"),
      objectives: ["croco", "mae"],
      randomInit: false,
      positionPrior: false,
      quiet: true,
      runner: fakeRunner(calls),
    });
    expect(calls.filter((c) => c[0] === "train").map((c) => c[c.indexOf("--objective") + 1])).toEqual(["croco", "mae"]);
    expect(r.leaderboard.rows.map((x) => [x.name, x.objective]).sort()).toEqual([
      ["frames (mae)", "mae"],
      ["frames", "croco"],
    ]);
    expect(fs.existsSync(path.join(tmp, "out-mae", "runs", "frames.mae", "seed0", "result.json"))).toBe(true);
  });

  it("adds the position-prior row by default: probes on --ckpt position, no training", async () => {
    const calls: string[][] = [];
    const r = await runBenchmark([dataset("one", 3, "o")], {
      probe,
      scaleName: "nano@seeds=1",
      scale: { ...benchmarkScales.nano, seeds: 1 },
      out: path.join(tmp, "out-pos"),
      randomInit: false,
      quiet: true,
      runner: fakeRunner(calls),
    });
    expect(calls.map((c) => c.slice(0, 3).join(" "))).toEqual([
      `train --data ${calls[0][2]}`,
      `probe --ckpt ${calls[1][2]}`,
      `probe --ckpt ${calls[2][2]}`,
      "probe --ckpt position",
      "probe --ckpt position",
    ]);
    expect(calls[3].slice(0, 5)).toEqual(["probe", "--ckpt", "position", "--model", "nano"]);
    expect(r.leaderboard.rows.map((x) => [x.name, x.objective]).sort()).toEqual([
      ["one", "croco"],
      ["position prior", "none"],
    ]);
  });

  it("a failing step leaves that dataset off the leaderboard and names it; the others still run", async () => {
    const ds = [dataset("ok", 4, "x"), dataset("broken", 6, "y")];
    const calls: string[][] = [];
    const base = fakeRunner(calls);
    const runner: MimicRunner = (args, q) => (args.includes(ds[1]) ? Promise.resolve(1) : base(args, q));
    const r = await runBenchmark(ds, {
      probe,
      scaleName: "nano",
      scale: { ...benchmarkScales.nano, seeds: 1 },
      out: path.join(tmp, "out-fail"),
      randomInit: false,
      positionPrior: false,
      quiet: true,
      runner,
    });
    expect(r.leaderboard.rows.map((x) => x.name)).toEqual(["ok"]);
    expect(r.failures).toEqual([
      { dataset: "broken", error: expect.stringMatching(/mimic train --objective croco \(seed 0\) failed \(exit 1\)/) },
    ]);
  });

  it("CLI: a folder without pairs.csv, a missing --probe or duplicate names exit 2 with the folder named", () => {
    const empty = path.join(tmp, "data", "not-a-dataset");
    fs.mkdirSync(empty, { recursive: true });
    const cli = (...a: string[]) => spawnSync(process.execPath, [bin, "benchmark", ...a], { encoding: "utf8", timeout: 60_000 });
    const r = cli(empty, "--probe", probe, "--out", path.join(tmp, "cli-out"));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`dataset ${empty} has no pairs.csv`);
    const noProbe = cli(dataset("fine", 2, null));
    expect(noProbe.status).toBe(2);
    expect(noProbe.stderr).toContain("--probe <dir> is required");
    const a = dataset("twin", 2, null);
    const b = path.join(tmp, "elsewhere", "twin");
    fs.mkdirSync(b, { recursive: true });
    fs.copyFileSync(path.join(a, "pairs.csv"), path.join(b, "pairs.csv"));
    const dup = cli(a, b, "--probe", probe, "--out", path.join(tmp, "cli-out"));
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain("have the same folder name 'twin'");
    expect(fs.existsSync(path.join(tmp, "cli-out", "leaderboard.json"))).toBe(false);
  });
});
