// Frame-sequence sources (src/video/sequence.ts) and their listing (folder.ts with sequences):
// order, timestamps, sampling, parallel decoding in order, a corrupt and a missing frame.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listVideos } from "../../src/video/folder.js";
import { VideoError } from "../../src/video/probe.js";
import { decodeSequence, naturalCompare, sampleSequence, sequenceOf, sequenceTimes } from "../../src/video/sequence.js";
import { ffmpeg } from "./gen.js";

let root: string;
/** A 40x30 image whose every pixel is (v, 255 - v, 7): the frame can be told from its colour. */
async function solid(file: string, v: number): Promise<void> {
  const rgb = Buffer.alloc(40 * 30 * 3);
  for (let i = 0; i < 40 * 30; i++) rgb.set([v, 255 - v, 7], 3 * i);
  const img = sharp(rgb, { raw: { width: 40, height: 30, channels: 3 } });
  await (file.endsWith(".png") ? img.png() : img.jpeg({ quality: 100 })).toFile(file);
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-seq-"));
  const mk = (rel: string) => fs.mkdirSync(path.join(root, rel), { recursive: true });
  mk("tum/rgb");
  mk("plain");
  mk("one");
  // TUM style, written out of order; 0.25 s apart.
  for (const k of [3, 0, 2, 1, 4, 5, 6, 7, 8])
    await solid(path.join(root, "tum/rgb", `${(1341847980.5 + k * 0.25).toFixed(6)}.png`), 20 * k);
  for (let k = 1; k <= 11; k++) await solid(path.join(root, "plain", `frame_${k}.jpg`), 20 * k);
  fs.writeFileSync(path.join(root, "plain", "notes.txt"), "x");
  await solid(path.join(root, "one", "only.png"), 1);
  // TUM's depth/ beside rgb/: 16-bit single-channel PNGs, not a sequence to mine.
  mk("tum/depth");
  for (const k of [0, 1, 2])
    await sharp(new Uint16Array(40 * 30).fill(5000 + k), { raw: { width: 40, height: 30, channels: 1 } })
      .toColourspace("grey16")
      .png()
      .toFile(path.join(root, "tum/depth", `${(1341847980.5 + k * 0.25).toFixed(6)}.png`));
  ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=32x24:rate=5:duration=1", "-c:v", "mpeg4", path.join(root, "clip.mp4")]);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("frame sequences", () => {
  it("natural sort: digit runs by value, total tie-break by bytes", () => {
    const names = ["f10.png", "f9.png", "f010.png", "f1.png", "f1a.png", "F2.png", "f_a.png"];
    expect([...names].sort(naturalCompare)).toEqual(["F2.png", "f1.png", "f1a.png", "f9.png", "f010.png", "f10.png", "f_a.png"]);
    for (const a of names) for (const b of names) expect(Math.sign(naturalCompare(a, b))).toBe(-Math.sign(naturalCompare(b, a)) || 0);
  });

  it("TUM names are timestamps and give the order; other names need fps", () => {
    const tum = sequenceOf("/x", ["1341847980.75.png", "1341847980.5.png", "1341847981.png"]);
    expect(tum.stamps).toBeNull(); // '1341847981' has no fraction: not all names are timestamps
    const t = sequenceOf("/x", ["1341847980.750000.png", "1341847980.500000.png", "1341847981.000000.png"]);
    expect(t.files).toEqual(["1341847980.500000.png", "1341847980.750000.png", "1341847981.000000.png"]);
    expect(sequenceTimes(t)).toEqual([1341847980.5, 1341847980.75, 1341847981]);
    const p = sequenceOf("/x", ["2.jpg", "10.jpg", "1.jpg"]);
    expect(p.files).toEqual(["1.jpg", "2.jpg", "10.jpg"]);
    expect(() => sequenceTimes(p)).toThrow(VideoError);
    expect(() => sequenceTimes(p)).toThrow(/--fps/);
    expect(sequenceTimes(p, 4)).toEqual([0, 0.25, 0.5]);
  });

  it("interval sampling: the first frame at or after each multiple, relative to the first frame", () => {
    const times = [100, 100.25, 100.5, 100.75, 101.0000004, 101.25, 101.9, 102.3, 103.5];
    expect(sampleSequence(times, { kind: "interval", seconds: 1 })).toEqual([0, 4, 7, 8]);
    expect(sampleSequence(times, { kind: "every-nth", n: 4 })).toEqual([0, 4, 8]);
    expect(sampleSequence(times, { kind: "timestamps", seconds: [0.5, 0.6, 3] })).toEqual([2, 3, 8]);
  });

  it("lists sequences beside videos; a lone image is ignored; a list file may name both", () => {
    const l = listVideos(root, { sequences: true });
    expect(l.videos.map((v) => [v.rel, v.sequence ? v.sequence.files.length : "video"])).toEqual([
      ["clip.mp4", "video"],
      ["plain", 11],
      ["tum/rgb", 9],
    ]);
    expect(l.ignored.sort()).toEqual([
      "one/only.png",
      "plain/notes.txt",
      "tum/depth/1341847980.500000.png",
      "tum/depth/1341847980.750000.png",
      "tum/depth/1341847981.000000.png",
    ]);
    expect(listVideos(root).videos.map((v) => v.rel)).toEqual(["clip.mp4"]); // without the option: videos only
    const list = path.join(root, "list.txt");
    fs.writeFileSync(list, "clip.mp4\ntum/rgb\none\n");
    const fromList = listVideos(list, { sequences: true });
    expect(fromList.videos.map((v) => v.rel)).toEqual(["clip.mp4", "tum/rgb"]);
    expect(fromList.errors.map((e) => e.code)).toEqual(["directory"]);
    expect(fromList.errors[0].message).toMatch(/one.*1 image/);
    // The input folder itself can be the sequence.
    const self = listVideos(path.join(root, "plain"), { sequences: true });
    expect(self.videos.map((v) => v.rel)).toEqual(["plain"]);
  });

  it("decodes the sampled frames in order, parallel; a corrupt and a missing frame are skipped and named", async () => {
    const dir = path.join(root, "broken");
    fs.mkdirSync(dir);
    for (let k = 0; k < 8; k++) await solid(path.join(dir, `${k}.png`), 30 * k);
    const full = fs.readFileSync(path.join(dir, "3.png"));
    fs.writeFileSync(path.join(dir, "3.png"), full.subarray(0, full.length >> 1));
    const seq = listVideos(dir, { sequences: true }).videos[0].sequence;
    if (!seq) throw new Error("no sequence");
    fs.rmSync(path.join(dir, "5.png")); // vanished after listing
    for (const parallel of [1, 3]) {
      const s = decodeSequence(seq, { times: sequenceTimes(seq, 2), parallel, size: { width: 8, height: 8 } });
      const got: Array<[number, number, number]> = [];
      for await (const f of s) got.push([f.index, f.ptsSec, f.rgb[0]]);
      expect(got).toEqual([
        [0, 0, 0],
        [1, 0.5, 30],
        [2, 1, 60],
        [3, 2, 120],
        [4, 3, 180],
        [5, 3.5, 210],
      ]);
      expect(s.warnings.map((w) => [path.basename(w.file), w.code])).toEqual([
        ["3.png", "corrupt-frame"],
        ["5.png", "missing-frame"],
      ]);
      expect(s.warnings[0].message).toContain(path.join(dir, "3.png"));
    }
  });

  it("a sequence with no readable frame is a VideoError naming the folder", async () => {
    const dir = path.join(root, "junk");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "a.jpg"), "no");
    fs.writeFileSync(path.join(dir, "b.jpg"), "no");
    const seq = sequenceOf(dir, ["a.jpg", "b.jpg"]);
    const run = async () => {
      for await (const _ of decodeSequence(seq, { times: [0, 1] })) void _;
    };
    await expect(run()).rejects.toThrow(VideoError);
    await expect(run()).rejects.toThrow(dir);
  });
});
