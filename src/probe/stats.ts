// Uncertainty for probe numbers: a seeded percentile bootstrap over val images, a paired bootstrap
// of the difference between two encoders scored on the same val images, and the t-interval of a
// mean over seeds (the benchmark's interval across pretraining + head seeds).
//
// Bootstrap (Efron & Tibshirani 1993, ch. 13): draw B resamples of the n val images with
// replacement (PCG32, seed given, stream BOOTSTRAP_STREAM), recompute the metric on each (over the
// pooled pixels of the resampled images, the way the metric itself pools), and take the 2.5th and
// 97.5th percentiles (linear interpolation between order statistics, numpy's default) as the 95%
// interval. Resampling whole images (not pixels) keeps the pixels of one image together: they are
// strongly correlated, so a pixel bootstrap would be far too narrow.
//
// Paired: both encoders' metrics on the same resample of images, the interval of (b - a); the
// difference is significant at 95% when that interval excludes 0.
import { Pcg32 } from "../prng.js";
import { type ImageStats, scalarMetricsOf } from "./metrics.js";

/** PCG32 stream of the bootstrap resamples (so the head seed's other streams are not reused). */
export const BOOTSTRAP_STREAM = 0xb0075;

/** Resamples the CLI uses unless told otherwise. */
export const DEFAULT_RESAMPLES = 1000;

export interface Interval {
  lo: number;
  hi: number;
}

/** How an interval was made (written next to every interval in JSON). */
export interface BootstrapInfo {
  method: "percentile bootstrap over val images";
  level: number;
  resamples: number;
  seed: number;
  /** number of val images resampled */
  images: number;
}

/** "95% CI, bootstrap over N val images, B resamples, seed S" */
export function describeBootstrap(b: BootstrapInfo): string {
  return `${Math.round(b.level * 100)}% CI, percentile bootstrap over ${b.images} val images, ${b.resamples} resamples, seed ${b.seed}`;
}

/** Quantile q in [0, 1] of ascending `sorted` (linear interpolation, numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Central `level` interval of the values (NaN values left out; NaN bounds when none are left). */
export function percentileInterval(values: ArrayLike<number>, level = 0.95): Interval {
  const v = Float64Array.from(values).filter((x) => !Number.isNaN(x));
  v.sort();
  const a = (1 - level) / 2;
  return { lo: quantileSorted(v, a), hi: quantileSorted(v, 1 - a) };
}

/** B resamples of 0..n-1 with replacement, each an Int32Array of n indices (deterministic in seed). */
export function* resamples(n: number, B: number, seed: number): Generator<Int32Array> {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`bootstrap: need at least one val image, got ${n}`);
  if (!(Number.isInteger(B) && B > 0)) throw new Error(`bootstrap: resamples must be a positive integer, got ${B}`);
  const rng = new Pcg32(seed >>> 0, BOOTSTRAP_STREAM);
  const idx = new Int32Array(n);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) idx[i] = rng.nextBelow(n);
    yield idx;
  }
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

/**
 * Percentile-bootstrap intervals of every named statistic `stat` returns. `stat(idx)` computes the
 * statistics over the images idx (a multiset of 0..n-1). The point estimates are stat(all images).
 */
export function bootstrapIntervals<K extends string>(
  n: number,
  stat: (idx: ArrayLike<number>) => Record<K, number>,
  opts: BootstrapOptions = {},
): { estimate: Record<K, number>; ci: Record<K, Interval>; info: BootstrapInfo } {
  const B = opts.resamples ?? DEFAULT_RESAMPLES;
  const seed = opts.seed ?? 0;
  const level = opts.level ?? 0.95;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const estimate = stat(all);
  const keys = Object.keys(estimate) as K[];
  const draws = new Map(keys.map((k) => [k, new Float64Array(B)]));
  let b = 0;
  for (const idx of resamples(n, B, seed)) {
    const s = stat(idx);
    for (const k of keys) draws.get(k)![b] = s[k];
    b++;
  }
  const ci = Object.fromEntries(keys.map((k) => [k, percentileInterval(draws.get(k)!, level)])) as Record<K, Interval>;
  return { estimate, ci, info: { method: "percentile bootstrap over val images", level, resamples: B, seed, images: n } };
}

/** The paired difference b - a of one statistic, with its interval. */
export interface PairedDifference {
  a: number;
  b: number;
  /** b - a on all images */
  diff: number;
  ci: Interval;
  /** the interval excludes 0 */
  significant: boolean;
}

/**
 * Paired percentile bootstrap of b - a for every statistic: statA and statB score two encoders on
 * the same n val images (image i of one is image i of the other); both are recomputed on the same
 * resample each time.
 */
export function pairedBootstrap<K extends string>(
  n: number,
  statA: (idx: ArrayLike<number>) => Record<K, number>,
  statB: (idx: ArrayLike<number>) => Record<K, number>,
  opts: BootstrapOptions = {},
): { diff: Record<K, PairedDifference>; info: BootstrapInfo } {
  const r = bootstrapIntervals(
    n,
    (idx) => {
      const a = statA(idx);
      const b = statB(idx);
      return Object.fromEntries(Object.keys(a).map((k) => [k, b[k as K] - a[k as K]])) as Record<K, number>;
    },
    opts,
  );
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const a = statA(all);
  const b = statB(all);
  const diff = Object.fromEntries(
    (Object.keys(r.estimate) as K[]).map((k) => {
      const ci = r.ci[k];
      return [k, { a: a[k], b: b[k], diff: r.estimate[k], ci, significant: ci.lo > 0 || ci.hi < 0 }];
    }),
  ) as Record<K, PairedDifference>;
  return { diff, info: r.info };
}

// ---------------------------------------------------------------------------------------------
// Probe metrics

/** Every scalar probe metric with its interval (over the val images in stats). */
export function metricIntervals(stats: ImageStats, opts: BootstrapOptions = {}): { ci: Record<string, Interval>; info: BootstrapInfo } {
  const r = bootstrapIntervals(stats.ids.length, (idx) => scalarMetricsOf(stats, idx), opts);
  return { ci: r.ci, info: r.info };
}

/**
 * Paired comparison of two probe runs on the same val images (matched by image id; both must
 * hold the same ids and the same task): b - a per metric, with its interval and significance.
 */
export function compareProbeRuns(a: ImageStats, b: ImageStats, opts: BootstrapOptions = {}): ReturnType<typeof pairedBootstrap<string>> {
  if (a.kind !== b.kind) throw new Error(`cannot compare a ${a.kind} probe with a ${b.kind} probe`);
  if (a.kind === "seg" && b.kind === "seg" && a.numClasses !== b.numClasses)
    throw new Error(`cannot compare seg probes with ${a.numClasses} and ${b.numClasses} classes`);
  const at = new Map(a.ids.map((id, i) => [id, i]));
  if (at.size !== a.ids.length) throw new Error("paired comparison: an image id appears twice in the first run");
  const order = b.ids.map((id) => at.get(id));
  if (a.ids.length !== b.ids.length || order.some((i) => i === undefined))
    throw new Error(
      `paired comparison needs the same val images in both runs (${a.ids.length} vs ${b.ids.length} images, ` +
        `${order.filter((i) => i === undefined).length} of the second not in the first); probe both on the same dataset`,
    );
  // image j of the pair = image order[j] of a and image j of b
  const ai = order as number[];
  return pairedBootstrap(
    b.ids.length,
    (idx) =>
      scalarMetricsOf(
        a,
        Array.from(idx, (j) => ai[j]),
      ),
    (idx) => scalarMetricsOf(b, idx),
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// Across seeds

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom (then the normal's 1.96). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean and 95% t-interval (mean +- t_{0.975, n-1} s / sqrt(n)) of per-seed values; null values left out. */
export function seedInterval(values: ReadonlyArray<number | null>): {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  n: number;
  sd: number | null;
} {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: null, lo: null, hi: null, n, sd: null };
  const mean = v.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, lo: null, hi: null, n, sd: null };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
  const half = (t * sd) / Math.sqrt(n);
  return { mean, lo: mean - half, hi: mean + half, n, sd };
}
