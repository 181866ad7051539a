// probeVideo() and decodeFrames() on videos generated with ffmpeg's lavfi sources (test/video/gen.ts).
// The oracle for pixels is the ffmpeg CLI itself; the oracle for sampling is a plain re-statement of
// the rule ("the first frame with pts >= each target") applied to the pts of all frames.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Frame } from "../../src/contracts.js";
import { cropRect, decodeFrames, decodePresets, type Sampling, selectExpr, type VideoWarning } from "../../src/video/decode.js";
import { probeVideo, VideoError } from "../../src/video/probe.js";
import { ffmpegFrames, makeTestVideos, type TestVideos } from "./gen.js";

let v: TestVideos;
beforeAll(() => {
  v = makeTestVideos(fs.mkdtempSync(path.join(os.tmpdir(), "mimic-video-")));
});
afterAll(() => fs.rmSync(v.dir, { recursive: true, force: true }));

/** All frames; a healthy file must decode without warnings unless the caller listens for them. */
async function collect(file: string, opts: Parameters<typeof decodeFrames>[1] = {}): Promise<Frame[]> {
  const out: Frame[] = [];
  const s = decodeFrames(file, opts);
  for await (const f of s) out.push(f);
  if (!opts.onWarning) expect(s.warnings, file).toEqual([]);
  return out;
}

/** Indices of the frames the rule picks, stated directly: for each target, the first frame at or after it. */
function refSelect(pts: number[], s: Sampling): number[] {
  const idx = new Set<number>();
  const firstAtOrAfter = (T: number) => pts.findIndex((p) => p >= T - 1e-9);
  if (s.kind === "all") return pts.map((_, i) => i);
  if (s.kind === "every-nth") return pts.map((_, i) => i).filter((i) => i % s.n === 0);
  const targets =
    s.kind === "interval" ? Array.from({ length: Math.ceil(pts[pts.length - 1] / s.seconds) + 2 }, (_, k) => k * s.seconds) : s.seconds;
  for (const T of targets) {
    const i = firstAtOrAfter(T);
    if (i >= 0) idx.add(i);
  }
  return [...idx].sort((a, b) => a - b);
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("probeVideo (ffprobe)", () => {
  it("reads codec, size, fps, duration and frame count of each container", async () => {
    const cases: Array<[string, string, number, number, number | null]> = [
      [v.h264, "h264", 64, 48, 30],
      [v.avi, "mpeg4", 64, 48, 30],
      [v.webm, "vp9", 64, 48, null], // webm has no frame count in the container
      [v.mov, "mjpeg", 64, 48, 30],
      [v.odd, "h264", 67, 39, null],
    ];
    for (const [file, codec, w, h, count] of cases) {
      const info = await probeVideo(file);
      expect(info.codec, file).toBe(codec);
      expect([info.width, info.height, info.displayWidth, info.displayHeight], file).toEqual([w, h, w, h]);
      expect(info.fps, file).toBe(10);
      expect(info.vfr, file).toBe(false);
      expect(info.rotation, file).toBe(0);
      expect(info.durationSec, file).toBeCloseTo(file === v.odd ? 2 : 3, 2);
      expect(info.frameCount, file).toBe(count);
    }
  });

  it("detects variable frame rate (r_frame_rate != avg_frame_rate)", async () => {
    const info = await probeVideo(v.vfr);
    expect(info.vfr).toBe(true);
    // 30 frames over 6.15 s (+ the last frame's duration): average well below r_frame_rate.
    expect(info.fps!).toBeLessThan(info.rFrameRate!);
    expect(info.fps!).toBeGreaterThan(4);
    expect(info.fps!).toBeLessThan(6);
  });

  it("reports rotation metadata and the display size after rotation", async () => {
    const info = await probeVideo(v.rot90);
    expect([90, 270]).toContain(info.rotation);
    expect([info.width, info.height]).toEqual([64, 48]);
    expect([info.displayWidth, info.displayHeight]).toEqual([48, 64]);
  });
});

describe("decodeFrames: timestamps and sampling", () => {
  it("delivers every frame with its exact pts in each container (h264 mp4, mpeg4 avi, vp9 webm, mjpeg mov, odd-size mkv)", async () => {
    for (const file of [v.h264, v.avi, v.webm, v.mov, v.odd]) {
      const frames = await collect(file);
      const n = file === v.odd ? 20 : 30;
      expect(frames.length, file).toBe(n);
      frames.forEach((f, i) => {
        expect(Math.abs(f.ptsSec - i / 10), `${file} frame ${i} pts ${f.ptsSec}`).toBeLessThan(1e-9);
        expect(f.index).toBe(i);
        expect(f.rgb.length).toBe(f.width * f.height * 3);
      });
      expect([frames[0].width, frames[0].height]).toEqual(file === v.odd ? [67, 39] : [64, 48]);
      expect(frames[0].videoId).toBe(path.basename(file, path.extname(file)));
    }
  });

  it("pixels equal the ffmpeg CLI's decode of the same frames (each container)", async () => {
    for (const file of [v.h264, v.webm, v.mov, v.odd]) {
      const frames = await collect(file, { sampling: { kind: "every-nth", n: 7 } });
      const oracle = ffmpegFrames(file, "select='not(mod(n,7))'");
      const all = Buffer.concat(frames.map((f) => f.rgb));
      expect(all.length, file).toBe(oracle.length);
      expect(maxDiff(all, oracle), file).toBe(0);
    }
  });

  it("VFR: pts are the real (irregular) presentation times", async () => {
    const frames = await collect(v.vfr);
    expect(frames.map((f) => f.ptsSec).length).toBe(v.vfrPts.length);
    frames.forEach((f, i) => {
      expect(Math.abs(f.ptsSec - v.vfrPts[i]), `frame ${i}: ${f.ptsSec} vs ${v.vfrPts[i]}`).toBeLessThan(1e-9);
    });
  });

  const rules: Sampling[] = [
    { kind: "interval", seconds: 1 },
    { kind: "interval", seconds: 0.25 },
    { kind: "interval", seconds: 0.7 },
    { kind: "every-nth", n: 4 },
    { kind: "timestamps", seconds: [2.95, 0, 0.25, 1.0, 1.01, 1.02, 2.3] },
  ];
  const allPts: Record<string, number[]> = {};
  for (const file of ["h264", "vfr"] as const)
    for (const s of rules)
      it(`sampling ${JSON.stringify(s)} on ${file} picks the first frame at or after each target`, async () => {
        const all = (allPts[file] ??= (await collect(v[file])).map((f) => f.ptsSec));
        const want = refSelect(all, s).map((i) => all[i]);
        // Targets after the last frame (2.95 s on the 3 s CFR clip) are reported, nothing else.
        const onWarning = (w: VideoWarning) => expect(w.code).toBe("timestamps-not-reached");
        const got = (await collect(v[file], { sampling: s, onWarning })).map((f) => f.ptsSec);
        expect(got).toEqual(want);
        expect(got.length).toBeGreaterThan(1);
      });

  it("MIMIC preset: 1 frame per second at 224x224; the sampled frame is the one decoded at that pts", async () => {
    const frames = await collect(v.long, { ...decodePresets.mimic, sampling: { kind: "interval", seconds: 1 } });
    expect(frames.map((f) => f.ptsSec)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(frames.every((f) => f.width === 224 && f.height === 224)).toBe(true);
    const oracle = ffmpegFrames(v.long, "select='not(mod(n,25))',scale=w=224:h=224:flags=area");
    expect(maxDiff(Buffer.concat(frames.map((f) => f.rgb)), oracle)).toBe(0);
  });

  it("explicit timestamps past the end are reported as a warning", async () => {
    const warnings: string[] = [];
    const frames = await collect(v.h264, {
      sampling: { kind: "timestamps", seconds: [1.5, 9, 10] },
      onWarning: (w) => warnings.push(w.code),
    });
    expect(frames.map((f) => f.ptsSec)).toEqual([1.5]);
    expect(warnings).toEqual(["timestamps-not-reached"]);
  });

  it("a long timestamp list (select expression through a filter script file) still selects exactly", async () => {
    const ts = Array.from({ length: 3000 }, (_, i) => i * 0.001 * 19.9); // 0 .. 59.7 s; the video has 20 s
    expect(selectExpr({ kind: "timestamps", seconds: ts })!.length).toBeGreaterThan(60_000);
    const all = (await collect(v.long, { size: { width: 8, height: 8 } })).map((f) => f.ptsSec);
    const warnings: string[] = [];
    const opts = { size: { width: 8, height: 8 }, sampling: { kind: "timestamps", seconds: ts } as Sampling };
    const got = (await collect(v.long, { ...opts, onWarning: (w) => warnings.push(w.message) })).map((f) => f.ptsSec);
    expect(warnings.join("\n")).toMatch(/^\d+ requested timestamp\(s\) lie after the last decoded frame/);
    expect(got).toEqual(refSelect(all, { kind: "timestamps", seconds: ts }).map((i) => all[i]));
  });

  it("maxFrames and breaking out of the loop stop ffmpeg early", async () => {
    const t0 = Date.now();
    const s = decodeFrames(v.long, { maxFrames: 3 });
    const got = [];
    for await (const f of s) got.push(f.index);
    expect(got).toEqual([0, 1, 2]);
    const s2 = decodeFrames(v.long);
    for await (const f of s2) if (f.index === 1) break;
    expect(s2.stats.frames).toBe(2);
    expect(s2.warnings).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe("decodeFrames: geometry", () => {
  it("stretch resize equals ffmpeg's scale; center-crop keeps the middle at the target aspect", async () => {
    const st = await collect(v.h264, { sampling: { kind: "every-nth", n: 10 }, size: { width: 32, height: 32 }, resize: "stretch" });
    expect(st.map((f) => [f.width, f.height])).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
    expect(maxDiff(Buffer.concat(st.map((f) => f.rgb)), ffmpegFrames(v.h264, "select='not(mod(n,10))',scale=w=32:h=32:flags=area"))).toBe(
      0,
    );
    // 64x48 -> square: crop the middle 48x48 (x = 8), then scale.
    expect(cropRect(64, 48, undefined, { width: 32, height: 32 }, "center-crop")).toEqual({ x: 8, y: 0, w: 48, h: 48 });
    const cc = await collect(v.h264, { sampling: { kind: "every-nth", n: 10 }, size: { width: 32, height: 32 }, resize: "center-crop" });
    const oracle = ffmpegFrames(v.h264, "select='not(mod(n,10))',crop=w=48:h=48:x=8:y=0:exact=1,scale=w=32:h=32:flags=area");
    expect(maxDiff(Buffer.concat(cc.map((f) => f.rgb)), oracle)).toBe(0);
  });

  it("crop bottom 0.2 (MIMIC's Mannequin recipe) drops the bottom rows", async () => {
    const full = await collect(v.h264, { sampling: { kind: "every-nth", n: 10 } });
    const cropped = await collect(v.h264, { sampling: { kind: "every-nth", n: 10 }, crop: { bottom: 0.2 } });
    expect([cropped[0].width, cropped[0].height]).toEqual([64, 48 - Math.round(48 * 0.2)]);
    // Same pixels as the top rows of the full frame (chroma of the last row may differ by rounding).
    const rows = cropped[0].height - 1;
    for (let i = 0; i < full.length; i++)
      expect(maxDiff(cropped[i].rgb.subarray(0, rows * 64 * 3), full[i].rgb.subarray(0, rows * 64 * 3))).toBeLessThanOrEqual(2);
    const mann = await collect(v.h264, { ...decodePresets.mimicMannequin, sampling: { kind: "every-nth", n: 10 } });
    expect(
      maxDiff(
        Buffer.concat(mann.map((f) => f.rgb)),
        ffmpegFrames(v.h264, "select='not(mod(n,10))',crop=w=64:h=38:x=0:y=0:exact=1,scale=w=224:h=224:flags=area"),
      ),
    ).toBe(0);
  });

  for (const tag of [90, 180, 270] as const)
    it(`rotation metadata (rotate=${tag} tag): frames come out rotated like ffmpeg's autorotate, width/height post-rotation`, async () => {
      const file = v[`rot${tag}`];
      const info = await probeVideo(file);
      expect(info.rotation).toBeGreaterThan(0);
      const swap = info.rotation !== 180;
      expect([info.displayWidth, info.displayHeight]).toEqual(swap ? [48, 64] : [64, 48]);
      const frames = await collect(file, { sampling: { kind: "every-nth", n: 10 } });
      expect([frames[0].width, frames[0].height]).toEqual([info.displayWidth, info.displayHeight]);
      expect(maxDiff(Buffer.concat(frames.map((f) => f.rgb)), ffmpegFrames(file, "select='not(mod(n,10))'"))).toBe(0);
      // And it is the unrotated frame turned `rotation` degrees clockwise.
      const raw = ffmpegFrames(file, "select='not(mod(n,10))'", { noautorotate: true });
      const W = 64;
      const H = 48;
      for (let k = 0; k < frames.length; k++) {
        const src = raw.subarray(k * W * H * 3, (k + 1) * W * H * 3);
        const f = frames[k];
        let bad = 0;
        for (let y = 0; y < f.height; y++)
          for (let x = 0; x < f.width; x++) {
            // clockwise 90: out(x, y) = in(y, H-1-x); 180: in(W-1-x, H-1-y); 270: in(W-1-y, x)
            const [sx, sy] = info.rotation === 90 ? [y, H - 1 - x] : info.rotation === 180 ? [W - 1 - x, H - 1 - y] : [W - 1 - y, x];
            for (let c = 0; c < 3; c++) if (f.rgb[(y * f.width + x) * 3 + c] !== src[(sy * W + sx) * 3 + c]) bad++;
          }
        expect(bad, `frame ${k}`).toBe(0);
      }
    });
});

describe("decodeFrames: bad input (each a clear error naming the file, or a warning)", () => {
  async function expectVideoError(file: string, code: string, pattern: RegExp) {
    for (const run of [() => probeVideo(file), () => collect(file)]) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, file).toBeInstanceOf(VideoError);
      const e = err as VideoError;
      expect(e.code).toBe(code);
      expect(e.file).toBe(file);
      expect(e.message).toContain(file);
      expect(e.message).toMatch(pattern);
      expect(e.fix.length).toBeGreaterThan(10);
      expect(e.message).toContain("Fix:");
    }
  }

  it("missing file", () => expectVideoError(v.missing, "missing", /no such file/));
  it("zero-byte file", () => expectVideoError(v.empty, "empty", /empty \(0 bytes\)/));
  it("a text file named .mp4", () => expectVideoError(v.text, "not-video", /not a video/));
  it("an audio-only file", () => expectVideoError(v.audio, "no-video-stream", /no video stream \(streams: audio\)/));
  it("a directory named .mp4", () => expectVideoError(v.dirMp4, "directory", /is a directory/));

  it("a truncated video: frames up to the cut, then a warning (no throw)", async () => {
    const warnings: string[] = [];
    const frames = await collect(v.truncated, { onWarning: (w) => warnings.push(`${w.code}: ${w.message}`) });
    expect(frames.length).toBeGreaterThan(5);
    expect(frames.length).toBeLessThan(40);
    // Real pts on the 0.1 s grid, increasing (a corrupt packet near the cut may drop a frame).
    frames.forEach((f, i) => {
      expect(Math.abs(f.ptsSec * 10 - Math.round(f.ptsSec * 10))).toBeLessThan(1e-9);
      if (i) expect(f.ptsSec).toBeGreaterThan(frames[i - 1].ptsSec);
    });
    expect(frames[frames.length - 1].ptsSec).toBeLessThan(4);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join("\n")).toMatch(/truncated/);
  });

  it("a 1x1 video", async () => {
    const info = await probeVideo(v.tiny);
    expect([info.width, info.height]).toEqual([1, 1]);
    const frames = await collect(v.tiny);
    expect(frames.length).toBe(5);
    expect(frames.every((f) => f.width === 1 && f.height === 1 && f.rgb.length === 3)).toBe(true);
    const up = await collect(v.tiny, { size: { width: 4, height: 4 }, maxFrames: 1 });
    expect(up[0].rgb.length).toBe(48);
  });

  it("a 4K video: resized inside ffmpeg, our buffer stays about one small frame", async () => {
    const info = await probeVideo(v.uhd);
    expect([info.width, info.height]).toEqual([3840, 2160]);
    const s = decodeFrames(v.uhd, decodePresets.mimic);
    const frames: Frame[] = [];
    for await (const f of s) frames.push(f);
    expect(frames.map((f) => [f.width, f.height, f.ptsSec])).toEqual([[224, 224, 0]]);
    expect(s.stats.peakBufferedBytes).toBeLessThan(224 * 224 * 3 + (256 << 10));
    // Full resolution also works, one 25 MB frame at a time.
    const f2 = decodeFrames(v.uhd, { maxFrames: 1 });
    for await (const f of f2) expect(f.rgb.length).toBe(3840 * 2160 * 3);
    expect(f2.stats.peakBufferedBytes).toBeLessThan(3840 * 2160 * 3 + (256 << 10));
  });

  it("a file name with spaces, quotes and non-ASCII characters", async () => {
    const info = await probeVideo(v.weird);
    expect(info.codec).toBe("h264");
    const frames = await collect(v.weird, { sampling: { kind: "interval", seconds: 1 } });
    expect(frames.map((f) => f.ptsSec)).toEqual([0, 1, 2]);
    expect(frames[0].videoId).toBe(`it's a "video" – é中 ü`);
  });

  it("backpressure: a slow consumer keeps our buffer at one frame (ffmpeg waits)", async () => {
    const s = decodeFrames(v.long, { sampling: { kind: "every-nth", n: 5 } });
    let n = 0;
    for await (const _ of s) {
      if (n++ < 10) await new Promise((r) => setTimeout(r, 20));
    }
    expect(n).toBe(100);
    expect(s.stats.peakBufferedBytes).toBeLessThanOrEqual(160 * 120 * 3 + (128 << 10));
  });

  it("bad options are rejected with a RangeError before ffmpeg runs", async () => {
    await expect(collect(v.h264, { crop: { bottom: 1.2 } })).rejects.toThrow(/crop.bottom/);
    await expect(collect(v.h264, { sampling: { kind: "interval", seconds: 0 } })).rejects.toThrow(/seconds must be > 0/);
    await expect(collect(v.h264, { size: { width: 0, height: 3 } })).rejects.toThrow(/size/);
  });
});
