// A small synthetic demo folder in the formats `mimic report` reads (see src/report/report.ts):
// mined/ (JPEG pairs whose view 2 is view 1 shifted by whole patches, so the correspondence is exact),
// candidates.jsonl, stats.json, config.json; train/{croco,mae}/ metrics, config, recon PNGs;
// probe/<encoder>-<task>/metrics.json; eval-mining.json; env.json. Names carry HTML specials
// (<script>, quotes, &) to test escaping.
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { Pcg32 } from "../../src/prng.js";

/** A string that breaks a page if it is not escaped. */
export const NASTY = `<script>alert("pwned")</script> & 'q' "dq"`;

export interface Fixture {
  dir: string;
  pairs: Array<{ id: string; correspondence: Record<string, number>; overlap: number }>;
  candidates: Array<{ overlap: number | null; kept: boolean; reason?: string }>;
  band: [number, number];
  probe: Record<string, Record<string, Record<string, number>>>; // task -> encoder -> metrics
}

const SIZE = 224;
const PATCH = 16;
const GRID = SIZE / PATCH;

/** A 2*SIZE-wide textured scene; view k is the SIZE x SIZE window at (ox, oy). */
function scene(seed: number): Uint8Array {
  const W = 2 * SIZE;
  const rgb = new Uint8Array(W * W * 3);
  const rng = new Pcg32(seed, 1);
  const blobs = Array.from({ length: 24 }, () => ({
    x: rng.nextFloat() * W,
    y: rng.nextFloat() * W,
    r: 10 + rng.nextFloat() * 40,
    c: [rng.nextBelow(256), rng.nextBelow(256), rng.nextBelow(256)],
  }));
  for (let y = 0; y < W; y++)
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      rgb[i] = (x * 255) / W;
      rgb[i + 1] = (y * 255) / W;
      rgb[i + 2] = 128 + 60 * Math.sin(x / 9) * Math.cos(y / 13);
      for (const b of blobs)
        if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.r * b.r) {
          rgb[i] = b.c[0];
          rgb[i + 1] = b.c[1];
          rgb[i + 2] = b.c[2];
        }
    }
  return rgb;
}

function crop(sceneRgb: Uint8Array, ox: number, oy: number): Buffer {
  const W = 2 * SIZE;
  const out = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) out.set(sceneRgb.subarray(((oy + y) * W + ox) * 3, ((oy + y) * W + ox + SIZE) * 3), y * SIZE * 3);
  return out;
}

const jpeg = (rgb: Buffer, w: number, h: number) =>
  sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
const png = (rgb: Buffer, w: number, h: number) =>
  sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();

function writeJson(file: string, v: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(v, null, 2)}\n`);
}

function writeJsonl(file: string, rows: unknown[], extra = ""): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join("") + extra);
}

/** Write the fixture into `dir` (created). `pairs` mined pairs, each a shift by (dx, dy) patches. */
export async function makeFixture(dir: string, opts: { pairs?: number; seed?: number } = {}): Promise<Fixture> {
  const nPairs = opts.pairs ?? 6;
  const rng = new Pcg32(opts.seed ?? 7, 3);
  const mined = path.join(dir, "mined");
  const band: [number, number] = [0.5, 0.75];
  const config = { size: SIZE, patch: PATCH, overlapLower: 50, overlapUpper: 75, candidates: "window", window: 3, seed: 0 };
  const configHash = "abc123def456";
  const videos = ["clip-a.mp4", `${NASTY}.mp4`];
  const pairs: Fixture["pairs"] = [];
  const records: unknown[] = [];
  for (let k = 0; k < nPairs; k++) {
    // A shift (dx, dy) in whole patches with 50..75% overlap: (14-dx)(14-dy)/196.
    const shifts = [
      [3, 1],
      [2, 2],
      [4, 0],
      [1, 4],
      [3, 2],
      [2, 3],
    ];
    const [dx, dy] = shifts[k % shifts.length];
    const s = scene(100 + k);
    const ox = 40;
    const oy = 40;
    const v1 = crop(s, ox, oy);
    const v2 = crop(s, ox + dx * PATCH, oy + dy * PATCH);
    const video = videos[k % videos.length];
    const videoId = k % 2 === 0 ? "clip-a" : `v"&<b>'${k}`; // a folder name with HTML specials
    const id = `synth/${videoId}/${k}`;
    fs.mkdirSync(path.join(mined, id), { recursive: true });
    fs.writeFileSync(path.join(mined, id, "0000.jpg"), await jpeg(v1, SIZE, SIZE));
    fs.writeFileSync(path.join(mined, id, "0001.jpg"), await jpeg(v2, SIZE, SIZE));
    // View-1 patch (r, c) shows scene pixel (oy + r*16, ox + c*16) = view-2 patch (r - dy, c - dx).
    const correspondence: Record<string, number> = {};
    for (let r = dy; r < GRID; r++) for (let c = dx; c < GRID; c++) correspondence[String(r * GRID + c)] = (r - dy) * GRID + (c - dx);
    const overlap = Object.keys(correspondence).length / (GRID * GRID);
    pairs.push({ id, correspondence, overlap });
    records.push({
      id,
      source: "synth",
      video,
      t1: k,
      t2: k + 1,
      path1: `${id}/0000.jpg`,
      path2: `${id}/0001.jpg`,
      H: [1, 0, -dx * PATCH, 0, 1, -dy * PATCH, 0, 0, 1],
      inliers: 40 + k,
      overlap,
      correspondence,
      config: configHash,
      seed: 0,
    });
  }
  // One torn line at the end, as a crash would leave: the report notes and skips it.
  writeJsonl(path.join(mined, "pairs.jsonl"), records, '{"id": "torn');

  // All candidates: the kept pairs plus rejected ones (outside the band, too few matches, nasty reason).
  const candidates: Fixture["candidates"] = pairs.map((p) => ({ overlap: p.overlap, kept: true }));
  for (let i = 0; i < 60; i++) {
    const u = rng.nextFloat();
    if (i === 7) candidates.push({ overlap: u, kept: false, reason: NASTY });
    else if (i % 10 === 0) candidates.push({ overlap: null, kept: false, reason: "too-few-matches" });
    else if (u >= band[0] && u <= band[1]) candidates.push({ overlap: u, kept: false, reason: "static" });
    else candidates.push({ overlap: u, kept: false, reason: "overlap-out-of-band" });
  }
  writeJsonl(
    path.join(mined, "candidates.jsonl"),
    candidates.map((c, i) => ({ video: videos[i % 2], t1: i, t2: i + 1, ...c })),
  );
  const rejected: Record<string, number> = {};
  for (const c of candidates) if (!c.kept) rejected[c.reason!] = (rejected[c.reason!] ?? 0) + 1;
  writeJson(path.join(mined, "config.json"), { configHash, source: "synth", config });
  writeJson(path.join(mined, "stats.json"), {
    source: "synth",
    configHash,
    config,
    videos: 3,
    done: 2,
    failed: 1,
    frames: 80,
    candidates: candidates.length,
    kept: nPairs,
    rejected,
    failures: [{ video: `${NASTY}.mp4`, error: `ffprobe failed: <invalid data> & "quotes"` }],
    run: { seconds: 12.5, videos: 3, candidates: candidates.length, candidatesPerSec: candidates.length / 12.5, framesPerSec: 6.4 },
    adapter: "llvmpipe (lavapipe) <vulkan>",
  });

  // Training runs: a decaying loss, a config, reconstructions (3 panels side by side).
  for (const [name, objective, l0] of [
    ["croco", "croco", 1.2],
    ["mae", "mae", 1.0],
  ] as const) {
    const run = path.join(dir, "train", name);
    const steps = 200;
    writeJsonl(
      path.join(run, "metrics.jsonl"),
      Array.from({ length: steps / 10 + 1 }, (_, i) => ({
        step: i * 10,
        loss: l0 * Math.exp(-i / 8) + 0.05 + 0.01 * rng.nextFloat(),
        lr: 1.5e-4 * Math.min(1, (i + 1) / 5),
        imgPerSec: 20 + rng.nextFloat(),
        epoch: Math.floor(i / 10),
      })),
    );
    writeJson(path.join(run, "config.json"), { objective, model: "vit-nano", steps, batch: 8, blr: 1.5e-4, maskRatio: 0.75 });
    for (const step of [0, 100, 200]) {
      const w = 3 * 32;
      const img = Buffer.alloc(w * 32 * 3);
      for (let i = 0; i < img.length; i++) img[i] = (i * (step + 7)) % 251;
      fs.writeFileSync(path.join(run, `recon-${step}.png`), await png(img, w, 32));
    }
  }

  // Probes: metrics per encoder and task (croco best on most, mae best on some, random worst).
  const probe: Fixture["probe"] = { depth: {}, seg: {} };
  const q = { croco: 0, mae: 1, random: 3 } as const;
  for (const enc of ["croco", "mae", "random"] as const) {
    const e = q[enc] + (enc === "mae" ? 0.2 * rng.nextFloat() : 0);
    probe.depth[enc] = {
      absRel: 0.2 + 0.05 * e,
      rmse: enc === "mae" ? 0.55 : 0.6 + 0.1 * e,
      log10: 0.08 + 0.01 * e,
      delta1: 0.7 - 0.1 * e,
      delta2: 0.9 - 0.05 * e,
      delta3: 0.97 - 0.02 * e,
    };
    probe.seg[enc] = { mIoU: 0.5 - 0.1 * e, pixelAcc: 0.8 - 0.05 * e };
    writeJson(path.join(dir, "probe", `${enc}-depth`, "metrics.json"), probe.depth[enc]);
    // seg: as mimic probe writes it (ProbeResult: scores under "metrics", per-class IoU as an array, NaN -> null).
    writeJson(path.join(dir, "probe", `${enc}-seg`, "metrics.json"), {
      task: "seg",
      encoder: enc === "random" ? "random" : `train/${enc}/checkpoint.safetensors`,
      metrics: {
        mIoU: probe.seg[enc].mIoU,
        pixelAccuracy: probe.seg[enc].pixelAcc,
        iou: [0.6 - 0.1 * e, 0.5 - 0.1 * e, 0.1, null],
        classesCounted: 3,
        pixels: 1000,
        images: 4,
      },
      classNames: ["wall", "floor", NASTY, "sky"],
      seconds: 3.5,
    });
  }
  const pred = Buffer.alloc(64 * 32 * 3, 90);
  fs.writeFileSync(path.join(dir, "probe", "croco-depth", "predictions.png"), await png(pred, 64, 32));

  writeJson(path.join(dir, "eval-mining.json"), {
    default: { precision: 0.93, recall: 0.81, meanAbsOverlapError: 0.031, keepRejectAccuracy: 0.9, pairs: 120 },
    mimic: { precision: 0.78, recall: 0.85, meanAbsOverlapError: 0.054, keepRejectAccuracy: 0.82, pairs: 120 },
  });
  writeJson(path.join(dir, "env.json"), {
    adapter: "llvmpipe (LLVM 15.0.7, 256 bits) <lavapipe>",
    node: process.versions.node,
    mimicKit: "0.1.0",
    ffmpeg: `ffmpeg version 5.1 "${NASTY}"`,
    configHashes: { mine: configHash, train: "0123456789ab" },
  });
  return { dir, pairs, candidates, band, probe };
}
