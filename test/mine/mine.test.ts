// `mimic mine` end to end through the CLI, on videos made with ffmpeg (a "camera" panning over a
// procedural texture): layout, CSV columns, valid correspondences, kill -9 +
// --resume, shards + merge, and a folder with broken files.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeTexture, render } from "../../src/features/textures.js";
import { writePng } from "../../src/image/io.js";
import { MIMIC_BIN, runMimic } from "../helpers.js";
import { listTree } from "../tree.js";
import { panVideo } from "../video/gen.js";

const bin = MIMIC_BIN;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-mine-"));
const videos = path.join(root, "videos");
const mimic = runMimic;
const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), "utf8");
const MANIFESTS = ["pairs.csv", "pairs.jsonl", "candidates.jsonl"];
// MIMIC's recipe on consecutive samples: its overlap band and geometry, fast on a CPU.
const FLAGS = ["--preset", "mimic", "--quiet"];

/**
 * A camera panning at `speed` px/s over a textured 1280x480 wall, seen through a 320x240 window.
 * (lavfi's testsrc2 is too flat for SIFT once cropped; the wall is the SIFT tests' procedural texture.)
 */
function pan(file: string, seconds: number, speed: number, codec: string[]): void {
  const crop = `crop=320:240:x='min(t*${speed},959)':y='100+40*sin(t)',format=yuv420p`;
  panVideo(wall, crop, seconds, file, codec);
}
const wall = path.join(root, "wall.png");

beforeAll(async () => {
  // Four 320x480 tiles of texture (detail at the scale SIFT sees after resizing to 224).
  const rgb = new Uint8Array(1280 * 480 * 3);
  for (let t = 0; t < 4; t++) {
    const gray = render(makeTexture(7 + t, 320), 320, 480);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 320; x++)
        rgb.fill(Math.round(255 * gray[y * 320 + x]), 3 * (y * 1280 + t * 320 + x), 3 * (y * 1280 + t * 320 + x) + 3);
  }
  await writePng(wall, 1280, 480, rgb, 3);
  fs.mkdirSync(path.join(videos, "sub"), { recursive: true });
  pan(path.join(videos, "a pan.mp4"), 6, 100, ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);
  pan(path.join(videos, "sub", "b.avi"), 6, 90, ["-c:v", "mpeg4", "-q:v", "3"]);
  pan(path.join(videos, "c.mov"), 5, 110, ["-c:v", "mjpeg", "-q:v", "3"]);
  fs.writeFileSync(path.join(videos, "notes.txt"), "not a video");
});

describe("mimic mine", () => {
  let full = "";

  it("mines the MIMIC layout with valid correspondences", async () => {
    full = path.join(root, "full");
    const r = await mimic("mine", videos, "--out", full, "--json", ...FLAGS);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.done).toBe(3);
    expect(s.ignoredFiles).toBe(1);
    expect(s.kept).toBeGreaterThan(0);
    const csv = read(full, "pairs.csv").trim().split("\n");
    expect(csv[0]).toBe("path1,path2,correspondence");
    expect(csv.length - 1).toBe(s.kept);
    for (const line of read(full, "pairs.jsonl").trim().split("\n")) {
      const rec = JSON.parse(line);
      expect(fs.existsSync(path.join(full, rec.path1)) && fs.existsSync(path.join(full, rec.path2))).toBe(true);
      const corr = JSON.parse(read(full, `${rec.id}/corresponding.json`));
      const entries = Object.entries(corr).map(([k, v]) => [Number(k), v as number]);
      for (const [p1, p2] of entries) expect(p1 >= 0 && p1 < 196 && p2 >= 0 && p2 < 196).toBe(true);
      expect(new Set(entries.map(([, p2]) => p2)).size).toBe(entries.length); // one-to-one
      expect(rec.overlap).toBeCloseTo(entries.length / 196, 5);
      expect(rec.overlap > 0.5 && rec.overlap < 0.75).toBe(true);
      expect(rec.t2).toBeGreaterThan(rec.t1);
    }
    for (const f of ["stats.json", "README.md", "config.json"]) expect(fs.existsSync(path.join(full, f))).toBe(true);
  });

  it("same inputs and config give byte-identical manifests", async () => {
    const again = path.join(root, "again");
    expect((await mimic("mine", videos, "--out", again, ...FLAGS)).status).toBe(0);
    for (const f of MANIFESTS) expect(read(again, f), f).toBe(read(full, f));
  });

  it("--resume after kill -9 mid-run gives the uninterrupted manifests", async () => {
    const out = path.join(root, "killed");
    const child = spawn(process.execPath, [bin, "mine", videos, "--out", out, ...FLAGS], { stdio: "ignore" });
    // Kill as soon as the first pair folder exists (mid-video), or after the first video at the latest.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        // A pair's .tmp-N folder may be renamed mid-listing: listTree skips what vanished.
        if (listTree(path.join(out, "videos")).some((d) => d.endsWith("0000.jpg"))) {
          clearInterval(t);
          child.kill("SIGKILL"); // resolved by the exit below: a user resumes after the process is gone
        }
      }, 20);
      child.on("exit", () => {
        clearInterval(t);
        resolve();
      });
    });
    const finishedBefore = fs.existsSync(path.join(out, "progress.jsonl"))
      ? read(out, "progress.jsonl").trim().split("\n").filter(Boolean).length
      : 0;
    expect(finishedBefore).toBeLessThan(3);
    const again = await mimic("mine", videos, "--out", out, "--resume", ...FLAGS);
    expect(again.status, again.stderr).toBe(0);
    for (const f of ["pairs.csv", "pairs.jsonl", "candidates.jsonl"]) expect(read(out, f), f).toBe(read(full, f));
    const tmpLeft = fs
      .readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.includes(".tmp"));
    expect(tmpLeft).toEqual([]);
  });

  it("shards merged equal the unsharded run", async () => {
    const shards = [0, 1].map((i) => path.join(root, `shard${i}`));
    for (const [i, d] of shards.entries()) expect((await mimic("mine", videos, "--out", d, "--shard", `${i}/2`, ...FLAGS)).status).toBe(0);
    const merged = path.join(root, "merged");
    const r = await mimic("merge", ...shards, "--out", merged, "--json");
    expect(r.status, r.stderr).toBe(0);
    for (const f of ["pairs.csv", "pairs.jsonl", "candidates.jsonl"]) expect(read(merged, f), f).toBe(read(full, f));
    // stats.json and the dataset card as mine writes them: config and totals equal, run fields summed
    const [ms, fs_] = [JSON.parse(read(merged, "stats.json")), JSON.parse(read(full, "stats.json"))];
    for (const k of ["config", "configHash", "source", "videos", "candidates", "kept", "rejected", "frames"])
      expect(ms[k], k).toEqual(fs_[k]);
    expect(ms.run.videos).toBe(fs_.run.videos);
    expect(ms.run.candidates).toBe(fs_.run.candidates);
    expect(ms.run.seconds).toBeGreaterThan(0);
    expect(ms.mergedFrom).toBe(2);
    expect(read(merged, "README.md")).toContain(`pairs kept | ${fs_.kept} |`);
  });

  it("a folder with broken files still yields the good videos' pairs, exit 1, failures listed", async () => {
    const mixed = path.join(root, "mixed");
    fs.mkdirSync(mixed);
    fs.copyFileSync(path.join(videos, "a pan.mp4"), path.join(mixed, "good.mp4"));
    fs.writeFileSync(path.join(mixed, "empty.mp4"), "");
    fs.writeFileSync(path.join(mixed, "text.mp4"), "this is not a video");
    const good = fs.readFileSync(path.join(videos, "a pan.mp4"));
    fs.writeFileSync(path.join(mixed, "truncated.mp4"), good.subarray(0, good.length >> 1));
    const out = path.join(root, "mixed-out");
    const r = await mimic("mine", mixed, "--out", out, "--json", ...FLAGS);
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.failures.map((f: { video: string }) => f.video).sort()).toEqual(expect.arrayContaining(["empty.mp4", "text.mp4"]));
    for (const f of s.failures) expect(f.error).toMatch(/\S/);
    const kept = read(out, "pairs.jsonl")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).video);
    expect(kept).toContain("good.mp4");
    expect(JSON.parse(read(out, "stats.json")).failed).toBe(s.failed);
  });

  it("bad arguments exit 2 with the reason", async () => {
    const r = await mimic("mine", videos, "--out", path.join(root, "x"), "--ratio", "abc");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--ratio/);
    expect((await mimic("mine", videos)).status).toBe(2); // --out missing
  });
});
