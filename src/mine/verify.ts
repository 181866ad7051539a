// One mining decision, shared by `mimic mine` and `mimic match --config`: the working-size frame,
// its features, and the verdict on a pair.
//
//   image file --loadWorkingFrame (as a frame folder's frame)--> Frame at size x size
//   Frames --describeBatch: RGB->gray, sharpness, SIFT (one submission)--> Features + sharpness
//   Features of pairs --verifyPairs: twoViewBatch (match, RANSAC, patch correspondences) + judge
//     (static filter, overlap band)--> Verdict { overlap, reason }
//
// mine verifies many pairs per call and match one; each pair's verdict depends only on its two
// frames and the config, so both give the same overlap and reason.
import type { Features, Frame } from "../contracts.js";
import type { SiftConfig } from "../features/config.js";
import { siftPresets } from "../features/config.js";
import { encodeSift, readFeatures, type SiftPlan, siftPlan } from "../features/sift.js";
import { describeToStore, type FeatureStore, type StoredFeatures } from "../features/store.js";
import { type CorrespondenceConfig, correspondencePresets } from "../geometry/correspondence.js";
import { type RansacConfig, ransacPresets } from "../geometry/ransac.js";
import { type TwoViewConfig, type TwoViewResult, twoViewBatch } from "../geometry/two_view.js";
import { createBuffer, readF32 } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, encodeCalls } from "../gpu/kernel.js";
import { rgbToGrayCall } from "../image/kernels.js";
import type { MatchInput } from "../match/matcher.js";
import { cropRect } from "../video/decode.js";
import { decodeImage } from "../video/sequence.js";
import type { MineConfig } from "./config.js";
import { cvResizeLinear, rgbToGrayU8Call } from "./opencv.js";
import { sharpnessCall } from "./sharpness.js";

type Keypoints = Omit<Features, "desc">;

/** What the filters say about one verified pair. */
export interface Verdict {
  /** Fraction of patches with a partner, or null without a homography. */
  overlap: number | null;
  /** Why it is rejected, or null: it passes every filter (in the band). */
  reason: string | null;
  tv: TwoViewResult;
}

/** The stage configs a MineConfig stands for. */
export function stageConfigs(c: MineConfig): { sift: SiftConfig; twoView: TwoViewConfig } {
  const sift: SiftConfig = {
    ...siftPresets.opencv,
    upsample: c.siftUpsample,
    contrastThreshold: c.siftContrast,
    maxFeatures: c.maxFeatures,
    capacity: c.maxFeatures ? Math.max(4096, 4 * c.maxFeatures) : 16384,
  };
  const base = c.correspondence === "mimic" ? correspondencePresets.mimic : correspondencePresets.default;
  const correspondence: CorrespondenceConfig = {
    ...base,
    width: c.size,
    height: c.size,
    patch: c.patch,
    samples: c.patchSamples,
    overlapRange: [c.overlapLower, c.overlapUpper],
  };
  const ransac = {
    ...(c.correspondence === "mimic" ? ransacPresets.mimic : ransacPresets.default),
    threshold: c.ransacThreshold,
    minMatches: c.minMatches,
    confidence: c.ransacConfidence,
    maxHypotheses: c.ransacMaxIters,
    seed: c.seed,
  };
  if (c.accurate) {
    const match = { ratio: Math.max(c.ratio, ACCURATE_RATIO), mutual: true, rootSift: true };
    return { sift, twoView: { match, ransac: accurateRansac(ransac), correspondence } };
  }
  return { sift, twoView: { match: { ratio: c.ratio, mutual: c.mutual }, ransac, correspondence } };
}

/**
 * MineConfig.accurate's ratio test: at least 0.8 (RootSIFT + the mutual check remove most of the
 * extra wrong matches a looser ratio lets in; bench/match counts more pairs within 3 px at 0.8
 * than at 0.7).
 */
export const ACCURATE_RATIO = 0.8;

/** MineConfig.accurate's RANSAC: the GPU LO-MSAC, more hypotheses, a higher confidence, the reweighted refinement. */
export function accurateRansac(r: RansacConfig): RansacConfig {
  return {
    ...ransacPresets.default,
    threshold: r.threshold,
    minMatches: r.minMatches,
    seed: r.seed,
    mode: "lo-msac",
    confidence: Math.max(r.confidence, 0.9999),
    maxHypotheses: Math.max(r.maxHypotheses, 10000),
    robustRounds: 10,
  };
}

/**
 * 'opencv-linear': a frame decoded at its native size, cropped as MIMIC crops
 * (`frame[: -int(0.2 * height)]`: int() truncates) and resized as cv2.resize does.
 */
export function workingFrame(f: Frame, cfg: MineConfig): Frame {
  const size = { width: cfg.size, height: cfg.size };
  const kept = f.height - Math.trunc(cfg.cropBottom * f.height);
  const r = cropRect(f.width, kept, undefined, size, cfg.resize);
  let rgb = f.rgb;
  if (r.x !== 0 || r.y !== 0 || r.w !== f.width || r.h !== f.height) {
    rgb = new Uint8Array(r.w * r.h * 3);
    for (let y = 0; y < r.h; y++)
      rgb.set(f.rgb.subarray(((r.y + y) * f.width + r.x) * 3, ((r.y + y) * f.width + r.x + r.w) * 3), y * r.w * 3);
  }
  return { ...f, width: size.width, height: size.height, rgb: cvResizeLinear(rgb, r.w, r.h, 3, size.width, size.height) };
}

/**
 * An image file as mining sees a frame folder's frame: 'area' crops and resizes in sharp,
 * 'opencv-linear' decodes at the native size, then workingFrame().
 */
export async function loadWorkingFrame(file: string, cfg: MineConfig, videoId = file): Promise<Frame> {
  const base = { videoId, index: 0, ptsSec: 0 };
  if (cfg.scaler === "area") {
    const img = await decodeImage(file, {
      size: { width: cfg.size, height: cfg.size },
      resize: cfg.resize,
      crop: cfg.cropBottom ? { bottom: cfg.cropBottom } : undefined,
    });
    return { ...base, ...img };
  }
  return workingFrame({ ...base, ...(await decodeImage(file)) }, cfg);
}

/** Whether the blur filter rejects a frame of this sharpness (variance of Laplacian). */
export const isBlurry = (sharpness: number, cfg: MineConfig): boolean => cfg.minSharpness > 0 && sharpness < cfg.minSharpness;

/** Verify pairs of described frames (feats[a] -> feats[b]) and apply the pair filters. */
export async function verifyPairs(
  gpu: Gpu,
  feats: MatchInput[],
  pairs: ReadonlyArray<readonly [number, number]>,
  cfg: MineConfig,
  stages: { twoView: TwoViewConfig },
  /** Adds the seconds spent in each two-view stage when given. */
  timings?: Record<string, number>,
): Promise<Verdict[]> {
  const results = await twoViewBatch(gpu, feats, pairs, stages.twoView, undefined, timings);
  return pairs.map(([a, b], j) => judge(results[j], feats[a], feats[b], cfg));
}

/** Apply the pair filters to one verified candidate. */
export function judge(tv: TwoViewResult, fa: Keypoints, fb: Keypoints, cfg: MineConfig): Verdict {
  const o: Verdict = { overlap: null, reason: null, tv };
  const h = tv.homography;
  if (h.kind !== "model") {
    o.reason = h.reason === "too-few-matches" ? "too-few-matches" : "no-homography";
    return o;
  }
  if (!tv.correspondence) {
    o.reason = "no-homography";
    return o;
  }
  o.overlap = tv.correspondence.overlap;
  const pct = 100 * o.overlap;
  if (cfg.minMotionPx > 0 && medianMotion(tv, fa, fb, h.fit.inliers) < cfg.minMotionPx) o.reason = "static";
  else if (!(pct > cfg.overlapLower)) o.reason = "overlap-below-band";
  else if (!(pct < cfg.overlapUpper)) o.reason = "overlap-above-band";
  return o;
}

/** Median displacement (px) of the inlier matches. */
function medianMotion(tv: TwoViewResult, fa: Keypoints, fb: Keypoints, inliers: Uint8Array): number {
  const d: number[] = [];
  const m = tv.matches;
  for (let i = 0; i < m.count; i++) {
    if (!inliers[i]) continue;
    const ia = m.idx[2 * i];
    const ib = m.idx[2 * i + 1];
    d.push(Math.hypot(fb.xy[2 * ib] - fa.xy[2 * ia], fb.xy[2 * ib + 1] - fa.xy[2 * ia + 1]));
  }
  if (!d.length) return 0;
  d.sort((x, y) => x - y);
  return d[d.length >> 1];
}

/** Per SIFT plan (one batch size and frame size) and gray mode: the RGB and sharpness buffers and
 *  the calls that fill the plan's input and the sharpness, built once and replayed per batch. */
const batchCalls = new WeakMap<SiftPlan, Map<string, { rgb: GPUBuffer; sharp: GPUBuffer; calls: Call[]; upload: Uint8Array }>>();

/**
 * Gray, sharpness and SIFT for a batch of frames at size x size, in one submission. With a feature
 * store the descriptors go into it and stay on the GPU (only keypoints, counts and sharpness come
 * back); without, everything is read back.
 */
export async function describeBatch(
  gpu: Gpu,
  frames: Frame[],
  size: number,
  sift: SiftConfig,
  gray: MineConfig["gray"],
): Promise<{ feats: Features[]; sharp: Float32Array }>;
export async function describeBatch(
  gpu: Gpu,
  frames: Frame[],
  size: number,
  sift: SiftConfig,
  gray: MineConfig["gray"],
  store: FeatureStore,
): Promise<{ feats: StoredFeatures[]; sharp: Float32Array }>;
export async function describeBatch(
  gpu: Gpu,
  frames: Frame[],
  size: number,
  sift: SiftConfig,
  gray: MineConfig["gray"],
  store?: FeatureStore,
): Promise<{ feats: Features[] | StoredFeatures[]; sharp: Float32Array }> {
  const n = frames.length;
  for (const f of frames)
    if (f.width !== size || f.height !== size)
      throw new Error(`frame ${f.index} of ${f.videoId} is ${f.width}x${f.height}, expected ${size}x${size}`);
  const key = `${n}x${size}`;
  const plan = siftPlan(gpu, size, size, n, sift);
  let cache = batchCalls.get(plan);
  if (!cache) batchCalls.set(plan, (cache = new Map()));
  let bufs = cache.get(gray);
  if (!bufs) {
    const rgbBuf = createBuffer(gpu, `mine rgb ${key}`, n * size * size * 3);
    const sharp = createBuffer(gpu, `mine sharpness ${key}`, n * 4);
    const toGray = (gray === "u8" ? rgbToGrayU8Call : rgbToGrayCall)(gpu, rgbBuf, plan.input, n * size * size); // (N, H, W) in [0, 1]
    bufs = {
      rgb: rgbBuf,
      sharp,
      calls: [toGray, sharpnessCall(gpu, plan.input, sharp, n, size, size)],
      upload: new Uint8Array(Math.ceil((n * size * size * 3) / 4) * 4),
    };
    cache.set(gray, bufs);
    plan.attached.add(rgbBuf).add(sharp);
  }
  const rgb = bufs.upload; // (N, H, W, 3) bytes
  for (const [i, f] of frames.entries()) rgb.set(f.rgb, i * size * size * 3);
  gpu.device.queue.writeBuffer(bufs.rgb, 0, rgb);
  const enc = gpu.device.createCommandEncoder({ label: `mine batch ${key}` });
  encodeCalls(enc, bufs.calls, `mine gray + sharpness ${key}`);
  const out = encodeSift(plan, enc, plan.input);
  if (store) {
    const d = await describeToStore(plan, enc, store, { buf: bufs.sharp, bytes: n * 4 });
    return { feats: d.feats, sharp: new Float32Array(d.extra as ArrayBuffer) };
  }
  gpu.device.queue.submit([enc.finish()]);
  const [feats, sharp] = await Promise.all([readFeatures(gpu, out), readF32(gpu, bufs.sharp, n)]);
  gpu.check(`mining batch of ${n} frames of ${frames[0].videoId}`);
  return { feats, sharp };
}
