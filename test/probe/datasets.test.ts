import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { writeJpeg, writePng } from "../../src/image/io.js";
import {
  detectFormat,
  loadSample,
  openProbeDataset,
  parseClassColors,
  parseClasses,
  parseSplits,
  readPairList,
  resizeNearest,
  resizeRgbBilinear,
} from "../../src/probe/datasets.js";
import { EIGEN_CROP } from "../../src/probe/metrics.js";
import { randomBytes } from "../helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-ds-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let dirNo = 0;
const freshDir = (name: string) => {
  const d = path.join(tmp, `${dirNo++}-${name}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const mk = (f: string) => {
  fs.mkdirSync(path.dirname(f), { recursive: true });
  return f;
};

/** RGB PNG with a known pattern (exact values on reading). */
async function rgbPng(file: string, w: number, h: number, seed = 1) {
  await writePng(mk(file), w, h, randomBytes(w * h * 3, seed), 3);
}
async function rgbJpg(file: string, w: number, h: number) {
  await writeJpeg(mk(file), { width: w, height: h, rgb: new Uint8Array(w * h * 3).fill(128) });
}
/** 16-bit depth in mm: pixel i holds 1000 + i. */
async function depthPng(file: string, w: number, h: number) {
  await writePng(
    mk(file),
    w,
    h,
    Uint16Array.from({ length: w * h }, (_, i) => 1000 + i),
    1,
  );
}
async function labelPng(file: string, w: number, h: number, labels?: number[]) {
  await writePng(mk(file), w, h, Uint8Array.from(labels ?? Array.from({ length: w * h }, (_, i) => i % 4)), 1);
}

describe("NYU Depth v2 readers", () => {
  it("rgb/ + depth/ folder pairs by stem; depth is read in metres; the Eigen crop is the eval crop", async () => {
    const root = freshDir("nyu");
    for (const s of ["b", "a"]) {
      await rgbPng(path.join(root, "rgb", `${s}.png`), 4, 3);
      await depthPng(path.join(root, "depth", `${s}.png`), 4, 3);
    }
    expect(detectFormat(root)).toBe("nyu");
    const ds = openProbeDataset(root, { task: "depth" });
    expect(ds.format).toBe("nyu");
    expect(Object.keys(ds.splits)).toEqual(["all"]);
    expect(ds.splits.all.map((s) => s.id)).toEqual(["a", "b"]);
    expect(ds.splits.all[0]).toEqual({
      id: "a",
      rgbPath: path.join(root, "rgb", "a.png"),
      targetPath: path.join(root, "depth", "a.png"),
      kind: "depth",
    });
    expect(ds.evalCrop).toEqual(EIGEN_CROP);
    const s = await loadSample(ds.splits.all[0], { size: null });
    expect([s.width, s.height]).toEqual([4, 3]);
    // pixel i = (1000 + i) mm
    expect(Array.from(s.depth!).map((v) => Math.round(v * 1e6) / 1e6)).toEqual(Array.from({ length: 12 }, (_, i) => (1000 + i) / 1000));
    expect(Array.from(s.rgb)).toEqual(Array.from(randomBytes(36, 1)));
    expect(s.labels).toBeUndefined();
  });

  it("train/ and test/ folders give train and val splits", async () => {
    const root = freshDir("nyu-splits");
    for (const [split, stem] of [
      ["train", "t0"],
      ["train", "t1"],
      ["test", "v0"],
    ]) {
      await rgbJpg(path.join(root, split, "rgb", `${stem}.jpg`), 4, 3);
      await depthPng(path.join(root, split, "depth", `${stem}.png`), 4, 3);
    }
    const ds = openProbeDataset(root, { task: "depth" });
    expect(ds.splits.train.map((s) => s.id)).toEqual(["t0", "t1"]);
    expect(ds.splits.val.map((s) => s.id)).toEqual(["v0"]);
  });

  it("list files: 'rgb depth [focal]' per line, BTS-style leading slashes, comments, None skipped", async () => {
    const root = freshDir("nyu-list");
    await rgbJpg(path.join(root, "kitchen", "rgb_00001.jpg"), 4, 3);
    await depthPng(path.join(root, "kitchen", "sync_depth_00001.png"), 4, 3);
    await rgbJpg(path.join(root, "office", "rgb_00002.jpg"), 4, 3);
    await depthPng(path.join(root, "office", "sync_depth_00002.png"), 4, 3);
    const list = path.join(root, "train.txt");
    fs.writeFileSync(
      list,
      "# NYU train\n/kitchen/rgb_00001.jpg /kitchen/sync_depth_00001.png 518.8579\n\noffice/rgb_00002.jpg office/sync_depth_00002.png\n/x/rgb_3.jpg None 518.8\n",
    );
    const { samples, skipped } = readPairList(list);
    expect(samples.map((s) => s.id)).toEqual(["kitchen/rgb_00001", "office/rgb_00002"]);
    expect(samples[1].targetPath).toBe(path.join(root, "office", "sync_depth_00002.png"));
    expect(skipped).toBe(1);
    // as a dataset folder with train.txt -> split train; the list file itself -> split all
    const ds = openProbeDataset(root, { task: "depth", format: "nyu" });
    expect(ds.splits.train).toHaveLength(2);
    expect(ds.notes[0]).toMatch(/skipped 1 pair/);
    expect(openProbeDataset(list, { task: "depth" }).splits.all).toHaveLength(2);
    // relative to another root
    const moved = path.join(freshDir("nyu-list2"), "l.txt");
    fs.writeFileSync(moved, "kitchen/rgb_00001.jpg kitchen/sync_depth_00001.png\n");
    expect(() => readPairList(moved)).toThrow(/l\.txt:1: .*rgb_00001\.jpg does not exist.*pass dataRoot/);
    expect(readPairList(moved, root).samples).toHaveLength(1);
    fs.writeFileSync(moved, "just-one-column.jpg\n");
    expect(() => readPairList(moved)).toThrow(/l\.txt:1: expected "rgb-path depth-path"/);
  });

  it("list files: a path through '..' or a symlink out of the data root is refused with its line", async () => {
    const outside = freshDir("nyu-outside");
    await rgbJpg(path.join(outside, "rgb_9.jpg"), 4, 3);
    await depthPng(path.join(outside, "depth_9.png"), 4, 3);
    const root = freshDir("nyu-escape");
    await rgbJpg(path.join(root, "k", "rgb_1.jpg"), 4, 3);
    await depthPng(path.join(root, "k", "depth_1.png"), 4, 3);
    fs.symlinkSync(outside, path.join(root, "elsewhere"));
    const list = path.join(root, "train.txt");
    const rel = path.relative(root, outside);
    for (const [line, bad] of [
      [`${rel}/rgb_9.jpg ${rel}/depth_9.png`, `${rel}/rgb_9.jpg`],
      ["k/rgb_1.jpg elsewhere/depth_9.png", "elsewhere/depth_9.png"],
    ]) {
      fs.writeFileSync(list, `k/rgb_1.jpg k/depth_1.png\n${line}\n`);
      expect(() => readPairList(list)).toThrow(`train.txt:2: path ${JSON.stringify(bad)} resolves outside ${root}`);
    }
  });

  it("errors: missing partner both ways, 8-bit depth, size mismatch, wrong task, unknown layout", async () => {
    const root = freshDir("nyu-bad");
    await rgbJpg(path.join(root, "rgb", "a.jpg"), 4, 3);
    await rgbJpg(path.join(root, "rgb", "b.jpg"), 4, 3);
    await depthPng(path.join(root, "depth", "a.png"), 4, 3);
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/1 image\(s\) in .*rgb have no depth PNG.*: b\. Add .*depth\/b\.png/);
    await depthPng(path.join(root, "depth", "b.png"), 5, 3); // wrong size
    await depthPng(path.join(root, "depth", "c.png"), 4, 3); // no rgb
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/PNG\(s\) in .*depth have no image of the same name.*: c/);
    fs.rmSync(path.join(root, "depth", "c.png"));
    const ds = openProbeDataset(root, { task: "depth" });
    await expect(loadSample(ds.splits.all[1], { size: null })).rejects.toThrow(
      /b\.jpg is 4x3 but .*b\.png is 5x3; the depth map must have/,
    );
    await labelPng(path.join(root, "depth", "a.png"), 4, 3); // 8-bit
    await expect(loadSample(ds.splits.all[0], { size: null })).rejects.toThrow(/a\.png: depth PNG is 8-bit; expected 16-bit/);
    fs.rmSync(path.join(root, "depth", "a.png"));
    await expect(loadSample(ds.splits.all[0], { size: null })).rejects.toThrow(/a\.png does not exist/);
    expect(() => openProbeDataset(root, { task: "seg" })).toThrow(/NYU depth layout \(depth only\)/);
    expect(() => openProbeDataset(freshDir("empty"), { task: "depth" })).toThrow(/unknown probe dataset layout/);
    expect(() => openProbeDataset(path.join(tmp, "nope"), { task: "depth" })).toThrow(/nope does not exist/);
  });
});

describe("ADE20K reader", () => {
  it("images/ + annotations/ {training,validation}; labels as stored (0 = ignore); class names from objectInfo150.csv", async () => {
    const root = freshDir("ade");
    await rgbJpg(path.join(root, "images", "training", "ADE_train_00000001.jpg"), 4, 3);
    await labelPng(path.join(root, "annotations", "training", "ADE_train_00000001.png"), 4, 3, [0, 1, 2, 150, 0, 1, 2, 3, 4, 5, 6, 7]);
    await rgbJpg(path.join(root, "images", "validation", "ADE_val_00000001.jpg"), 4, 3);
    await labelPng(path.join(root, "annotations", "validation", "ADE_val_00000001.png"), 4, 3, new Array(12).fill(151));
    expect(detectFormat(root)).toBe("ade20k");
    const ds = openProbeDataset(root, { task: "seg" });
    expect(ds.numClasses).toBe(150);
    expect(ds.classNames).toBeNull();
    expect(ds.splits.train.map((s) => s.id)).toEqual(["ADE_train_00000001"]);
    expect(ds.splits.val[0].kind).toBe("seg");
    const s = await loadSample(ds.splits.train[0], { size: null, numClasses: ds.numClasses });
    expect(Array.from(s.labels!)).toEqual([0, 1, 2, 150, 0, 1, 2, 3, 4, 5, 6, 7]);
    await expect(loadSample(ds.splits.val[0], { size: null, numClasses: 150 })).rejects.toThrow(
      /ADE_val_00000001\.png: label 151 at \(x 0, y 0\) is out of range for 150 classes \(labels 0\.\.150, 0 = ignore\)/,
    );
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/ADE20K layout \(segmentation only\)/);
    fs.writeFileSync(
      path.join(root, "objectInfo150.csv"),
      "Idx,Ratio,Train,Val,Name\n1,0.1576,11664,1172,wall\n2,0.1072,6046,612,building;edifice\n",
    );
    const named = openProbeDataset(root, { task: "seg" });
    expect(named.classNames).toEqual(["wall", "building"]);
    expect(openProbeDataset(root, { task: "seg", numClasses: 150 }).numClasses).toBe(150);
  });

  it("RGB (colour-coded) label PNGs are rejected with the fix; grey maps saved as RGB are read", async () => {
    const root = freshDir("ade-rgb");
    await rgbJpg(path.join(root, "images", "training", "g.jpg"), 2, 1);
    // labels 7, 9 stored as RGB with R = G = B
    await sharp(Buffer.from([7, 7, 7, 9, 9, 9]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toFile(mk(path.join(root, "annotations", "training", "g.png")));
    const grey = openProbeDataset(root, { task: "seg" }).splits.train[0];
    expect(Array.from((await loadSample(grey, { size: null, numClasses: 150 })).labels!)).toEqual([7, 9]);
    await rgbJpg(path.join(root, "images", "training", "x.jpg"), 4, 3);
    await rgbPng(path.join(root, "annotations", "training", "x.png"), 4, 3);
    const ds = openProbeDataset(root, { task: "seg" });
    await expect(loadSample(ds.splits.train[1], { size: null, numClasses: 150 })).rejects.toThrow(
      /x\.png: label PNG has 3 different channels; store labels as a single-channel 8-bit PNG/,
    );
    fs.rmSync(path.join(root, "annotations", "training", "x.png"));
    expect(() => openProbeDataset(root, { task: "seg" })).toThrow(/no label PNG of the same name.*annotations\/training\/x\.png/);
  });
});

describe("synthetic probe set (mimic synth layout)", () => {
  async function synthSet(root: string) {
    for (const scene of ["scene000", "scene001", "scene002"])
      for (const f of ["0000", "0001"]) {
        const stem = `${scene}_${f}`;
        await rgbJpg(path.join(root, "rgb", `${stem}.jpg`), 4, 3);
        await depthPng(path.join(root, "depth", `${stem}.png`), 4, 3);
        await labelPng(path.join(root, "labels", `${stem}.png`), 4, 3);
      }
    fs.writeFileSync(path.join(root, "classes.json"), JSON.stringify(["unlabelled", "wall", "floor", "table"]));
  }

  it("splits.json by scene, classes.json, both tasks", async () => {
    const root = freshDir("synth");
    await synthSet(root);
    fs.writeFileSync(path.join(root, "splits.json"), JSON.stringify({ train: ["scene000", "scene001"], val: ["scene002"] }));
    expect(detectFormat(root)).toBe("synth");
    const seg = openProbeDataset(root, { task: "seg" });
    expect(seg.format).toBe("synth");
    expect(seg.numClasses).toBe(3);
    expect(seg.classNames).toEqual(["wall", "floor", "table"]);
    expect(seg.splits.train.map((s) => s.id)).toEqual(["scene000_0000", "scene000_0001", "scene001_0000", "scene001_0001"]);
    expect(seg.splits.val.map((s) => s.id)).toEqual(["scene002_0000", "scene002_0001"]);
    expect(seg.splits.val[0].targetPath).toBe(path.join(root, "labels", "scene002_0000.png"));
    const depth = openProbeDataset(root, { task: "depth" });
    expect(depth.splits.val[0].targetPath).toBe(path.join(root, "depth", "scene002_0000.png"));
    expect(depth.notes).toEqual([]);
    // labels 0..3 (i % 4) fit 3 classes + ignore; loading at another size resizes
    const s = await loadSample(seg.splits.val[0], { size: { height: 6, width: 8 }, numClasses: seg.numClasses });
    expect([s.width, s.height, s.rgb.length, s.labels!.length]).toEqual([8, 6, 144, 48]);
    // with 2 classes, label 3 is out of range
    await expect(loadSample(seg.splits.val[0], { size: null, numClasses: 2 })).rejects.toThrow(/label 3 .*out of range for 2 classes/);
  });

  it("per-frame entries and paths, samples outside every split, leaks and unknown entries", async () => {
    const root = freshDir("synth2");
    await synthSet(root);
    const splits = path.join(root, "splits.json");
    fs.writeFileSync(splits, JSON.stringify({ train: { scenes: ["scene000"] }, test: ["rgb/scene002_0000.jpg", "scene002_0001"] }));
    const ds = openProbeDataset(root, { task: "depth" });
    expect(ds.splits.train).toHaveLength(2);
    expect(ds.splits.val.map((s) => s.id)).toEqual(["scene002_0000", "scene002_0001"]);
    expect(ds.notes[0]).toMatch(/2 sample\(s\) are in no split.*scene001_0000/);
    fs.writeFileSync(splits, JSON.stringify({ train: ["scene000"], val: ["scene000_0001"] }));
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/"scene000_0001" is in both train and val/);
    fs.writeFileSync(splits, JSON.stringify({ train: ["scene9"], val: [] }));
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/train entry "scene9" matches no image in rgb\//);
    fs.writeFileSync(splits, "{ not json");
    expect(() => openProbeDataset(root, { task: "depth" })).toThrow(/cannot parse .*splits\.json/);
    fs.rmSync(splits);
    const all = openProbeDataset(root, { task: "depth" });
    expect(all.splits.all).toHaveLength(6);
    fs.rmSync(path.join(root, "classes.json"));
    expect(() => openProbeDataset(root, { task: "seg" })).toThrow(/classes\.json is missing/);
    expect(openProbeDataset(root, { task: "seg", numClasses: 5 }).numClasses).toBe(5);
  });

  it("reads the files exactly as src/synth/dataset.ts writes them", async () => {
    const root = freshDir("synth-real");
    const stems = ["s00_000000", "s00_000030", "s01_000000", "s10_000000"];
    for (const stem of stems) {
      await rgbJpg(path.join(root, "rgb", `${stem}.jpg`), 4, 3);
      await depthPng(path.join(root, "depth", `${stem}.png`), 4, 3);
      await labelPng(path.join(root, "labels", `${stem}.png`), 4, 3);
    }
    const classes = { unlabelled: 0, classes: [1, 2, 3, 4, 5].map((id) => ({ id, name: `c${id}`, color: [id, id, id] })) };
    fs.writeFileSync(path.join(root, "classes.json"), JSON.stringify(classes));
    fs.writeFileSync(
      path.join(root, "splits.json"),
      JSON.stringify({
        train: ["s00", "s10"],
        val: ["s01"],
        files: { train: ["s00_000000", "s00_000030", "s10_000000"], val: ["s01_000000"] },
        layout: "rgb/<stem>.jpg, ...",
      }),
    );
    const ds = openProbeDataset(root, { task: "seg" });
    expect(ds.format).toBe("synth");
    expect(ds.numClasses).toBe(5);
    expect(ds.classNames).toEqual(["c1", "c2", "c3", "c4", "c5"]);
    expect(ds.classColors?.[0]).toBeUndefined();
    expect(ds.classColors?.[3]).toEqual([3, 3, 3]);
    expect(parseClassColors(["wall"])).toBeNull();
    expect(ds.splits.train.map((s) => s.id)).toEqual(["s00_000000", "s00_000030", "s10_000000"]);
    expect(ds.splits.val.map((s) => s.id)).toEqual(["s01_000000"]);
    expect(ds.notes).toEqual([]);
  });

  it("classes.json and splits.json variants", () => {
    expect(parseClasses(["wall", "floor"])).toEqual(["wall", "floor"]); // no label-0 entry: entry i is label i + 1
    expect(parseClasses({ classes: ["void", "wall"] })).toEqual(["wall"]);
    expect(
      parseClasses([
        { id: 0, name: "unlabelled" },
        { id: 2, name: "floor" },
      ]),
    ).toEqual(["class1", "floor"]);
    expect(parseClasses({ 1: "wall", 3: "door" })).toEqual(["wall", "class2", "door"]);
    expect(() => parseClasses(42, "c.json")).toThrow(/c\.json: expected a list of class names/);
    expect(() => parseClasses(["unlabelled"])).toThrow(/no classes with an id >= 1/);
    expect(parseSplits({ training: ["a/0"], validation: ["b"] }, ["a/0", "a/1", "b/0"]).splits).toEqual({ train: ["a/0"], val: ["b/0"] });
    expect(() => parseSplits([], ["a"])).toThrow(/expected \{"train"/);
  });
});

describe("resizing and cropping on load", () => {
  it("nearest keeps values (half-pixel centres); bilinear rgb matches hand values", () => {
    // 4x4 -> 2x2 picks source rows/cols floor((i + 0.5) * 2) = 1, 3
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(resizeNearest(src, 4, 4, 2, 2))).toEqual([5, 7, 13, 15]);
    // 1x2 -> 1x4 duplicates
    expect(Array.from(resizeNearest(Uint8Array.from([3, 9]), 1, 2, 1, 4))).toEqual([3, 3, 9, 9]);
    // bilinear 1x2 -> 1x4, one channel pattern: src x for dst x = (x + 0.5) / 2 - 0.5 = -0.25 (clamped 0), 0.25, 0.75, 1.25
    // values 0 and 100: 0, 25, 75, 100
    const rgb = Uint8Array.from([0, 0, 0, 100, 100, 100]);
    const out = resizeRgbBilinear(rgb, 1, 2, 1, 4);
    expect(Array.from(out.filter((_, i) => i % 3 === 0))).toEqual([0, 25, 75, 100]);
  });

  it("crop before resize applies to image and target alike", async () => {
    const root = freshDir("crop");
    await rgbPng(path.join(root, "rgb", "a.png"), 8, 6);
    await depthPng(path.join(root, "depth", "a.png"), 8, 6);
    const ds = openProbeDataset(root, { task: "depth" });
    // rows 1:5, cols 2:6 of 8x6 -> 4x4; depth at (y, x) = 1000 + 8y + x mm
    const s = await loadSample(ds.splits.all[0], { size: null, crop: { top: 1, bottom: 5, left: 2, right: 6 } });
    expect([s.width, s.height]).toEqual([4, 4]);
    expect(Math.round(s.depth![0] * 1000)).toBe(1000 + 8 + 2);
    expect(Math.round(s.depth![15] * 1000)).toBe(1000 + 8 * 4 + 5);
    const full = randomBytes(8 * 6 * 3, 1);
    expect(Array.from(s.rgb.slice(0, 3))).toEqual(Array.from(full.slice((8 + 2) * 3, (8 + 2) * 3 + 3)));
    // the Eigen crop scales with the frame: on 8x6 that is rows round(0.5625)=1 : round(5.8875)=6, cols 1:8 -> 7x5
    const e = await loadSample(ds.splits.all[0], { size: { height: 2, width: 2 }, crop: EIGEN_CROP });
    expect([e.width, e.height, e.depth!.length]).toEqual([2, 2, 4]);
  });
});
