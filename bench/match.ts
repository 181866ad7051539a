// The two-view chain (brute-force match + ratio test, RANSAC homography, patch correspondences)
// at MIMIC's size (224 x 224, 16 px patches) vs MIMIC's own recipe in OpenCV on the CPU
// (bench/peers/match.py: BFMatcher knnMatch + ratio 0.7, findHomography RANSAC 5.0, a vectorised
// numpy patch overlap), on the same features, in the same run. Features are synthetic (points
// of a plane under a known homography, 30% outlier correspondences, unmatched distractors), with
// SIFT-like counts per 224 x 224 image, passed to the peer through a temporary file.
//
// Homography accuracy: image pairs with KNOWN homographies (a procedural texture rendered at
// 224 x 224 as view a, and through a seeded H as view b, so H is exact), in four families, in
// turn: strong zoom (0.45-0.65x or 1.6-2.2x) with any in-plane rotation; any rotation + scale
// 0.7-1.4x + 30 px random moves of the four image corners; 45 px corner moves (a viewpoint change);
// 60 px corner moves + scale 0.6-1.5x. Counted: pairs whose H has a mean corner error (the four
// corners of view a mapped by the estimate vs by the true H) under 3 px, for the mine presets
// through SIFT on the GPU, and for MIMIC's recipe in OpenCV on the same PNGs (bench/peers/homography.py).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Features, Frame } from "../src/contracts.js";
import { makeTexture, render } from "../src/features/textures.js";
import { patchCorrespondences } from "../src/geometry/correspondence.js";
import { cornerErrors, dltLeastSquares, invert3x3, mul3x3 } from "../src/geometry/homography.js";
import { matchedPoints, ransacBatch } from "../src/geometry/ransac.js";
import { syntheticPair } from "../src/geometry/synthetic.js";
import { twoView, twoViewBatch, twoViewPresets } from "../src/geometry/two_view.js";
import { describeAdapter, type Gpu, getGpu } from "../src/gpu/device.js";
import { writePng } from "../src/image/io.js";
import { matchPairs } from "../src/match/matcher.js";
import { type MineConfig, minePresets } from "../src/mine/config.js";
import { describeBatch, stageConfigs } from "../src/mine/verify.js";
import { Pcg32 } from "../src/prng.js";
import { type BenchOptions, type BenchResult, row, runPython, timeMs } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const numPairs = opts.quick ? 4 : 32;
  const repeats = opts.quick ? 2 : 3;
  const points = 350;
  const distractors = 150;
  const pairs = Array.from({ length: numPairs }, (_, i) => syntheticPair(1000 + i, { points, distractors, outlierFraction: 0.3 }));
  const feats: Features[] = pairs.flatMap((p) => [p.a, p.b]);
  const list = pairs.map((_, i) => [2 * i, 2 * i + 1] as const);
  const cfg = twoViewPresets.mimic;

  // ours: whole chain batched over all pairs, then per stage, then one pair at a time
  const total = await timeMs(() => twoViewBatch(gpu, feats, list, cfg), repeats);
  const matches = await matchPairs(gpu, feats, list, cfg.match);
  const tMatch = await timeMs(() => matchPairs(gpu, feats, list, cfg.match), repeats);
  const probs = list.map(([a, b], i) => matchedPoints(feats[a], feats[b], matches[i]));
  const fits = await ransacBatch(gpu, probs, cfg.ransac);
  const tRansac = await timeMs(() => ransacBatch(gpu, probs, cfg.ransac), repeats);
  const Hs = fits.flatMap((f) => (f.kind === "model" ? [f.fit.H] : []));
  const tCorr = await timeMs(() => patchCorrespondences(gpu, Hs, cfg.correspondence), repeats);
  const single = await timeMs(async () => {
    for (const [a, b] of list.slice(0, Math.min(8, numPairs))) await twoView(gpu, feats[a], feats[b], cfg);
  }, 1);
  const singlePairs = Math.min(8, numPairs);

  // peer: same features through a temporary file
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-bench-match-"));
  const bin = path.join(dir, "features.bin");
  const meta = path.join(dir, "meta.json");
  const parts: Float32Array[] = [];
  for (const p of pairs) parts.push(p.a.desc, p.a.xy, p.b.desc, p.b.xy);
  fs.writeFileSync(bin, Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  fs.writeFileSync(meta, JSON.stringify({ pairs: pairs.map((p) => [p.a.count, p.b.count]) }));
  let peer: { seconds: Record<string, number>; cv2: string; threads: number; results: Array<{ overlap: number } | null> };
  try {
    peer = JSON.parse(runPython(path.join(here, "..", "..", "bench", "peers", "match.py"), [bin, meta, String(repeats)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // agreement of the accepted overlaps (both sides run MIMIC's recipe)
  const ours = await twoViewBatch(gpu, feats, list, cfg);
  let agree = 0;
  let both = 0;
  ours.forEach((r, i) => {
    const pr = peer.results[i];
    if (!r.correspondence || !pr) return;
    both++;
    if (Math.abs(r.correspondence.overlap - pr.overlap) <= 3 / 196) agree++;
  });

  // homography accuracy on pairs with known homographies: ours (mine presets, with and without
  // --accurate) vs MIMIC's recipe in OpenCV
  const known = opts.quick ? 8 : 64;
  const m = minePresets.mimic;
  const d = minePresets.default;
  const acc = await homographyAccuracy(gpu, known, {
    "--preset mimic": m,
    "--preset mimic --accurate": { ...m, accurate: true },
    "--preset default": d,
    "--preset default --accurate": { ...d, accurate: true },
  });
  const within = (e: number[], px = 3) => e.filter((x) => x < px).length;
  const median = (e: number[]) => {
    const v = [...e].sort((x, y) => x - y);
    return v[v.length >> 1];
  };
  /** "a vs b": pairs under px only in a, only in b, and the sign test on those. */
  const versus = (a: number[], b: number[], px: number) => {
    const wins = a.filter((x, i) => x < px && !(b[i] < px)).length;
    const losses = a.filter((x, i) => !(x < px) && b[i] < px).length;
    return `${wins}/${losses} (p = ${signTestP(wins, losses).toPrecision(2)})`;
  };
  const accRows = Object.entries(acc.ours).map(([name, e]) =>
    row(`pairs within 3 px mean corner error (of ${known}), ${name}`, "pairs", within(e), within(acc.opencv)),
  );
  const accNotes = Object.entries(acc.ours).map(([name, e]) => {
    const wins = e.filter((x, i) => x < 3 && !(acc.opencv[i] < 3)).length;
    const losses = e.filter((x, i) => !(x < 3) && acc.opencv[i] < 3).length;
    const fams = [...new Set(acc.families)].map((f) => {
      const idx = acc.families.flatMap((g, i) => (g === f ? [i] : []));
      return `${idx.filter((i) => e[i] < 3).length}/${idx.filter((i) => acc.opencv[i] < 3).length} of ${idx.length}`;
    });
    const px = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)} px` : "none");
    return (
      `${name}: ${within(e)} vs OpenCV ${within(acc.opencv)} within 3 px; ${wins} pairs only ours, ${losses} only OpenCV's (sign test p = ${signTestP(wins, losses).toPrecision(2)}); ` +
      `per family ours/OpenCV: ${fams.join(", ")}; within 1 px ${within(e, 1)} vs ${within(acc.opencv, 1)}; median mean corner error ${px(median(e))} vs ${px(median(acc.opencv))}`
    );
  });
  for (const preset of ["mimic", "default"]) {
    const [off, on] = [acc.ours[`--preset ${preset}`], acc.ours[`--preset ${preset} --accurate`]];
    accNotes.push(
      `--accurate vs without, --preset ${preset}: pairs only with / only without it: ${versus(on, off, 3)} at 3 px, ${versus(on, off, 1)} at 1 px`,
    );
  }
  const pps = (ms: number) => numPairs / (ms / 1e3);
  const s = peer.seconds;
  const ppsPeer = (sec: number) => numPairs / sec;
  return {
    name: "match",
    peer: `OpenCV ${peer.cv2} (CPU, ${peer.threads} threads) + numpy`,
    adapter: describeAdapter(gpu.adapter),
    rows: [
      row(`match + RANSAC + correspondences, ${numPairs} pairs batched`, "pairs/s", pps(total), ppsPeer(s.total)),
      row(`  match (BF, ratio 0.7), ${points + distractors} features/image`, "pairs/s", pps(tMatch), ppsPeer(s.match)),
      row("  RANSAC homography (5 px) + refinement", "pairs/s", pps(tRansac), ppsPeer(s.ransac)),
      row("  patch correspondences 14x14 (both ways)", "pairs/s", Hs.length / (tCorr / 1e3), ppsPeer(s.overlap)),
      row("whole chain, one pair per call", "pairs/s", singlePairs / (single / 1e3), ppsPeer(s.total)),
      ...accRows,
    ],
    notes: [
      `Synthetic features at 224x224: ${points} correspondences (30% outliers) + ${distractors} distractors per image; MIMIC preset on both sides. ` +
        `Median of ${repeats} runs; ours includes uploads and readbacks. Overlaps agree within 3 patches on ${agree}/${both} pairs ` +
        "(the peer's RANSAC draws its own samples and refines with LM; its patch majority breaks ties by lowest index).",
      `Known homographies: ${known} pairs of a procedural texture at 224x224 (${[...new Set(acc.families)].join("; ")}); ` +
        `ours: frames through describeBatch + the two-view chain of each mine config; peer: OpenCV ${acc.cv2} SIFT (defaults) + knnMatch ratio 0.7 + findHomography(RANSAC, 5.0) on the same PNGs` +
        (acc.magsac
          ? `; OpenCV's USAC_MAGSAC on the same matches: ${within(acc.magsac)} within 3 px, ${within(acc.magsac, 1)} within 1 px.`
          : "."),
      ...accNotes,
    ],
  };
}

// ---- homography accuracy on pairs with known homographies ----------------------------------------

interface KnownPair {
  family: string;
  a: Uint8Array; // (S, S) gray
  b: Uint8Array;
  H: Float64Array; // a -> b
}

const to8 = (img: Float32Array) => Uint8Array.from(img, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

/** H = about-the-centre similarity (scale s, rotation t) followed by moving the corners by up to `move` px. */
function randomH(r: Pcg32, S: number, s: number, t: number, move: number): Float64Array {
  const c = S / 2;
  const sim = mul3x3(
    [1, 0, c, 0, 1, c, 0, 0, 1],
    mul3x3([s * Math.cos(t), -s * Math.sin(t), 0, s * Math.sin(t), s * Math.cos(t), 0, 0, 0, 1], [1, 0, -c, 0, 1, -c, 0, 0, 1]),
  );
  const src = [0, 0, S, 0, S, S, 0, S];
  const dst: number[] = [];
  for (let k = 0; k < 4; k++) {
    const [x, y] = [src[2 * k], src[2 * k + 1]];
    const w = sim[6] * x + sim[7] * y + sim[8];
    dst.push((sim[0] * x + sim[1] * y + sim[2]) / w + (2 * r.nextFloat() - 1) * move);
    dst.push((sim[3] * x + sim[4] * y + sim[5]) / w + (2 * r.nextFloat() - 1) * move);
  }
  const H = dltLeastSquares(src, dst, [0, 1, 2, 3]);
  if (!H) throw new Error("randomH: degenerate corner moves");
  return H;
}

export function knownHomographyPairs(n: number, S = 224, seed = 2026): KnownPair[] {
  const r = new Pcg32(seed, 7);
  const u = (lo: number, hi: number) => lo + (hi - lo) * r.nextFloat();
  const out: KnownPair[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    let H: Float64Array;
    let family: string;
    if (kind === 0) {
      const zoomIn = r.nextFloat() < 0.5;
      H = randomH(r, S, zoomIn ? u(1.6, 2.2) : u(0.45, 0.65), u(-Math.PI, Math.PI), 0);
      family = "zoom + rotation";
    } else if (kind === 1) {
      H = randomH(r, S, u(0.7, 1.4), u(-Math.PI, Math.PI), 30);
      family = "rotation + scale + 30 px corners";
    } else if (kind === 2) {
      H = randomH(r, S, 1, 0, 45);
      family = "viewpoint: 45 px corners";
    } else {
      H = randomH(r, S, u(0.6, 1.5), u(-0.3, 0.3), 60);
      family = "viewpoint: 60 px corners + scale";
    }
    // The texture spans [0, 2S]; view a shows its middle [S/2, 3S/2], view b the same plane through H.
    const tex = makeTexture(700 + i, 2 * S);
    const toTex = [1, 0, S / 2, 0, 1, S / 2, 0, 0, 1];
    const Hinv = invert3x3(H);
    out.push({ family, a: to8(render(tex, S, S, toTex)), b: to8(render(tex, S, S, mul3x3(toTex, Hinv))), H });
  }
  return out;
}

/** Mean corner error (px) of an estimate vs the true H over S x S, Infinity without one. */
export function meanCornerError(H: ArrayLike<number> | null, truth: Float64Array, S: number): number {
  if (!H || !Array.from(H).every(Number.isFinite)) return Number.POSITIVE_INFINITY;
  const e = cornerErrors(H, truth, S, S);
  const m = (e[0] + e[1] + e[2] + e[3]) / 4;
  return Number.isFinite(m) ? m : Number.POSITIVE_INFINITY;
}

/** Our chain on the pairs: frames -> describeBatch (as mine) -> the two-view chain of cfg; mean corner error per pair. */
export async function ourErrors(gpu: Gpu, pairs: KnownPair[], cfg: MineConfig, S: number): Promise<number[]> {
  const stages = stageConfigs(cfg);
  const frame = (g: Uint8Array, i: number): Frame => {
    const rgb = new Uint8Array(3 * g.length);
    for (let k = 0; k < g.length; k++) rgb.fill(g[k], 3 * k, 3 * k + 3);
    return { videoId: "known-homography", index: i, ptsSec: i, width: S, height: S, rgb };
  };
  const feats: Features[] = [];
  for (const [i, p] of pairs.entries()) {
    const d = await describeBatch(gpu, [frame(p.a, 2 * i), frame(p.b, 2 * i + 1)], S, stages.sift, cfg.gray);
    feats.push(...d.feats);
  }
  const res = await twoViewBatch(
    gpu,
    feats,
    pairs.map((_, i) => [2 * i, 2 * i + 1] as const),
    stages.twoView,
  );
  return res.map((r, i) => meanCornerError(r.homography.kind === "model" ? r.homography.fit.H : null, pairs[i].H, S));
}

/** Two-sided sign test p-value for `wins` vs `losses` discordant pairs (exact binomial, p = 1/2). */
function signTestP(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  let tail = 0;
  let c = 1; // C(n, 0)
  for (let i = 0; i <= k; i++) {
    tail += c;
    c = (c * (n - i)) / (i + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}

export interface AccuracyResult {
  families: string[];
  /** Mean corner error per pair, px (Infinity: no homography). */
  ours: Record<string, number[]>;
  opencv: number[];
  magsac: number[] | null;
  cv2: string;
}

/** Mean corner errors of each named mine config and of OpenCV (MIMIC's recipe, and USAC_MAGSAC) on n known pairs. */
export async function homographyAccuracy(gpu: Gpu, n: number, variants: Record<string, MineConfig>): Promise<AccuracyResult> {
  const S = 224;
  const pairs = knownHomographyPairs(n, S);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-bench-homography-"));
  let peer: { opencv: string; ransac: Array<number[] | null>; magsac: Array<number[] | null> | null };
  try {
    for (const [i, p] of pairs.entries()) {
      await writePng(path.join(dir, `a${i}.png`), S, S, p.a, 1);
      await writePng(path.join(dir, `b${i}.png`), S, S, p.b, 1);
    }
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ pairs: pairs.map((_, i) => [`a${i}.png`, `b${i}.png`]) }));
    peer = JSON.parse(runPython(path.join(here, "..", "..", "bench", "peers", "homography.py"), [dir]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ours: Record<string, number[]> = {};
  for (const [name, cfg] of Object.entries(variants)) ours[name] = await ourErrors(gpu, pairs, cfg, S);
  return {
    families: pairs.map((p) => p.family),
    ours,
    opencv: peer.ransac.map((H, i) => meanCornerError(H, pairs[i].H, S)),
    magsac: peer.magsac ? peer.magsac.map((H, i) => meanCornerError(H, pairs[i].H, S)) : null,
    cv2: peer.opencv,
  };
}
