// RANSAC homography: hypotheses on the GPU (shaders/geometry/ransac_homography.wgsl), batched over
// problems (frame pairs) and over batches of hypotheses until the confidence bound is met; the
// best hypothesis (most inliers, lowest index on ties) is refined on the host in float64 by
// least squares on its inliers, iterated as LO-RANSAC (refit, recount, while the support grows).
// The CPU twin of the kernel is src/geometry/ransac_cpu.ts; pass backend "cpu" to use it.
import type { Features, HomographyFit, Matches } from "../contracts.js";
import { createBuffer, params, STORAGE, UNIFORM, write } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, dispatch, encodeCalls, gpuCall, groups, pipeline } from "../gpu/kernel.js";
import {
  dltLeastSquares,
  inliersOf,
  invert3x3,
  mul3x3,
  normaliseH,
  normalisingTransform,
  refineReprojection,
  reprojError2,
} from "./homography.js";
import { findHomographyCv } from "./opencv_homography.js";
import { type RansacHypotheses, ransacHypothesesCpu } from "./ransac_cpu.js";

export interface RansacConfig {
  /** Reprojection error threshold in view b, px. MIMIC (cv2.findHomography RANSAC): 5. */
  threshold: number;
  /** A model needs MORE than this many matches. MIMIC: 10 (len(good) > MIN_MATCH_COUNT). */
  minMatches: number;
  /** Stop when P(an all-inlier sample was drawn) >= confidence. OpenCV's default: 0.995. */
  confidence: number;
  /** Upper bound on hypotheses per problem. OpenCV's default maxIters: 2000. */
  maxHypotheses: number;
  /** Hypotheses per dispatch (the granularity of adaptive stopping). */
  batch: number;
  /** LO-RANSAC refits of the best model on its inliers (0: keep the 4-point model). */
  loIterations: number;
  /** After LO, minimise the reprojection error on the inliers (Levenberg-Marquardt, float64), as OpenCV does. */
  geometricRefine: boolean;
  /**
   * 'lo-msac': GPU hypotheses in batches (PCG32), the best of all evaluated, then LO-RANSAC refits
   * while the truncated squared error drops, then LM, inliers recounted on the result.
   * 'opencv': cv2.findHomography(RANSAC) itself, reproduced on the host (opencv_homography.ts:
   * OpenCV's random stream and subset checks, sequential adaptive stopping, LS + LM finish, the
   * RANSAC mask kept); batch/loIterations/geometricRefine/maxAttempts/seed are unused.
   */
  mode: "lo-msac" | "opencv";
  /** Draws per hypothesis before it is declared degenerate. */
  maxAttempts: number;
  /** PCG32 seed (stream = hypothesis index). */
  seed: number;
  /**
   * After the model is found and refined: this many rounds of iteratively reweighted
   * Levenberg-Marquardt, Tukey's biweight at a scale set from the inliers' median error
   * (`robustRefine`), so matches a few px off pull the model less than the accurate ones.
   * Absent or 0: none (the presets).
   */
  robustRounds?: number;
}

export const ransacPresets = {
  /** MIMIC's cv2.findHomography(src, dst, cv2.RANSAC, 5.0) defaults, needing > 10 matches. */
  mimic: {
    threshold: 5,
    minMatches: 10,
    confidence: 0.995,
    maxHypotheses: 2000,
    batch: 256,
    loIterations: 5,
    geometricRefine: true,
    mode: "opencv",
    maxAttempts: 8,
    seed: 0x5eed,
  } satisfies RansacConfig,
  /** Higher confidence; otherwise MIMIC's thresholds. */
  default: {
    threshold: 5,
    minMatches: 10,
    confidence: 0.999,
    maxHypotheses: 4096,
    batch: 256,
    loIterations: 5,
    geometricRefine: true,
    mode: "lo-msac",
    maxAttempts: 8,
    seed: 0x5eed,
  } satisfies RansacConfig,
} as const;

/** The outcome of RANSAC on one problem: a model, or a typed reason there is none. */
export type HomographyResult =
  | {
      kind: "model";
      fit: HomographyFit;
      /** Index of the best hypothesis (its PCG32 stream) and its inlier count before refinement. */
      bestHypothesis: number;
      bestCount: number;
      /** Hypotheses evaluated. */
      hypotheses: number;
    }
  | { kind: "none"; reason: "too-few-matches" | "no-valid-hypothesis" | "refinement-failed"; matches: number; hypotheses: number };

/** One RANSAC problem: matched point coordinates (a -> b), px. */
export interface RansacProblem {
  xa: Float32Array; // (M, 2)
  xb: Float32Array; // (M, 2)
}

/** Point pairs of `matches` between two feature sets. */
export function matchedPoints(a: Pick<Features, "count" | "xy">, b: Pick<Features, "count" | "xy">, m: Matches): RansacProblem {
  const xa = new Float32Array(2 * m.count);
  const xb = new Float32Array(2 * m.count);
  for (let i = 0; i < m.count; i++) {
    const [qa, qb] = [m.idx[2 * i], m.idx[2 * i + 1]];
    if (qa >= a.count || qb >= b.count) throw new Error(`match ${i} = (${qa}, ${qb}) is outside the feature sets (${a.count}, ${b.count})`);
    xa[2 * i] = a.xy[2 * qa];
    xa[2 * i + 1] = a.xy[2 * qa + 1];
    xb[2 * i] = b.xy[2 * qb];
    xb[2 * i + 1] = b.xy[2 * qb + 1];
  }
  return { xa, xb };
}

/** Hypotheses needed for `confidence` at inlier ratio w (OpenCV's RANSACUpdateNumIters, 4-point samples). */
export function hypothesesNeeded(w: number, confidence: number, max: number): number {
  const num = Math.log(1 - confidence);
  const denom = Math.log(1 - w ** 4);
  if (!(denom < 0) || -num >= max * -denom) return max;
  return Math.round(num / denom);
}

/** Which hypothesis kernel runs: the GPU or its CPU twin. */
export type Backend = Gpu | "cpu";

interface Packed {
  pts: Float32Array; // (R, 4) normalised
  problems: Uint32Array; // (P, 4)
  Ta: number[][];
  Tb: number[][];
}

function pack(probs: RansacProblem[], cfg: RansacConfig): Packed {
  let rows = 0;
  for (const p of probs) rows += p.xa.length / 2;
  const pts = new Float32Array(Math.max(1, rows) * 4);
  const problems = new Uint32Array(4 * probs.length);
  const pf = new Float32Array(problems.buffer);
  const Ta: number[][] = [];
  const Tb: number[][] = [];
  let r = 0;
  probs.forEach((p, i) => {
    const m = p.xa.length / 2;
    const ta = normalisingTransform(p.xa, null);
    const tb = normalisingTransform(p.xb, null);
    Ta.push(ta);
    Tb.push(tb);
    for (let k = 0; k < m; k++) {
      pts[4 * (r + k)] = ta[0] * p.xa[2 * k] + ta[2];
      pts[4 * (r + k) + 1] = ta[4] * p.xa[2 * k + 1] + ta[5];
      pts[4 * (r + k) + 2] = tb[0] * p.xb[2 * k] + tb[2];
      pts[4 * (r + k) + 3] = tb[4] * p.xb[2 * k + 1] + tb[5];
    }
    problems[4 * i] = r;
    problems[4 * i + 1] = m > cfg.minMatches ? m : 0;
    pf[4 * i + 2] = (cfg.threshold * tb[0]) ** 2;
    r += m;
  });
  return { pts, problems, Ta, Tb };
}

/** Record ransac_homography.wgsl for hypotheses first .. first + count - 1 of every problem. */
export function encodeRansacHypotheses(
  gpu: Gpu,
  enc: GPUCommandEncoder,
  pts: GPUBuffer,
  problems: GPUBuffer,
  counts: GPUBuffer,
  hs: GPUBuffer,
  numProblems: number,
  first: number,
  count: number,
  seed: number,
  maxAttempts: number,
): void {
  const p = params(gpu, "ransac params", [
    ["u32", first],
    ["u32", count],
    ["u32", numProblems],
    ["u32", seed],
    ["u32", maxAttempts],
  ]);
  dispatch(gpu, enc, pipeline(gpu, "geometry/ransac_homography.wgsl"), [pts, problems, counts, hs, p], [groups(count, 64), numProblems]);
}

/** ransac_homography's buffers on one device, reused by every ransacBatch (grown, never shrunk). */
interface RansacWorkspace {
  pts: GPUBuffer;
  problems: GPUBuffer;
  counts: GPUBuffer;
  hs: GPUBuffer;
  staging: GPUBuffer; // counts then hs, mapped once per batch of hypotheses
  params: GPUBuffer;
  call: Call | null;
  /** One ransacBatch at a time holds the workspace. */
  busy: Promise<void>;
}

const ransacWorkspaces = new WeakMap<GPUDevice, RansacWorkspace>();

/**
 * Runs hypotheses batches on the GPU in the device's workspace: the points and problems written
 * once per ransacBatch, per batch of hypotheses one uniform write, one submit and one mapped
 * readback of the counts and hypotheses; no buffer created once the workspace has its size.
 */
class GpuHypotheses {
  private constructor(
    private gpu: Gpu,
    private ws: RansacWorkspace,
    private batch: number,
    private release: () => void,
  ) {}

  static async open(gpu: Gpu, packed: Packed, batch: number): Promise<GpuHypotheses> {
    let ws = ransacWorkspaces.get(gpu.device);
    if (!ws) {
      ws = {
        pts: createBuffer(gpu, "ransac pts", 16 * 1024),
        problems: createBuffer(gpu, "ransac problems", 16 * 64),
        counts: createBuffer(gpu, "ransac counts", 4 * 64 * 256),
        hs: createBuffer(gpu, "ransac hs", 36 * 64 * 256),
        staging: createBuffer(gpu, "ransac readback", 40 * 64 * 256, READBACK),
        params: createBuffer(gpu, "ransac params", 32, UNIFORM),
        call: null,
        busy: Promise.resolve(),
      };
      ransacWorkspaces.set(gpu.device, ws);
    }
    const prev = ws.busy;
    let release = () => {};
    ws.busy = new Promise<void>((r) => (release = r));
    await prev;
    const np = packed.problems.length / 4;
    const grow = (key: "pts" | "problems" | "counts" | "hs" | "staging", bytes: number) => {
      const w = ws as RansacWorkspace;
      if (w[key].size >= bytes) return;
      const { label, size } = w[key];
      w[key].destroy();
      w[key] = createBuffer(gpu, label, Math.max(bytes, 2 * size), key === "staging" ? READBACK : STORAGE);
      if (key !== "staging") w.call = null;
    };
    try {
      grow("pts", packed.pts.byteLength);
      grow("problems", packed.problems.byteLength);
      grow("counts", np * batch * 4);
      grow("hs", np * batch * 36);
      grow("staging", np * batch * 40);
    } catch (e) {
      release();
      throw e;
    }
    write(gpu, ws.pts, packed.pts);
    return new GpuHypotheses(gpu, ws, batch, release);
  }

  async run(problems: Uint32Array, first: number, cfg: RansacConfig): Promise<RansacHypotheses> {
    const { gpu, ws } = this;
    write(gpu, ws.problems, problems);
    const np = problems.length / 4;
    write(gpu, ws.params, Uint32Array.from([first, this.batch, np, cfg.seed, cfg.maxAttempts, 0, 0, 0]));
    ws.call ??= gpuCall(gpu, pipeline(gpu, "geometry/ransac_homography.wgsl"), [ws.pts, ws.problems, ws.counts, ws.hs, ws.params], [1], {
      label: "ransac",
    });
    const enc = gpu.device.createCommandEncoder({ label: "ransac" });
    encodeCalls(enc, [{ ...ws.call, wg: [groups(this.batch, 64), np, 1] }], "ransac");
    const cBytes = np * this.batch * 4;
    const hBytes = np * this.batch * 36;
    enc.copyBufferToBuffer(ws.counts, 0, ws.staging, 0, cBytes);
    enc.copyBufferToBuffer(ws.hs, 0, ws.staging, cBytes, hBytes);
    gpu.device.queue.submit([enc.finish()]);
    await ws.staging.mapAsync(GPUMapMode.READ, 0, cBytes + hBytes);
    const raw = ws.staging.getMappedRange(0, cBytes + hBytes);
    const counts = new Uint32Array(raw.slice(0, cBytes));
    const hs = new Float32Array(raw.slice(cBytes, cBytes + hBytes));
    ws.staging.unmap();
    gpu.check(`RANSAC hypotheses ${first}.. for ${np} problem(s)`);
    return { counts, hs };
  }

  destroy() {
    this.release();
  }
}

const READBACK = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;

/** MSAC score: sum over matches of min(error^2, threshold^2) (lower is better). */
export function msacScore(H: ArrayLike<number>, prob: RansacProblem, threshold: number): number {
  const t2 = threshold * threshold;
  let s = 0;
  for (let k = 0; k < prob.xa.length / 2; k++) s += Math.min(reprojError2(H, prob.xa, prob.xb, k), t2);
  return s;
}

/**
 * Refine the best hypothesis (pixel H) in float64: LO-RANSAC refits by least squares (normalised
 * DLT) on the current inliers while the MSAC score drops, then Levenberg-Marquardt on the
 * reprojection error of the inliers (kept when the score drops). The score is the truncated
 * squared error rather than the inlier count, so a more accurate model that loses one
 * borderline point still replaces the 4-point one.
 */
export function refineHomography(
  H0: ArrayLike<number>,
  prob: RansacProblem,
  cfg: RansacConfig,
): { H: Float64Array; mask: Uint8Array; count: number } {
  let H = normaliseH(H0);
  let cur = inliersOf(H, prob.xa, prob.xb, cfg.threshold);
  let score = msacScore(H, prob, cfg.threshold);
  const rowsOf = (mask: Uint8Array) => {
    const rows: number[] = [];
    mask.forEach((v, i) => {
      if (v) rows.push(i);
    });
    return rows;
  };
  for (let it = 0; it < cfg.loIterations; it++) {
    const H2 = dltLeastSquares(prob.xa, prob.xb, rowsOf(cur.mask));
    if (!H2) break;
    const s2 = msacScore(H2, prob, cfg.threshold);
    if (!(s2 < score)) break;
    const next = inliersOf(H2, prob.xa, prob.xb, cfg.threshold);
    const same = next.mask.every((v, i) => v === cur.mask[i]);
    H = H2;
    cur = next;
    score = s2;
    if (same) break;
  }
  if (cfg.geometricRefine && cur.count >= 4) {
    const H2 = refineReprojection(H, prob.xa, prob.xb, rowsOf(cur.mask));
    const s2 = msacScore(H2, prob, cfg.threshold);
    if (s2 < score) {
      H = H2;
      cur = inliersOf(H2, prob.xa, prob.xb, cfg.threshold);
    }
  }
  return { H, mask: cur.mask, count: cur.count };
}

/** Tukey's biweight constant (95% efficiency under Gaussian noise) in units of the noise sigma. */
const TUKEY_C = 4.685;
/** Median of a 2-D Gaussian residual's norm (Rayleigh), in units of sigma. */
const RAYLEIGH_MEDIAN = 1.1774;
/** The reweighting scale never drops below this, px (keypoints are not located better at 224 px). */
const MIN_SCALE_PX = 1;

/**
 * Iteratively reweighted refinement of H (pixel, a -> b), in the spirit of MAGSAC's
 * sigma-consensus: each round estimates the noise sigma from the median reprojection error of the
 * matches within `threshold` (sigma = median / 1.1774, a 2-D Gaussian's), sets the scale
 * tau = min(threshold, max(1 px, 4.685 sigma)), weights every match with error e < tau by Tukey's
 * biweight (1 - e^2/tau^2)^2 and runs weighted Levenberg-Marquardt on them from the current H.
 * Matches a few px off (inside the RANSAC threshold but far outside the noise) stop pulling the
 * model. Stops early when fewer than 8 matches are within the scale or H no longer changes
 * (relative change of every entry < 1e-9).
 */
export function robustRefine(H0: ArrayLike<number>, prob: RansacProblem, threshold: number, rounds: number): Float64Array {
  let H = normaliseH(H0);
  const m = prob.xa.length / 2;
  for (let r = 0; r < rounds; r++) {
    const err = new Float64Array(m);
    const within: number[] = [];
    for (let k = 0; k < m; k++) {
      err[k] = Math.sqrt(reprojError2(H, prob.xa, prob.xb, k));
      if (err[k] < threshold) within.push(err[k]);
    }
    if (within.length < 8) break;
    within.sort((x, y) => x - y);
    const median = within[within.length >> 1];
    const tau = Math.min(threshold, Math.max(MIN_SCALE_PX, (TUKEY_C * median) / RAYLEIGH_MEDIAN));
    const rows: number[] = [];
    const weights: number[] = [];
    for (let k = 0; k < m; k++) {
      if (!(err[k] < tau)) continue;
      rows.push(k);
      weights.push((1 - (err[k] / tau) ** 2) ** 2);
    }
    if (rows.length < 8) break;
    const next = refineReprojection(H, prob.xa, prob.xb, rows, 10, weights);
    let change = 0;
    for (let i = 0; i < 9; i++) change = Math.max(change, Math.abs(next[i] - H[i]) / (Math.abs(H[i]) + 1e-12));
    H = next;
    if (change < 1e-9) break;
  }
  return H;
}

/** The model with cfg.robustRounds of robustRefine applied, inliers recounted (unchanged without). */
function withRobustRefine(res: HomographyResult, prob: RansacProblem, cfg: RansacConfig): HomographyResult {
  if (res.kind !== "model" || !cfg.robustRounds) return res;
  const H = robustRefine(res.fit.H, prob, cfg.threshold, cfg.robustRounds);
  if (!H.every(Number.isFinite)) return res;
  const inl = inliersOf(H, prob.xa, prob.xb, cfg.threshold);
  return { ...res, fit: { H, inliers: inl.mask, numInliers: inl.count } };
}

/** Mode 'opencv': cv2.findHomography on the host. */
function opencvFit(prob: RansacProblem, cfg: RansacConfig): HomographyResult {
  const m = prob.xa.length / 2;
  if (m <= cfg.minMatches) return { kind: "none", reason: "too-few-matches", matches: m, hypotheses: 0 };
  const r = findHomographyCv(prob.xa, prob.xb, cfg.threshold, cfg.confidence, cfg.maxHypotheses);
  if (!r) return { kind: "none", reason: "no-valid-hypothesis", matches: m, hypotheses: 0 };
  if (!r.H.every(Number.isFinite)) return { kind: "none", reason: "refinement-failed", matches: m, hypotheses: r.iterations };
  return {
    kind: "model",
    fit: { H: r.H, inliers: r.mask, numInliers: r.count },
    bestHypothesis: r.best,
    bestCount: r.count,
    hypotheses: r.iterations,
  };
}

/** RANSAC homographies for many problems at once (one dispatch per batch of hypotheses for all). */
export async function ransacBatch(
  backend: Backend,
  probs: RansacProblem[],
  cfg: RansacConfig = ransacPresets.default,
): Promise<HomographyResult[]> {
  if (cfg.mode === "opencv") return probs.map((p) => withRobustRefine(opencvFit(p, cfg), p, cfg));
  const packed = pack(probs, cfg);
  const np = probs.length;
  const best = probs.map(() => ({ count: 0, index: -1, h: new Float32Array(9) }));
  const done = probs.map((p) => p.xa.length / 2 <= cfg.minMatches);
  const evaluated = new Array<number>(np).fill(0);
  const runner = backend === "cpu" ? null : np > 0 ? await GpuHypotheses.open(backend, packed, cfg.batch) : null;
  try {
    for (let first = 0; first < cfg.maxHypotheses && done.some((d) => !d); first += cfg.batch) {
      const problems = packed.problems.slice();
      for (let i = 0; i < np; i++) if (done[i]) problems[4 * i + 1] = 0;
      const count = Math.min(cfg.batch, cfg.maxHypotheses - first);
      const res = runner
        ? await runner.run(problems, first, cfg)
        : ransacHypothesesCpu(packed.pts, problems, first, cfg.batch, cfg.seed, cfg.maxAttempts);
      for (let i = 0; i < np; i++) {
        if (done[i]) continue;
        for (let k = 0; k < count; k++) {
          const c = res.counts[i * cfg.batch + k];
          if (c > best[i].count) {
            best[i].count = c;
            best[i].index = first + k;
            best[i].h = res.hs.slice((i * cfg.batch + k) * 9, (i * cfg.batch + k) * 9 + 9);
          }
        }
        evaluated[i] = first + count;
        const m = probs[i].xa.length / 2;
        if (evaluated[i] >= hypothesesNeeded(best[i].count / m, cfg.confidence, cfg.maxHypotheses)) done[i] = true;
      }
    }
  } finally {
    runner?.destroy();
  }
  return probs.map((prob, i): HomographyResult => {
    const m = prob.xa.length / 2;
    if (m <= cfg.minMatches) return { kind: "none", reason: "too-few-matches", matches: m, hypotheses: 0 };
    if (best[i].index < 0) return { kind: "none", reason: "no-valid-hypothesis", matches: m, hypotheses: evaluated[i] };
    // Back to pixels: H = Tb^-1 Hn Ta.
    const H0 = mul3x3(invert3x3(packed.Tb[i]), mul3x3(Array.from(best[i].h), packed.Ta[i]));
    if (!H0.every(Number.isFinite) || Math.abs(H0[8]) < 1e-12)
      return { kind: "none", reason: "refinement-failed", matches: m, hypotheses: evaluated[i] };
    const r = refineHomography(H0, prob, cfg);
    const res: HomographyResult = {
      kind: "model",
      fit: { H: r.H, inliers: r.mask, numInliers: r.count },
      bestHypothesis: best[i].index,
      bestCount: best[i].count,
      hypotheses: evaluated[i],
    };
    return withRobustRefine(res, prob, cfg);
  });
}

/** RANSAC homography for one set of matches between features a and b. */
export async function fitHomography(
  backend: Backend,
  a: Features,
  b: Features,
  m: Matches,
  cfg: RansacConfig = ransacPresets.default,
): Promise<HomographyResult> {
  return (await ransacBatch(backend, [matchedPoints(a, b, m)], cfg))[0];
}
