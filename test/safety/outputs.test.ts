// Commands that write a file or a folder of results without claiming it as mine/train do (probe,
// reconstruct, report, eval-mining) still never write over what they read: an --out that is, holds
// or sits inside one of their inputs is refused with exit 2, and nothing changes.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { mimic, sandbox, treeDiff, treeHash } from "./helpers.js";

let t = "";
let nyu = "";

/** An NYU-layout probe dataset: rgb/<k>.png and depth/<k>.png (16-bit millimetres), 4 images of 32x32. */
async function probeSet(dir: string): Promise<void> {
  for (const sub of ["rgb", "depth"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  for (let k = 0; k < 4; k++) {
    await writePng(path.join(dir, "rgb", `${k}.png`), 32, 32, new Uint8Array(32 * 32 * 3).fill(40 * k), 3);
    await writePng(
      path.join(dir, "depth", `${k}.png`),
      32,
      32,
      Uint16Array.from({ length: 32 * 32 }, (_, i) => 1000 + i + k),
      1,
    );
  }
}

beforeAll(async () => {
  t = sandbox();
  nyu = path.join(t, "nyu");
  await probeSet(nyu);
});

describe("commands that write results never write over their inputs", () => {
  it("probe: --out or --cache equal to, inside or holding --data is refused (exit 2), the dataset unchanged", async () => {
    const before = treeHash(t);
    for (const [flag, dir] of [
      ["--out", nyu],
      ["--out", path.join(nyu, "rgb")],
      ["--out", t],
      ["--cache", path.join(nyu, "depth")],
    ]) {
      const out = flag === "--out" ? dir : path.join(t, "probe-out");
      const extra = flag === "--cache" ? ["--cache", dir] : [];
      const r = await mimic(["probe", "--ckpt", "random", "--task", "depth", "--data", nyu, "--out", out, "--quiet", ...extra]);
      expect(r.status, `${flag} ${dir}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${flag} .*(is the input|inside the input|holds the input)`));
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    // nor through a symlink planted where metrics.json goes
    const out = path.join(t, "probe-planted");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(t, "victim.txt"), "keep\n");
    fs.symlinkSync(path.join(t, "victim.txt"), path.join(out, "metrics.json"));
    const planted = treeHash(t);
    const r = await mimic(["probe", "--ckpt", "random", "--task", "depth", "--data", nyu, "--out", out, "--quiet"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/metrics\.json is a symlink/);
    expect(treeDiff(planted, treeHash(t))).toEqual([]);
  });

  it("reconstruct: --out equal to --view1, --view2 or the checkpoint is refused (exit 2), the file unchanged", async () => {
    const data = path.join(t, "data");
    const id = "src/v/0";
    fs.mkdirSync(path.join(data, id), { recursive: true });
    for (const f of ["0000.jpg", "0001.jpg"])
      await sharp(Buffer.alloc(32 * 32 * 3, f === "0000.jpg" ? 90 : 160), { raw: { width: 32, height: 32, channels: 3 } })
        .jpeg()
        .toFile(path.join(data, id, f));
    fs.writeFileSync(path.join(data, "pairs.csv"), `path1,path2,correspondence\n${id}/0000.jpg,${id}/0001.jpg,${id}/c.json\n`);
    const run = path.join(t, "run");
    const tr = await mimic(["train", "--data", data, "--out", run, "--steps", "1", "--batch", "1", "--model", "nano", "--quiet"]);
    expect(tr.status, tr.stderr).toBe(0);
    const [v1, v2] = ["0000.jpg", "0001.jpg"].map((f) => path.join(data, id, f));
    const before = treeHash(t);
    for (const out of [v1, v2, path.join(run, "checkpoint-000001.safetensors"), path.join(run, "latest.json")]) {
      const r = await mimic(["reconstruct", "--ckpt", path.join(run, "latest.json"), "--view1", v1, "--view2", v2, "--out", out]);
      expect(r.status, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--out .*is the input/);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("report and eval-mining: an --out that is one of the files they read is refused (exit 2), the file unchanged", async () => {
    // a mined dataset of one pair, and a synth folder around it, as mine and synth write them
    const mined = path.join(t, "mined");
    const id = await oneMinedPair(mined);
    fs.writeFileSync(path.join(mined, "config.json"), `${JSON.stringify({ configHash: "h", source: "videos", config: {} })}\n`);
    const gt = path.join(t, "gt");
    fs.mkdirSync(path.join(gt, "videos"), { recursive: true });
    fs.writeFileSync(path.join(gt, "splits.json"), `${JSON.stringify({ train: ["a"] })}\n`);
    const before = treeHash(t);
    for (const out of [path.join(mined, "pairs.jsonl"), path.join(mined, "config.json"), path.join(mined, id, "0000.jpg")]) {
      const r = await mimic(["report", "--mined", mined, "--out", out, "--quiet"]);
      expect(r.status, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--out .*(is the input|inside the input)/);
    }
    for (const out of [path.join(mined, "pairs.jsonl"), path.join(mined, id, "0000.jpg"), path.join(gt, "splits.json")]) {
      const r = await mimic(["eval-mining", mined, "--gt", gt, "--out", out, "--quiet"]);
      expect(r.status, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--out .*(is the input|inside the input)/);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
    for (let k = 0; k < 2; k++) {
      // beside the dataset's files is fine, and a rerun replaces its own report
      const ok = await mimic(["report", "--mined", mined, "--out", path.join(mined, "report.html"), "--quiet"]);
      expect(ok.status, ok.stderr).toBe(0);
    }
  });

  it("match: --viz over an input image is refused (exit 2); an image it cannot decode is named (exit 2)", async () => {
    const dir = path.join(t, "match");
    fs.mkdirSync(dir, { recursive: true });
    const [a, b, junk] = ["a.png", "b.png", "junk.jpg"].map((f) => path.join(dir, f));
    await writePng(a, 32, 32, new Uint8Array(32 * 32 * 3).fill(70), 3);
    await writePng(b, 32, 32, new Uint8Array(32 * 32 * 3).fill(140), 3);
    fs.writeFileSync(junk, "not an image\n");
    const before = treeHash(t);
    const viz = await mimic(["match", a, b, "--viz", b, "--quiet"]);
    expect(viz.status, viz.stderr).toBe(2);
    expect(viz.stderr).toMatch(/--viz .*is the input/);
    const bad = await mimic(["match", a, junk, "--quiet"]);
    expect(bad.status, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(junk);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("eval-mining names a config.json it cannot parse", async () => {
    const mined = path.join(t, "mined-broken");
    fs.mkdirSync(mined, { recursive: true });
    fs.writeFileSync(path.join(mined, "config.json"), "{torn");
    fs.writeFileSync(path.join(mined, "pairs.jsonl"), "");
    const gt = path.join(t, "gt-empty");
    fs.mkdirSync(gt, { recursive: true });
    const r = await mimic(["eval-mining", mined, "--gt", gt, "--out", path.join(t, "ev.json"), "--quiet"]);
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(path.join(mined, "config.json"));
  });

  it("report and eval-mining never write through a symlink planted where their output goes", async () => {
    const dir = path.join(t, "planted");
    const mined = path.join(dir, "mined");
    await oneMinedPair(mined);
    for (const f of ["bashrc", "profile"]) fs.writeFileSync(path.join(t, f), "export PATH=...\n");
    fs.symlinkSync(path.join(t, "bashrc"), path.join(dir, "report.html"));
    fs.symlinkSync(path.join(t, "profile"), path.join(mined, "eval-mining.json"));
    const gt = path.join(t, "gt-planted");
    fs.mkdirSync(gt, { recursive: true });
    const before = treeHash(t);
    for (const args of [
      ["report", dir, "--quiet"],
      ["eval-mining", mined, "--gt", gt, "--quiet"],
    ]) {
      const r = await mimic(args);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/is a symlink/);
    }
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("benchmark: an --out over a dataset, the probe set or the videos, or a folder it did not write, is refused (exit 2)", async () => {
    const ds = path.join(t, "bench-ds");
    await oneMinedPair(ds);
    fs.writeFileSync(
      path.join(ds, "pairs.csv"),
      "path1,path2,correspondence\nvideos/a-00000000/0/0000.jpg,videos/a-00000000/0/0001.jpg,\n",
    );
    const probe = path.join(t, "bench-probe");
    const made = await mimic([
      "synth",
      "--out",
      probe,
      "--scenes",
      "1",
      "--seconds",
      "1",
      "--fps",
      "2",
      "--size",
      "32x32",
      "--no-video",
      "--quiet",
    ]);
    expect(made.status, made.stderr).toBe(0);
    const videos = path.join(t, "bench-videos");
    fs.mkdirSync(videos, { recursive: true });
    const foreign = path.join(t, "bench-foreign");
    fs.mkdirSync(foreign, { recursive: true });
    fs.writeFileSync(path.join(foreign, "thesis.txt"), "keep\n");
    const before = treeHash(t);
    const fresh = path.join(t, "bench-out");
    for (const [args, why] of [
      [[ds, "--out", ds], /is the input/],
      [[ds, "--out", path.join(ds, "videos")], /inside the input/],
      [[ds, "--out", path.join(probe, "bench")], /inside the input/],
      [[ds, "--out", t], /holds the input/],
      [[ds, "--make-baselines", videos, "--out", path.join(videos, "b")], /inside the input/],
      [[ds, "--out", foreign], /not a mimic-kit output/],
      // bad inputs are named before --out is claimed: no folder is left behind
      [[path.join(t, "no-such-dataset"), "--out", fresh], /no-such-dataset is not a folder/],
      [[ds, "--out", fresh, "--steps", "0"], /--steps must be an integer >= 1/],
      [[ds, "--make-baselines", path.join(t, "no-such-videos"), "--out", fresh], /--make-baselines .*no-such-videos does not exist/],
      [[ds, "--baselines", "random-pairs", "--out", fresh], /--baselines needs --make-baselines/],
      [[ds, "--make-baselines", videos, "--baselines", "random-pairs,best-pairs", "--out", fresh], /unknown baseline 'best-pairs'/],
      [[ds, "--make-baselines", videos, "--baselines", "random-pairs,random-pairs", "--out", fresh], /lists a baseline twice/],
    ] as const) {
      const r = await mimic(["benchmark", ...args, "--probe", probe, "--quiet"]);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(why);
    }
    const r = await mimic(["benchmark", ds, "--probe", path.join(t, "no-such-probe"), "--out", fresh, "--quiet"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--probe .*no-such-probe/);
    expect(treeDiff(before, treeHash(t))).toEqual([]);
  });

  it("an empty --out is a usage error naming it (not the current folder, not a bare ENOENT)", async () => {
    const gt = path.join(t, "gt-empty-out");
    fs.mkdirSync(gt, { recursive: true });
    for (const args of [
      ["demo", "--quick", "--out", ""],
      ["report", nyu, "--out", " "],
      ["eval-mining", nyu, "--gt", gt, "--out", ""],
    ]) {
      const r = await mimic(args, t);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--out is empty/);
    }
  });
});

/** A mined dataset of one pair (two 32x32 JPEGs and its pairs.jsonl row), as mine writes it; returns the pair's id. */
async function oneMinedPair(mined: string): Promise<string> {
  const id = "videos/a-00000000/0";
  fs.mkdirSync(path.join(mined, id), { recursive: true });
  for (const f of ["0000.jpg", "0001.jpg"])
    await sharp(Buffer.alloc(32 * 32 * 3, 99), { raw: { width: 32, height: 32, channels: 3 } })
      .jpeg()
      .toFile(path.join(mined, id, f));
  const rec = {
    id,
    source: "videos",
    video: "a.mp4",
    t1: 0,
    t2: 1,
    path1: `${id}/0000.jpg`,
    path2: `${id}/0001.jpg`,
    H: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    inliers: 9,
    overlap: 0.6,
    correspondence: {},
  };
  fs.writeFileSync(path.join(mined, "pairs.jsonl"), `${JSON.stringify(rec)}\n`);
  return id;
}
