// Progress inside a video: minePairs reports samples decoded and candidates verified within the
// current video after every batch, expected samples from the probed duration (a video) or the
// frame count (a frame folder), and an ETA; the CLI bar starts with its payload filled.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialPayload, progress } from "../../src/cli/common.js";
import { minePayload } from "../../src/cli/mine.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { minePresets } from "../../src/mine/config.js";
import { minePairs } from "../../src/mine/pipeline.js";
import type { MineProgress } from "../../src/mine/progress.js";
import { panVideo } from "../video/gen.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-progress-"));
const input = path.join(root, "in");

beforeAll(async () => {
  const W = 960;
  const wall = new Uint8Array(W * 480 * 3);
  for (let t = 0; t < 3; t++) {
    const gray = render(makeTexture(3 + t, 320), 320, 480);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 320; x++)
        wall.fill(Math.round(255 * gray[y * 320 + x]), 3 * (y * W + t * 320 + x), 3 * (y * W + t * 320 + x) + 3);
  }
  fs.mkdirSync(path.join(input, "seq"), { recursive: true });
  for (let k = 0; k < 7; k++) {
    const x0 = 60 * k;
    const v = Buffer.alloc(320 * 240 * 3);
    for (let y = 0; y < 240; y++) v.set(wall.subarray(3 * ((100 + y) * W + x0), 3 * ((100 + y) * W + x0 + 320)), 3 * y * 320);
    await sharp(v, { raw: { width: 320, height: 240, channels: 3 } })
      .png()
      .toFile(path.join(input, "seq", `img${k}.png`));
  }
  const wallPng = path.join(root, "wall.png");
  await sharp(Buffer.from(wall), { raw: { width: W, height: 480, channels: 3 } })
    .png()
    .toFile(wallPng);
  const crop = "crop=320:240:x='min(t*70,639)':y=100,format=yuv420p";
  panVideo(wallPng, crop, 5, path.join(input, "clip.mp4"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("mining progress", () => {
  it("reports within each video after every batch, with expected samples and an ETA", async () => {
    const reports: MineProgress[] = [];
    const s = await minePairs({
      input,
      out: path.join(root, "out"),
      config: { ...minePresets.mimic, fps: 2 },
      quiet: true,
      batch: 2,
      onProgress: (p) => reports.push(p),
    });
    expect(s.done).toBe(2);
    const first = reports[0];
    expect([first.videosDone, first.videos, first.video, first.frames]).toEqual([0, 2, null, 0]);
    expect(first.framesExpected).toBeGreaterThan(0);
    const results = fs
      .readFileSync(path.join(root, "out", "progress.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const r of results) {
      const inside = reports.filter((p) => p.video === r.video);
      // Several reports while the video runs (batches of 2 samples), counts growing to its totals.
      expect(inside.length, r.video).toBeGreaterThanOrEqual(Math.ceil(r.frames / 2));
      const last = inside[inside.length - 1];
      expect([last.videoSamples, last.videoCandidates], r.video).toEqual([r.frames, r.candidates]);
      for (let i = 1; i < inside.length; i++) expect(inside[i].videoSamples).toBeGreaterThanOrEqual(inside[i - 1].videoSamples);
      // A frame folder's samples are counted exactly; a video's come from its probed duration.
      expect(last.videoSamplesExpected, r.video).toBe(r.frames);
      expect(inside.some((p) => p.etaSec !== null && p.etaSec > 0)).toBe(true);
    }
    const seqFrames = results.find((r) => r.video === "seq").frames;
    expect(seqFrames).toBe(4); // 7 frames at 2 fps, one per second: 0, 1, 2, 3 s
    for (let i = 1; i < reports.length; i++) expect(reports[i].frames).toBeGreaterThanOrEqual(reports[i - 1].frames);
    const end = reports[reports.length - 1];
    expect([end.videosDone, end.video, end.frames, end.framesExpected, end.kept, end.etaSec]).toEqual([
      2,
      null,
      s.frames,
      s.frames,
      s.kept,
      0,
    ]);
    expect(end.candidates).toBe(s.candidates);
  });

  it("every bar starts with its payload filled: no {placeholder} in the first render", async () => {
    expect(initialPayload("{scene} {bar} {percentage}", { x: 1 })).toEqual({ scene: "-", x: 1 });
    const render = (format: string, payload?: Record<string, string | number>) => {
      const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 300 }) as unknown as NodeJS.WriteStream;
      let text = "";
      (stream as unknown as PassThrough).on("data", (d) => (text += String(d)));
      const bar = progress("x", 10, { format, payload, stream, eta: false });
      bar.stop();
      return text;
    };
    const start: MineProgress = {
      videosDone: 0,
      videos: 3,
      video: null,
      videoSamples: 0,
      videoSamplesExpected: null,
      videoCandidates: 0,
      videoKept: 0,
      frames: 0,
      framesExpected: 120,
      candidates: 0,
      kept: 0,
      candidatesPerSec: 0,
      keptPerSec: 0,
      etaSec: null,
    };
    const mining = render("frames | {videos} videos | {video} | {kept} pairs | {rate} pairs/s | ETA {left}", minePayload(start));
    expect(mining).toContain("0/3 videos");
    expect(mining).not.toMatch(/\{\w+\}/);
    expect(render("{scene}")).not.toMatch(/\{\w+\}/); // a key without a payload shows '-'
    const mid = minePayload({ ...start, video: "a/b.mp4", videoSamples: 12, videoSamplesExpected: 60, videoCandidates: 30, etaSec: 3725 });
    expect(mid.video).toBe("a/b.mp4: 12/60 samples, 30 candidates verified");
    expect(mid.left).toBe("1h02m");
  });
});
