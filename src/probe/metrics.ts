// Dense-prediction metrics for the probes: monocular depth (AbsRel, SqRel, RMSE, RMSE-log, log10,
// SILog, delta < 1.25^k) and semantic segmentation (mIoU, pixel accuracy, per-class IoU/accuracy).
//
// Both come as accumulators so a whole validation set is scored at once (running sums / a confusion
// matrix), not as a mean of per-image scores, plus one-image convenience functions.
//
// Depth conventions (Eigen et al. 2014; the BTS / AdaBins NYU evaluation code):
//   valid pixel  = gt > 0 and minDepth <= gt <= maxDepth (NYU: 1e-3 .. 10 m), inside the crop if any
//                  (Eigen crop: rows 45:471, cols 41:601 of a 480x640 frame, scaled to other sizes).
//   prediction   = clamped into [minDepth, maxDepth] when clampPrediction (as BTS/AdaBins do), after
//                  optional per-image median scaling s = median(gt) / median(pred) over valid pixels.
//   average      = "pixels": every valid pixel of the set weighs the same (RMSE = sqrt of the pooled
//                  mean square); "images": metrics per image, then the mean over images (BTS style).
//
// Segmentation conventions (mmsegmentation's IoU metric, which ADE20K numbers are reported with):
//   gt labels may be stored with 0 = ignore and 1..K = classes (ADE20K, the synthetic probe set);
//   reduceZeroLabel maps 0 -> ignoreIndex and l -> l - 1, so classes are 0..K-1 and predictions are
//   class indices 0..K-1. Pixels whose (reduced) gt is ignoreIndex are left out entirely, also for
//   the prediction. Per class c over the whole set: intersect = #(pred = c and gt = c), union =
//   #(pred = c) + #(gt = c) - intersect. IoU_c = intersect / union, NaN when union = 0 (class absent
//   from both gt and prediction); mIoU = mean of the non-NaN IoUs, i.e. over the classes present in
//   gt or prediction. A class predicted but never in gt counts with IoU 0. Pixel accuracy (mmseg
//   aAcc) = sum intersect / #valid pixels; class accuracy = intersect / #(gt = c), NaN when absent.
//   NaN values become null in JSON.

/** A crop in pixel rows/cols, half-open: rows [top, bottom), cols [left, right). */
export interface CropBox {
  top: number;
  bottom: number;
  left: number;
  right: number;
  /** If set, the box is given for a refHeight x refWidth frame and is scaled to the actual size. */
  refHeight?: number;
  refWidth?: number;
}

/** Eigen et al.'s NYU evaluation crop (rows 45:471, cols 41:601 of 480x640). */
export const EIGEN_CROP: Readonly<CropBox> = Object.freeze({ top: 45, bottom: 471, left: 41, right: 601, refHeight: 480, refWidth: 640 });

/** The crop box in pixels of a height x width frame (scales a box with a reference size). */
export function resolveCrop(crop: CropBox, height: number, width: number): { top: number; bottom: number; left: number; right: number } {
  const sy = crop.refHeight ? height / crop.refHeight : 1;
  const sx = crop.refWidth ? width / crop.refWidth : 1;
  const box = {
    top: Math.round(crop.top * sy),
    bottom: Math.round(crop.bottom * sy),
    left: Math.round(crop.left * sx),
    right: Math.round(crop.right * sx),
  };
  if (!(box.top >= 0 && box.left >= 0 && box.bottom <= height && box.right <= width && box.top < box.bottom && box.left < box.right))
    throw new Error(
      `crop rows ${box.top}:${box.bottom} cols ${box.left}:${box.right} does not fit a ${height}x${width} frame; ` +
        "give a box inside the frame (or a refHeight/refWidth to scale it)",
    );
  return box;
}

// ---------------------------------------------------------------------------------------------
// Depth

export interface DepthEvalConfig {
  /** Smallest valid gt depth in metres (also the lower prediction clamp). */
  minDepth: number;
  /** Largest valid gt depth in metres (also the upper prediction clamp). */
  maxDepth: number;
  /** Clamp predictions into [minDepth, maxDepth] before scoring (BTS/AdaBins). If false, a
   * prediction <= 0 at a valid pixel is an error. */
  clampPrediction: boolean;
  /** Scale each image's prediction by median(gt) / median(pred) over its valid pixels (for
   * relative-depth predictors; monodepth2 style). */
  medianScaling: boolean;
  /** Only score pixels inside this box (null: the whole frame). */
  crop: CropBox | null;
  /** "pixels": pool all valid pixels of the set; "images": mean of per-image metrics. */
  average: "pixels" | "images";
}

export const depthEvalPresets = {
  /** NYU Depth v2 as reported by Eigen/BTS/AdaBins: 1e-3..10 m, Eigen crop, clamped prediction. */
  nyu: { minDepth: 1e-3, maxDepth: 10, clampPrediction: true, medianScaling: false, crop: EIGEN_CROP, average: "pixels" },
  /** The synthetic probe set (mimic synth): metric depth, no border to crop. */
  synth: { minDepth: 1e-3, maxDepth: 20, clampPrediction: true, medianScaling: false, crop: null, average: "pixels" },
  /** Scale-ambiguous predictors: median-scaled per image, otherwise like nyu. */
  nyuMedian: { minDepth: 1e-3, maxDepth: 10, clampPrediction: true, medianScaling: true, crop: EIGEN_CROP, average: "pixels" },
} as const satisfies Record<string, DepthEvalConfig>;

export interface DepthMetrics {
  /** mean |p - g| / g */
  absRel: number;
  /** mean (p - g)^2 / g */
  sqRel: number;
  /** sqrt(mean (p - g)^2), metres */
  rmse: number;
  /** sqrt(mean (ln p - ln g)^2) */
  rmseLog: number;
  /** mean |log10 p - log10 g| */
  log10: number;
  /** 100 * sqrt(mean e^2 - (mean e)^2), e = ln p - ln g (the KITTI benchmark's SILog) */
  siLog: number;
  /** fraction of pixels with max(p/g, g/p) < 1.25, 1.25^2, 1.25^3 */
  delta1: number;
  delta2: number;
  delta3: number;
  /** valid pixels scored */
  pixels: number;
  /** images added (including ones without a valid pixel) */
  images: number;
}

const DEPTH_KEYS = ["absRel", "sqRel", "rmse", "rmseLog", "log10", "siLog", "delta1", "delta2", "delta3"] as const;

/** Running sums over valid pixels (float64). */
interface DepthSums {
  n: number;
  absRel: number;
  sqRel: number;
  sq: number;
  sqLog: number;
  log10: number;
  logDiff: number;
  d1: number;
  d2: number;
  d3: number;
}

const SUM_KEYS = ["n", "absRel", "sqRel", "sq", "sqLog", "log10", "logDiff", "d1", "d2", "d3"] as const;

const zeroSums = (): DepthSums => ({ n: 0, absRel: 0, sqRel: 0, sq: 0, sqLog: 0, log10: 0, logDiff: 0, d1: 0, d2: 0, d3: 0 });

function sumsToMetrics(s: DepthSums): Omit<DepthMetrics, "pixels" | "images"> {
  const n = s.n;
  if (n === 0) return { absRel: NaN, sqRel: NaN, rmse: NaN, rmseLog: NaN, log10: NaN, siLog: NaN, delta1: NaN, delta2: NaN, delta3: NaN };
  const meanLog = s.logDiff / n;
  return {
    absRel: s.absRel / n,
    sqRel: s.sqRel / n,
    rmse: Math.sqrt(s.sq / n),
    rmseLog: Math.sqrt(s.sqLog / n),
    log10: s.log10 / n,
    siLog: 100 * Math.sqrt(Math.max(0, s.sqLog / n - meanLog * meanLog)),
    delta1: s.d1 / n,
    delta2: s.d2 / n,
    delta3: s.d3 / n,
  };
}

function median(values: number[]): number {
  const v = values.slice().sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/**
 * Accumulates depth metrics over a set of images. add() one (prediction, gt) pair at a time, at gt
 * resolution, both in metres; result() gives the metrics of everything added.
 */
export class DepthAccumulator {
  readonly config: DepthEvalConfig;
  private pooled = zeroSums();
  private perImage: Omit<DepthMetrics, "pixels" | "images">[] = [];
  private images = 0;
  /** per image added: its id and running sums (for the bootstrap over images) */
  private imageIds: string[] = [];
  private imageSums: DepthSums[] = [];

  constructor(config: Partial<DepthEvalConfig> = {}) {
    this.config = { ...depthEvalPresets.nyu, ...config };
    const c = this.config;
    if (!(c.minDepth > 0 && c.maxDepth > c.minDepth))
      throw new Error(`depth eval: need 0 < minDepth < maxDepth, got ${c.minDepth}..${c.maxDepth} (metres)`);
  }

  /** Add one image: pred and gt are (H, W) row-major depth in metres; gt <= 0 marks no data. */
  add(pred: ArrayLike<number>, gt: ArrayLike<number>, height: number, width: number, what = "image", id = what): this {
    const c = this.config;
    if (gt.length !== height * width || pred.length !== height * width)
      throw new Error(
        `depth eval (${what}): pred has ${pred.length} and gt ${gt.length} values for ${height}x${width}; ` +
          "resize the prediction to the gt resolution first",
      );
    const box = c.crop ? resolveCrop(c.crop, height, width) : { top: 0, bottom: height, left: 0, right: width };
    const idx: number[] = [];
    for (let y = box.top; y < box.bottom; y++)
      for (let x = box.left; x < box.right; x++) {
        const i = y * width + x;
        const g = gt[i];
        if (g > 0 && g >= c.minDepth && g <= c.maxDepth) idx.push(i);
      }
    this.images++;
    let scale = 1;
    if (c.medianScaling && idx.length > 0) {
      const mp = median(idx.map((i) => pred[i]));
      if (!(mp > 0)) throw new Error(`depth eval (${what}): median prediction is ${mp}, cannot median-scale; predict positive depth`);
      scale = median(idx.map((i) => gt[i])) / mp;
    }
    const s = zeroSums();
    const t1 = 1.25;
    const t2 = 1.25 ** 2;
    const t3 = 1.25 ** 3;
    for (const i of idx) {
      const g = gt[i];
      let p = pred[i] * scale;
      if (c.clampPrediction) p = Math.min(Math.max(p, c.minDepth), c.maxDepth);
      else if (!(p > 0))
        throw new Error(
          `depth eval (${what}): prediction ${p} at pixel ${i} is not positive; predict positive depth or set clampPrediction`,
        );
      const d = p - g;
      const e = Math.log(p) - Math.log(g);
      s.n++;
      s.absRel += Math.abs(d) / g;
      s.sqRel += (d * d) / g;
      s.sq += d * d;
      s.sqLog += e * e;
      s.log10 += Math.abs(Math.log10(p) - Math.log10(g));
      s.logDiff += e;
      const r = Math.max(p / g, g / p);
      if (r < t1) s.d1++;
      if (r < t2) s.d2++;
      if (r < t3) s.d3++;
    }
    for (const k of Object.keys(s) as (keyof DepthSums)[]) this.pooled[k] += s[k];
    if (s.n > 0) this.perImage.push(sumsToMetrics(s));
    this.imageIds.push(id);
    this.imageSums.push(s);
    return this;
  }

  /** Per-image sufficient statistics of everything added (for intervals and paired comparisons). */
  imageStats(): DepthImageStats {
    return {
      kind: "depth",
      average: this.config.average,
      ids: this.imageIds.slice(),
      sums: this.imageSums.map((s) => SUM_KEYS.map((k) => s[k])),
    };
  }

  result(): DepthMetrics {
    const base = { pixels: this.pooled.n, images: this.images };
    if (this.config.average === "pixels") return { ...sumsToMetrics(this.pooled), ...base };
    const out = { ...sumsToMetrics(zeroSums()), ...base } as DepthMetrics;
    if (this.perImage.length === 0) return out;
    for (const k of DEPTH_KEYS) out[k] = this.perImage.reduce((a, m) => a + m[k], 0) / this.perImage.length;
    return out;
  }
}

/** Depth metrics of one image (see DepthAccumulator). */
export function depthMetrics(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  height: number,
  width: number,
  config: Partial<DepthEvalConfig> = {},
): DepthMetrics {
  return new DepthAccumulator(config).add(pred, gt, height, width).result();
}

// ---------------------------------------------------------------------------------------------
// Segmentation

export interface SegEvalConfig {
  /** Number of classes K; predictions are 0..K-1. */
  numClasses: number;
  /** gt value (after reduceZeroLabel) that marks a pixel to leave out. mmseg uses 255. */
  ignoreIndex: number;
  /** gt stored as 0 = ignore, 1..K = classes (ADE20K): map 0 -> ignoreIndex, l -> l - 1. */
  reduceZeroLabel: boolean;
}

export const segEvalPresets = {
  /** ADEChallengeData2016: 150 classes, 0 = other/ignore in the PNGs (mmseg reduce_zero_label). */
  ade20k: { numClasses: 150, ignoreIndex: 255, reduceZeroLabel: true },
} as const satisfies Record<string, SegEvalConfig>;

/** mmseg's reduce_zero_label on a gt label map: 0 -> ignoreIndex, l -> l - 1. Returns a new array. */
export function reduceZeroLabel(labels: ArrayLike<number>, ignoreIndex = 255): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === 0 ? ignoreIndex : labels[i] - 1;
  return out;
}

export interface SegMetrics {
  /** mean IoU over classes with union > 0 (present in gt or prediction) */
  mIoU: number;
  /** correctly labelled / valid (non-ignored) pixels (mmseg aAcc) */
  pixelAccuracy: number;
  /** mean class accuracy over classes present in gt (mmseg mAcc) */
  meanAccuracy: number;
  /** per class: IoU, NaN where union = 0 */
  iou: number[];
  /** per class: intersect / #gt pixels of the class, NaN where the class is absent from gt */
  accuracy: number[];
  /** per class: #gt pixels */
  gtPixels: number[];
  /** number of classes that entered mIoU */
  classesCounted: number;
  /** valid (non-ignored) pixels */
  pixels: number;
  images: number;
}

/**
 * A K x K confusion matrix over a set of images (rows = gt class, cols = predicted class), from
 * which mIoU, accuracies and per-class IoU are computed at the end.
 */
export class SegAccumulator {
  readonly config: SegEvalConfig;
  /** (K, K) counts, row = gt, col = pred */
  readonly confusion: Float64Array;
  private images = 0;
  private imageIds: string[] = [];
  /** per image: its confusion matrix as [cell, count, cell, count, ...] (cell = gt * K + pred) */
  private imageCells: number[][] = [];

  constructor(config: Partial<SegEvalConfig> & { numClasses: number }) {
    this.config = { ignoreIndex: 255, reduceZeroLabel: false, ...config };
    const k = this.config.numClasses;
    if (!(Number.isInteger(k) && k > 0)) throw new Error(`seg eval: numClasses must be a positive integer, got ${k}`);
    this.confusion = new Float64Array(k * k);
  }

  /** Add one image: pred = class indices 0..K-1, gt = labels as stored (see reduceZeroLabel). */
  add(pred: ArrayLike<number>, gt: ArrayLike<number>, what = "image", id = what): this {
    const { numClasses: k, ignoreIndex, reduceZeroLabel: rz } = this.config;
    const cells = new Map<number, number>();
    if (pred.length !== gt.length)
      throw new Error(`seg eval (${what}): pred has ${pred.length} pixels, gt ${gt.length}; resize the prediction to the gt resolution`);
    for (let i = 0; i < gt.length; i++) {
      let g = gt[i];
      if (rz) g = g === 0 ? ignoreIndex : g - 1;
      if (g === ignoreIndex) continue;
      if (!(g >= 0 && g < k && Number.isInteger(g)))
        throw new Error(
          `seg eval (${what}): gt label ${rz ? g + 1 : g} at pixel ${i} is out of range for ${k} classes` +
            (rz ? ` (labels 1..${k}, 0 = ignore)` : ` (0..${k - 1}, ${ignoreIndex} = ignore)`) +
            "; check numClasses and reduceZeroLabel",
        );
      const p = pred[i];
      if (!(p >= 0 && p < k && Number.isInteger(p)))
        throw new Error(`seg eval (${what}): predicted class ${p} at pixel ${i} is not in 0..${k - 1}`);
      this.confusion[g * k + p]++;
      cells.set(g * k + p, (cells.get(g * k + p) ?? 0) + 1);
    }
    this.images++;
    this.imageIds.push(id);
    this.imageCells.push([...cells].sort((a, b) => a[0] - b[0]).flat());
    return this;
  }

  /** Per-image sufficient statistics of everything added (for intervals and paired comparisons). */
  imageStats(): SegImageStats {
    return { kind: "seg", numClasses: this.config.numClasses, ids: this.imageIds.slice(), cells: this.imageCells.map((c) => c.slice()) };
  }

  result(): SegMetrics {
    return segFromConfusion(this.confusion, this.config.numClasses, this.images);
  }
}

/** Segmentation metrics from a (K, K) confusion matrix (rows gt, cols pred) of `images` images. */
export function segFromConfusion(c: ArrayLike<number>, k: number, images: number): SegMetrics {
  const iou: number[] = [];
  const accuracy: number[] = [];
  const gtPixels: number[] = [];
  let inter = 0;
  let total = 0;
  for (let a = 0; a < k; a++) {
    let rowSum = 0;
    let colSum = 0;
    for (let b = 0; b < k; b++) {
      rowSum += c[a * k + b];
      colSum += c[b * k + a];
    }
    const tp = c[a * k + a];
    const union = rowSum + colSum - tp;
    iou.push(union > 0 ? tp / union : NaN);
    accuracy.push(rowSum > 0 ? tp / rowSum : NaN);
    gtPixels.push(rowSum);
    inter += tp;
    total += rowSum;
  }
  const nanMean = (v: number[]) => {
    const f = v.filter((x) => !Number.isNaN(x));
    return f.length ? f.reduce((s, x) => s + x, 0) / f.length : NaN;
  };
  return {
    mIoU: nanMean(iou),
    pixelAccuracy: total > 0 ? inter / total : NaN,
    meanAccuracy: nanMean(accuracy),
    iou,
    accuracy,
    gtPixels,
    classesCounted: iou.filter((x) => !Number.isNaN(x)).length,
    pixels: total,
    images,
  };
}

/** Segmentation metrics of one image (see SegAccumulator). */
export function segMetrics(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  config: Partial<SegEvalConfig> & { numClasses: number },
): SegMetrics {
  return new SegAccumulator(config).add(pred, gt).result();
}

/** Index of the largest logit per pixel: logits (P, C) channel-last -> (P) class indices. */
export function argmaxClasses(logits: ArrayLike<number>, pixels: number, classes: number): Uint8Array | Uint16Array {
  if (logits.length !== pixels * classes) throw new Error(`argmax: ${logits.length} logits for ${pixels} pixels x ${classes} classes`);
  const out = classes <= 256 ? new Uint8Array(pixels) : new Uint16Array(pixels);
  for (let p = 0; p < pixels; p++) {
    let best = 0;
    let bv = logits[p * classes];
    for (let c = 1; c < classes; c++) {
      const v = logits[p * classes + c];
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    out[p] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-image statistics: what an interval or a paired comparison needs to rescore any multiset of
// the val images (metrics.json carries them, so two probe runs can be compared after the fact).

/** Depth: per image, the running sums [n, absRel, sqRel, sq, sqLog, log10, logDiff, d1, d2, d3]. */
export interface DepthImageStats {
  kind: "depth";
  average: "pixels" | "images";
  ids: string[];
  sums: number[][];
}

/** Segmentation: per image, its confusion matrix as [cell, count, ...] pairs (cell = gt * K + pred). */
export interface SegImageStats {
  kind: "seg";
  numClasses: number;
  ids: string[];
  cells: number[][];
}

export type ImageStats = DepthImageStats | SegImageStats;

/** The scalar metrics an interval is given for, per task. */
export const INTERVAL_METRICS = {
  depth: ["absRel", "sqRel", "rmse", "rmseLog", "log10", "siLog", "delta1", "delta2", "delta3"],
  seg: ["mIoU", "pixelAccuracy", "meanAccuracy"],
} as const;

/**
 * The scalar metrics over the images idx (a multiset of indices into stats.ids), pooled the same
 * way the accumulator pools them: stats.sums / cells of the chosen images are added up.
 */
export function scalarMetricsOf(stats: ImageStats, idx: ArrayLike<number>): Record<string, number> {
  if (stats.kind === "depth") {
    if (stats.average === "pixels") {
      const s = zeroSums();
      for (let j = 0; j < idx.length; j++) {
        const v = stats.sums[idx[j]];
        SUM_KEYS.forEach((k, i) => {
          s[k] += v[i];
        });
      }
      return pick(sumsToMetrics(s), INTERVAL_METRICS.depth);
    }
    const out = Object.fromEntries(INTERVAL_METRICS.depth.map((k) => [k, 0])) as Record<string, number>;
    let m = 0;
    for (let j = 0; j < idx.length; j++) {
      const v = stats.sums[idx[j]];
      if (v[0] === 0) continue;
      const s = Object.fromEntries(SUM_KEYS.map((k, i) => [k, v[i]])) as unknown as DepthSums;
      const r = sumsToMetrics(s);
      for (const k of INTERVAL_METRICS.depth) out[k] += r[k];
      m++;
    }
    for (const k of INTERVAL_METRICS.depth) out[k] = m ? out[k] / m : NaN;
    return out;
  }
  const K = stats.numClasses;
  const conf = new Float64Array(K * K);
  for (let j = 0; j < idx.length; j++) {
    const c = stats.cells[idx[j]];
    for (let i = 0; i < c.length; i += 2) conf[c[i]] += c[i + 1];
  }
  return pick(segFromConfusion(conf, K, idx.length) as unknown as Record<string, number>, INTERVAL_METRICS.seg);
}

function pick(m: Record<string, number> | Omit<DepthMetrics, "pixels" | "images">, keys: readonly string[]): Record<string, number> {
  const r = m as Record<string, number>;
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}
