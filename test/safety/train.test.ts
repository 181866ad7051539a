// train and synth claim their --out as mine does (issue 19, item 4), checkpoints are checked before
// anything is allocated (item 6), and train/reconstruct give clear messages for odd checkpoints.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint, readSidecar } from "../../src/models/checkpoint.js";
import { mimic, sandbox, treeDiff, treeHash } from "./helpers.js";

/** A tiny mined dataset: 2 pairs of 32x32 JPEGs and pairs.csv. */
async function dataset(dir: string): Promise<void> {
  const rows = ["path1,path2,correspondence"];
  for (let k = 0; k < 2; k++) {
    const id = `src/v/${k}`;
    fs.mkdirSync(path.join(dir, id), { recursive: true });
    for (const [i, f] of ["0000.jpg", "0001.jpg"].entries()) {
      const rgb = Buffer.alloc(32 * 32 * 3);
      for (let p = 0; p < rgb.length; p++) rgb[p] = (p * (7 + k + i)) % 251;
      await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } })
        .jpeg()
        .toFile(path.join(dir, id, f));
    }
    fs.writeFileSync(path.join(dir, id, "corresponding.json"), "{}\n");
    rows.push(`${id}/0000.jpg,${id}/0001.jpg,${id}/corresponding.json`);
  }
  fs.writeFileSync(path.join(dir, "pairs.csv"), `${rows.join("\n")}\n`);
}

const TRAIN = ["--model", "nano", "--batch", "1", "--quiet"];
let t = "";
let data = "";

beforeAll(async () => {
  t = sandbox();
  data = path.join(t, "data");
  await dataset(data);
});

describe("train: the output folder", () => {
  it("refuses an existing run without --force/--resume; --force replaces only the run's files", async () => {
    const run = path.join(t, "run");
    const first = await mimic(["train", "--data", data, "--out", run, "--steps", "1", "--workers", "10000", ...TRAIN]);
    expect(first.status, first.stderr).toBe(0); // --workers is capped at the cores there are
    fs.writeFileSync(path.join(run, "notes.txt"), "user notes\n");
    const before = treeHash(t);
    const again = await mimic(["train", "--data", data, "--out", run, "--steps", "1", ...TRAIN]);
    expect(again.status, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/not empty/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    const forced = await mimic(["train", "--data", data, "--out", run, "--steps", "2", "--force", ...TRAIN]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/removing .*checkpoint-000001\.safetensors/);
    const metrics = fs.readFileSync(path.join(run, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics.map((l) => JSON.parse(l).step)).toEqual([1, 2]); // one run, not two appended
    expect(fs.existsSync(path.join(run, "checkpoint-000001.json"))).toBe(false);
    expect(fs.readFileSync(path.join(run, "notes.txt"), "utf8")).toBe("user notes\n");
    // --resume of a finished run: a clear message, exit 2, nothing written
    const snap = treeHash(t);
    const done = await mimic(["train", "--data", data, "--out", run, "--steps", "2", "--resume", ...TRAIN]);
    expect(done.status, done.stderr).toBe(2);
    expect(done.stderr).toMatch(/at step 2.*nothing is left to train/);
    expect(treeDiff(snap, treeHash(t))).toEqual([]);
  });

  it("a refused run leaves --out as it was: --resume with another --seed or --batch exits 2, config.json kept", async () => {
    const run = path.join(t, "run-refused");
    const first = await mimic(["train", "--data", data, "--out", run, "--steps", "1", ...TRAIN]);
    expect(first.status, first.stderr).toBe(0);
    const before = treeHash(t);
    for (const flags of [
      ["--seed", "5"],
      ["--batch", "2"],
    ]) {
      const r = await mimic(["train", "--data", data, "--out", run, "--steps", "2", "--resume", ...TRAIN, ...flags]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(flags[0] === "--seed" ? /trained with --seed 0, not 5/ : /trained with --batch 1/);
      expect(treeDiff(before, treeHash(t))).toEqual([]); // config.json still describes the run that was trained
    }
  });

  it("a pairs.csv row refused before training leaves --out reusable without --force", async () => {
    const bad = path.join(t, "data-bad");
    fs.cpSync(data, bad, { recursive: true });
    const csv = fs.readFileSync(path.join(bad, "pairs.csv"), "utf8").replace("src/v/0/0000.jpg", "../data/src/v/0/0000.jpg");
    fs.writeFileSync(path.join(bad, "pairs.csv"), csv);
    const run = path.join(t, "run-bad-data");
    const r = await mimic(["train", "--data", bad, "--out", run, "--steps", "1", ...TRAIN]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/pairs\.csv row 1: path "\.\.\/data\/src\/v\/0\/0000\.jpg" resolves outside/);
    expect(fs.readdirSync(run)).toEqual([".mimic-kit.json"]); // no config.json of a run that never started
    const again = await mimic(["train", "--data", data, "--out", run, "--steps", "1", ...TRAIN]);
    expect(again.status, again.stderr).toBe(0);
  });

  it("a pairs.csv smaller than one batch, or one with no pairs, is a usage error (exit 2) and claims no --out", async () => {
    const headerOnly = path.join(t, "data-header-only");
    fs.mkdirSync(headerOnly);
    fs.writeFileSync(path.join(headerOnly, "pairs.csv"), "path1,path2,correspondence\n");
    for (const [d, extra, why] of [
      [data, ["--batch", "3"], /pairs\.csv has 2 pairs, fewer than one batch of 3\. Fix: pass --batch 2 or less/],
      [data, ["--batch", "5", "--objective", "mae"], /pairs\.csv has 4 distinct frames, fewer than one batch of 5/],
      [headerOnly, ["--batch", "1"], /pairs\.csv has a header but no pairs/],
    ] as const) {
      const run = path.join(t, "run-small");
      const r = await mimic(["train", "--data", d, "--out", run, "--steps", "1", "--model", "nano", "--quiet", ...extra]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(fs.existsSync(run)).toBe(false);
    }
  });

  it("refuses --out equal to, holding or inside --data, and --force on a folder mimic-kit did not write", async () => {
    const other = path.join(t, "other");
    fs.mkdirSync(other, { recursive: true });
    fs.writeFileSync(path.join(other, "thesis.txt"), "x\n");
    const before = treeHash(t);
    for (const out of [data, path.join(data, "run"), t, other]) {
      const r = await mimic(["train", "--data", data, "--out", out, "--steps", "1", "--force", ...TRAIN]);
      expect(r.status, `${out}: ${r.stderr}`).toBe(2);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });
});

describe("checkpoints: clear messages, no allocation from a lying sidecar", () => {
  let sidecar = "";
  beforeAll(() => {
    const run = path.join(t, "run");
    sidecar = path.join(run, JSON.parse(fs.readFileSync(path.join(run, "latest.json"), "utf8")).checkpoint);
  });
  type Sidecar = { config: Record<string, number>; step: number };
  const lie = (patch: (j: Sidecar) => void): string => {
    const j = JSON.parse(fs.readFileSync(sidecar, "utf8"));
    patch(j);
    const f = path.join(path.dirname(sidecar), "lying.json");
    fs.writeFileSync(f, JSON.stringify(j));
    return f;
  };

  it.each([
    ["depth 1e9", (j: Sidecar) => (j.config.depth = 1e9), /depth 1000000000 is above/],
    ["imgSize 100000", (j: Sidecar) => (j.config.imgSize = 100000), /imgSize 100000 is above/],
    ["depth 5 (the file has 4 blocks)", (j: Sidecar) => (j.config.depth = 5), /missing .*blocks\.4/],
    ["width 256 (the file has 128)", (j: Sidecar) => (j.config.width = 256), /shape mismatches/],
  ])("a sidecar claiming %s is refused quickly", async (_what, patch, msg) => {
    const t0 = performance.now();
    await expect(loadCheckpoint(lie(patch))).rejects.toThrow(msg);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("non-finite weights are named when loading, not probed into 'delta1 0.0000'", async () => {
    const dir = path.dirname(sidecar);
    const j = JSON.parse(fs.readFileSync(sidecar, "utf8"));
    const bytes = fs.readFileSync(path.join(dir, j.model));
    const headerLen = Number(bytes.readBigUInt64LE(0));
    bytes.writeFloatLE(Number.NaN, 8 + headerLen); // the first value of the first tensor
    fs.writeFileSync(path.join(dir, "nan.safetensors"), bytes);
    fs.writeFileSync(path.join(dir, "nan.json"), JSON.stringify({ ...j, model: "nan.safetensors" }));
    await expect(loadCheckpoint(path.join(dir, "nan.json"))).rejects.toThrow(/non-finite value \(NaN at index 0\)/);
  });

  it("a negative step is named, not '(intermediate value) is not iterable'", async () => {
    await expect(readSidecar(lie((j) => (j.step = -5)))).rejects.toThrow(/step -5 is not a whole number >= 0/);
  });

  it("reconstruct with a sidecar plus --model says the sidecar names its model (exit 2)", async () => {
    const r = await mimic([
      "reconstruct",
      "--ckpt",
      sidecar,
      "--model",
      "nano",
      "--view1",
      path.join(data, "src/v/0/0000.jpg"),
      "--out",
      path.join(t, "r.png"),
    ]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/sidecar, which names its own model/);
  });
});

describe("synth: the output folder", () => {
  const SYNTH = ["--scenes", "1", "--seconds", "0.5", "--fps", "2", "--size", "32x32", "--no-video", "--quiet"];
  it("refuses a non-empty --out without --force; --force replaces only a synth output, keeping other files", async () => {
    const out = path.join(t, "synth");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "thesis.txt"), "x\n");
    const before = treeHash(t);
    for (const extra of [[], ["--force"]]) {
      const r = await mimic(["synth", "--out", out, ...SYNTH, ...extra]);
      expect(r.status, r.stderr).toBe(2);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    fs.rmSync(path.join(out, "thesis.txt"));
    expect((await mimic(["synth", "--out", out, ...SYNTH])).status).toBe(0);
    fs.writeFileSync(path.join(out, "notes.txt"), "mine\n");
    const again = await mimic(["synth", "--out", out, ...SYNTH]);
    expect(again.status, again.stderr).toBe(2);
    const forced = await mimic(["synth", "--out", out, "--seed", "3", "--force", ...SYNTH]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/removing .*splits\.json/);
    expect(fs.readFileSync(path.join(out, "notes.txt"), "utf8")).toBe("mine\n");
  });
});
