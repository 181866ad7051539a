// `mimic synth` end to end at a tiny size: the files of the layout exist and decode to what was
// rendered, and the same seed gives identical bytes in every output file (videos included).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { synthCommand } from "../../src/cli/synth.js";
import { readGray, readRgb } from "../../src/image/io.js";
import { openSynthScene } from "../../src/synth/dataset.js";
import { trueCorrespondence } from "../../src/synth/truth.js";
import { testGpu } from "../helpers.js";

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

async function runSynth(out: string): Promise<void> {
  await synthCommand().parseAsync(
    ["--out", out, "--scenes", "2", "--seconds", "2", "--fps", "4", "--size", "64x48", "--seed", "11", "--quiet", "--batch", "3"],
    { from: "user" },
  );
}

describe("mimic synth (synth/dataset.ts)", () => {
  it("writes videos, poses, ground truth and the probe dataset; same seed -> identical bytes", async () => {
    await testGpu();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-synth-"));
    const a = path.join(tmp, "a");
    const b = path.join(tmp, "b");
    await runSynth(a);
    await runSynth(b);
    const files = listFiles(a);
    for (const f of [
      "classes.json",
      "splits.json",
      "synth.json",
      "videos/scene-0000.mp4",
      "videos/scene-0000.poses.json",
      "videos/scene-0001.mp4",
      "gt/scene-0000/000007.depth.png",
      "rgb/scene-0000_000000.jpg",
      "rgb/scene-0000_000002.jpg",
      "depth/scene-0001_000006.png",
      "labels/scene-0001_000006.png",
    ])
      expect(files, f).toContain(f);
    expect(listFiles(b)).toEqual(files);
    for (const f of files)
      expect(Buffer.compare(fs.readFileSync(path.join(a, f)), fs.readFileSync(path.join(b, f))), `${f} differs between runs`).toBe(0);

    const splits = JSON.parse(fs.readFileSync(path.join(a, "splits.json"), "utf8"));
    expect(splits.train).toEqual(["scene-0000"]);
    expect(splits.val).toEqual(["scene-0001"]);
    expect(splits.files.val).toContain("scene-0001_000006");
    const classes = JSON.parse(fs.readFileSync(path.join(a, "classes.json"), "utf8"));
    expect(classes.classes.length).toBe(13);

    const poses = JSON.parse(fs.readFileSync(path.join(a, "videos/scene-0000.poses.json"), "utf8"));
    expect(poses.frames.length).toBe(8);
    expect(poses.frames[5].t).toBeCloseTo(1.25, 12);
    expect(poses.frames[0].worldFromCam.length).toBe(16);
    expect(poses.width).toBe(64);

    const rgb = await readRgb(path.join(a, "rgb/scene-0000_000000.jpg"));
    expect([rgb.width, rgb.height]).toEqual([64, 48]);
    const depth = await readGray(path.join(a, "depth/scene-0000_000000.png"));
    expect(depth.data).toBeInstanceOf(Uint16Array);
    const dmax = Math.max(...depth.data);
    expect(Math.min(...depth.data)).toBeGreaterThan(100); // closed room: depth everywhere, > 10 cm
    expect(dmax).toBeLessThan(20000);
    const labels = await readGray(path.join(a, "labels/scene-0000_000000.png"));
    expect(labels.data).toBeInstanceOf(Uint8Array);
    expect(Math.max(...labels.data)).toBeLessThanOrEqual(13);
    // the gt depth of a probe frame is the probe depth
    const gt = await readGray(path.join(a, "gt/scene-0000/000000.depth.png"));
    expect(Buffer.compare(Buffer.from(gt.data.buffer), Buffer.from(depth.data.buffer))).toBe(0);

    // true correspondences from the files for frames 1 s apart
    const sc = openSynthScene(a, "scene-0000");
    expect(sc.frameAt(1.0)).toBe(4);
    const t = trueCorrespondence(await sc.view(0), await sc.view(sc.frameAt(1.0)));
    expect(t.overlap).toBeGreaterThan(0);
    expect(t.overlap).toBeLessThanOrEqual(1);
    const self = trueCorrespondence(await sc.view(3), await sc.view(3));
    expect(self.overlap).toBe(1);
    const summary = JSON.parse(fs.readFileSync(path.join(a, "synth.json"), "utf8"));
    expect(summary.scenes[0].overlaps1s.length).toBe(1);
    expect(summary.scenes[0].overlaps1s[0]).toBeCloseTo(t.overlap, 3);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("rejects a bad --size with a usage error", async () => {
    await expect(synthCommand().parseAsync(["--out", "/tmp/x", "--size", "64by48"], { from: "user" })).rejects.toThrow(
      /--size must be WIDTHxHEIGHT/,
    );
    await expect(synthCommand().parseAsync(["--out", "/tmp/x", "--size", "65x48"], { from: "user" })).rejects.toThrow(/even sides/);
  });
});
