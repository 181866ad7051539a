// `mimic mine` on frame-sequence sources through the CLI: a TUM-style folder (timestamp names,
// PNG), a plain-numbered folder (JPEG, --fps, one corrupt frame) and a video side by side;
// byte-identical reruns, shards, and the missing --fps error.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTexture, render } from "../../src/features/textures.js";
import { writePng } from "../../src/image/io.js";
import { runMimic } from "../helpers.js";
import { panVideo } from "../video/gen.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-mineseq-"));
const input = path.join(root, "mixed");
const mimic = runMimic;
const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), "utf8");
const lines = (d: string, f: string) =>
  read(d, f)
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const FLAGS = ["--preset", "mimic", "--quiet", "--fps", "3"];

// A camera panning over a textured 1280x480 wall (as in mine.test.ts), seen through 320x240.
const W = 1280;
const wall = new Uint8Array(W * 480 * 3);
function view(t: number, speed: number): Buffer {
  const x0 = Math.min(Math.round(t * speed), 959);
  const y0 = Math.round(100 + 40 * Math.sin(t));
  const out = Buffer.alloc(320 * 240 * 3);
  for (let y = 0; y < 240; y++) out.set(wall.subarray(3 * ((y0 + y) * W + x0), 3 * ((y0 + y) * W + x0 + 320)), 3 * y * 320);
  return out;
}
const raw = { raw: { width: 320, height: 240, channels: 3 as const } };
const corrupt = path.join(input, "plain", "frame_4.jpg");

beforeAll(async () => {
  for (let t = 0; t < 4; t++) {
    const gray = render(makeTexture(7 + t, 320), 320, 480);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 320; x++)
        wall.fill(Math.round(255 * gray[y * 320 + x]), 3 * (y * W + t * 320 + x), 3 * (y * W + t * 320 + x) + 3);
  }
  fs.mkdirSync(path.join(input, "tum", "rgb"), { recursive: true });
  fs.mkdirSync(path.join(input, "plain"), { recursive: true });
  // TUM style: 8 frames 0.5 s apart, names are the timestamps.
  for (let k = 0; k < 8; k++)
    await sharp(view(0.5 * k, 95), raw)
      .png()
      .toFile(path.join(input, "tum", "rgb", `${(1305031102.175304 + 0.5 * k).toFixed(6)}.png`));
  // Plain numbers (natural order: frame_10 after frame_9) at 3 fps; frame_4 (t = 1 s, sampled) is cut short.
  for (let k = 1; k <= 12; k++)
    await sharp(view((k - 1) / 3, 105), raw)
      .jpeg({ quality: 92 })
      .toFile(path.join(input, "plain", `frame_${k}.jpg`));
  const bytes = fs.readFileSync(corrupt);
  fs.writeFileSync(corrupt, bytes.subarray(0, bytes.length >> 2));
  // And a video beside them.
  const wallPng = path.join(root, "wall.png");
  await writePng(wallPng, W, 480, wall, 3);
  const crop = "crop=320:240:x='min(t*100,959)':y='100+40*sin(t)',format=yuv420p";
  panVideo(wallPng, crop, 4, path.join(input, "pan.mp4"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("mimic mine on frame folders", () => {
  const full = path.join(root, "full");

  it("mines videos and frame sequences in one run; a corrupt frame is skipped, counted and named", async () => {
    const r = await mimic("mine", input, "--out", full, "--json", ...FLAGS);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.done).toBe(3);
    expect(s.failed).toBe(0);
    const progress = lines(full, "progress.jsonl");
    expect(progress.map((p) => p.video)).toEqual(["pan.mp4", "plain", "tum/rgb"]);
    const plain = progress[1];
    expect(plain.frames).toBe(3); // samples at 0, 2, 3 s; the one at 1 s is the corrupt frame
    expect(plain.rejected["warning-corrupt-frame"]).toBe(1);
    expect(plain.warnings).toHaveLength(1);
    expect(plain.warnings[0]).toContain(corrupt);
    expect(progress[2].frames).toBe(4);
    const pairs = lines(full, "pairs.jsonl");
    const videos = new Set(pairs.map((p) => p.video));
    expect(videos.has("tum/rgb") && videos.has("plain") && videos.has("pan.mp4"), JSON.stringify([...videos])).toBe(true);
    for (const p of pairs) {
      expect(fs.existsSync(path.join(full, p.path1)) && fs.existsSync(path.join(full, p.path2))).toBe(true);
      const meta = await sharp(path.join(full, p.path1)).metadata();
      expect([meta.width, meta.height]).toEqual([224, 224]);
    }
    // TUM times are the names' timestamps (the keys of its ground truth); plain ones are i / fps.
    const cands = lines(full, "candidates.jsonl");
    const tum = cands.filter((c) => c.video === "tum/rgb").map((c) => [c.t1, c.t2]);
    expect(tum).toEqual([
      [1305031102.175304, 1305031103.175304],
      [1305031103.175304, 1305031104.175304],
      [1305031104.175304, 1305031105.175304],
    ]);
    expect(cands.filter((c) => c.video === "plain").map((c) => [c.t1, c.t2])).toEqual([
      [0, 2],
      [2, 3],
    ]);
    expect(read(full, "pairs.csv").trim().split("\n").length - 1).toBe(pairs.length);
  });

  it("reruns are byte-identical; shards merged equal the unsharded run", async () => {
    const again = path.join(root, "again");
    expect((await mimic("mine", input, "--out", again, ...FLAGS)).status).toBe(0);
    for (const f of ["pairs.csv", "pairs.jsonl", "candidates.jsonl"]) expect(read(again, f), f).toBe(read(full, f));
    const shards = [0, 1].map((i) => path.join(root, `shard${i}`));
    for (const [i, d] of shards.entries()) expect((await mimic("mine", input, "--out", d, "--shard", `${i}/2`, ...FLAGS)).status).toBe(0);
    const merged = path.join(root, "merged");
    const m = await mimic("merge", ...shards, "--out", merged, "--json");
    expect(m.status, m.stderr).toBe(0);
    for (const f of ["pairs.csv", "pairs.jsonl"]) expect(read(merged, f), f).toBe(read(full, f));
  });

  it("--resume redoes an unfinished frame folder and gives the uninterrupted manifests", async () => {
    const out = path.join(root, "resumed");
    fs.cpSync(full, out, { recursive: true });
    // As if killed after tum/rgb's manifest lines but before its progress line: it is unfinished.
    const prog = read(out, "progress.jsonl").trim().split("\n");
    expect(JSON.parse(prog[prog.length - 1]).video).toBe("tum/rgb");
    fs.writeFileSync(path.join(out, "progress.jsonl"), `${prog.slice(0, -1).join("\n")}\n`);
    const r = await mimic("mine", input, "--out", out, "--resume", "--json", ...FLAGS);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).run.videos).toBe(1); // only tum/rgb was mined again
    for (const f of ["pairs.csv", "pairs.jsonl", "candidates.jsonl"]) expect(read(out, f), f).toBe(read(full, f));
  });

  it("a list file may name videos and frame folders", async () => {
    const list = path.join(root, "list.txt");
    fs.writeFileSync(list, "mixed/tum/rgb\nmixed/pan.mp4\n");
    const out = path.join(root, "listed");
    const r = await mimic("mine", list, "--out", out, "--json", ...FLAGS);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(out, "progress.jsonl").map((p) => p.video)).toEqual(["mixed/pan.mp4", "mixed/tum/rgb"]);
  });

  it("a frame folder without timestamp names needs --fps: exit 2 naming the folder, nothing written", async () => {
    const out = path.join(root, "nofps");
    const r = await mimic("mine", input, "--out", out, "--preset", "mimic");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path.join(input, "plain"));
    expect(r.stderr).toMatch(/--fps/);
    expect(fs.existsSync(out)).toBe(false);
    // Timestamp names need no --fps.
    const tumOnly = await mimic(
      "mine",
      path.join(input, "tum", "rgb"),
      "--out",
      path.join(root, "tum-only"),
      "--preset",
      "mimic",
      "--quiet",
    );
    expect(tumOnly.status, tumOnly.stderr).toBe(0);
    expect((await mimic("mine", input, "--out", out, "--fps", "-1")).status).toBe(2);
  });
});
