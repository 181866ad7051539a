import { describe, expect, it } from "vitest";
import { Pcg32 } from "../../src/prng.js";
import { DepthAccumulator, SegAccumulator, scalarMetricsOf } from "../../src/probe/metrics.js";
import {
  bootstrapIntervals,
  compareProbeRuns,
  metricIntervals,
  pairedBootstrap,
  percentileInterval,
  quantileSorted,
  resamples,
  seedInterval,
} from "../../src/probe/stats.js";

/** n standard-normal draws (Box-Muller on PCG32). */
function normals(rng: Pcg32, n: number, mean = 0, sd = 1): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rng.nextFloat();
    const v = rng.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    out.push(mean + sd * r * Math.cos(2 * Math.PI * v), mean + sd * r * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

const meanOf = (x: number[]) => (idx: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += x[idx[i]];
  return { mean: s / idx.length };
};

describe("percentile bootstrap", () => {
  it("quantiles interpolate like numpy", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantileSorted([10], 0.975)).toBe(10);
    const ci = percentileInterval([3, Number.NaN, 1, 2, 5, 4], 0.5);
    expect(ci.lo).toBeCloseTo(2, 12);
    expect(ci.hi).toBeCloseTo(4, 12);
  });

  it("resamples are draws with replacement, the same for the same seed and different for another", () => {
    const a = [...resamples(50, 3, 7)].map((x) => Array.from(x));
    const b = [...resamples(50, 3, 7)].map((x) => Array.from(x));
    const c = [...resamples(50, 3, 8)].map((x) => Array.from(x));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const r of a) {
      expect(r.every((i) => i >= 0 && i < 50)).toBe(true);
      expect(new Set(r).size).toBeLessThan(50); // with replacement: P(all distinct) is ~1e-21
    }
  });

  it("the 95% interval of a mean of normal samples covers the true mean near 95% of the time", () => {
    // 400 data sets of 40 N(3, 2^2) samples; 400 resamples each. The percentile bootstrap of a
    // mean undercovers slightly at small n (about 93-94% at n = 40), so the band is [0.9, 0.98];
    // the seeds are fixed, so this is deterministic (it measured 0.93 when written).
    const rng = new Pcg32(2024, 1);
    let covered = 0;
    let width = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const x = normals(rng, 40, 3, 2);
      const { ci } = bootstrapIntervals(x.length, meanOf(x), { resamples: 400, seed: t });
      if (ci.mean.lo <= 3 && 3 <= ci.mean.hi) covered++;
      width += ci.mean.hi - ci.mean.lo;
    }
    const coverage = covered / trials;
    expect(coverage).toBeGreaterThan(0.9);
    expect(coverage).toBeLessThan(0.98);
    // and the width is what theory says: 2 * 1.96 * sd / sqrt(n) = 1.24 (up to the bootstrap's 1/sqrt(n) bias)
    expect(width / trials).toBeGreaterThan(1.1);
    expect(width / trials).toBeLessThan(1.3);
  });

  it("a paired difference is significant when one is truly better and not when they are the same", () => {
    const rng = new Pcg32(5, 2);
    const base = normals(rng, 60, 0, 1);
    const noise = normals(rng, 60, 0, 0.1);
    const better = base.map((v, i) => v + 0.2 + noise[i]); // +0.2 on every image, small per-image noise
    const same = base.map((v, i) => v + noise[i] * 0.01);
    const r1 = pairedBootstrap(60, meanOf(base), meanOf(better), { resamples: 500, seed: 1 });
    expect(r1.diff.mean.diff).toBeCloseTo(0.2 + noise.reduce((s, v) => s + v, 0) / 60, 10);
    expect(r1.diff.mean.significant).toBe(true);
    expect(r1.diff.mean.ci.lo).toBeGreaterThan(0);
    const r2 = pairedBootstrap(60, meanOf(base), meanOf(same), { resamples: 500, seed: 1 });
    expect(r2.diff.mean.significant).toBe(false);
    // unpaired intervals of base and better overlap (image-to-image spread 1 >> 0.2), yet pairing resolves it
    const ua = bootstrapIntervals(60, meanOf(base), { resamples: 500, seed: 1 }).ci.mean;
    const ub = bootstrapIntervals(60, meanOf(better), { resamples: 500, seed: 1 }).ci.mean;
    expect(ua.hi).toBeGreaterThan(ub.lo);
  });
});

describe("probe metric intervals", () => {
  const depthRun = (bias: number, seed: number) => {
    const rng = new Pcg32(seed, 3);
    const acc = new DepthAccumulator({
      minDepth: 1e-3,
      maxDepth: 20,
      clampPrediction: true,
      medianScaling: false,
      crop: null,
      average: "pixels",
    });
    const gtRng = new Pcg32(99, 4); // the same gt for every run
    for (let i = 0; i < 30; i++) {
      const gt = Array.from({ length: 16 }, () => 1 + 5 * gtRng.nextFloat());
      const pred = gt.map((g) => g * (1 + bias + 0.3 * (rng.nextFloat() - 0.5)));
      acc.add(pred, gt, 4, 4, `img${i}`);
    }
    return acc;
  };

  it("rescoring all images from the per-image statistics gives the accumulator's metrics", () => {
    const acc = depthRun(0.1, 1);
    const all = Array.from({ length: 30 }, (_, i) => i);
    const r = acc.result();
    const s = scalarMetricsOf(acc.imageStats(), all);
    for (const k of ["absRel", "rmse", "siLog", "delta1", "delta3"] as const) expect(s[k]).toBeCloseTo(r[k], 12);
    const seg = new SegAccumulator({ numClasses: 3 });
    seg.add([0, 1, 2, 2], [0, 1, 1, 2], "a");
    seg.add([1, 1, 0, 0], [1, 1, 0, 2], "b");
    const sr = seg.result();
    const ss = scalarMetricsOf(seg.imageStats(), [0, 1]);
    expect(ss.mIoU).toBeCloseTo(sr.mIoU, 12);
    expect(ss.pixelAccuracy).toBeCloseTo(sr.pixelAccuracy, 12);
    // image b twice and a never
    const twice = new SegAccumulator({ numClasses: 3 });
    twice.add([1, 1, 0, 0], [1, 1, 0, 2]).add([1, 1, 0, 0], [1, 1, 0, 2]);
    expect(scalarMetricsOf(seg.imageStats(), [1, 1]).mIoU).toBeCloseTo(twice.result().mIoU, 12);
  });

  it("intervals bracket the estimate and are byte-identical for the same seed", () => {
    const st = depthRun(0.1, 1).imageStats();
    const a = metricIntervals(st, { resamples: 200, seed: 3 });
    const b = metricIntervals(st, { resamples: 200, seed: 3 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = metricIntervals(st, { resamples: 200, seed: 4 });
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    const est = scalarMetricsOf(
      st,
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(a.ci.absRel.lo).toBeLessThan(est.absRel);
    expect(a.ci.absRel.hi).toBeGreaterThan(est.absRel);
    expect(a.info).toEqual({ method: "percentile bootstrap over val images", level: 0.95, resamples: 200, seed: 3, images: 30 });
  });

  it("compareProbeRuns pairs images by id, finds a real gap and refuses different image sets", () => {
    const good = depthRun(0.0, 1).imageStats();
    const bad = depthRun(0.25, 2).imageStats();
    // same images, listed in another order in the second run
    const perm = Array.from({ length: 30 }, (_, i) => (i * 7) % 30);
    const shuffled = { ...bad, ids: perm.map((i) => bad.ids[i]), sums: perm.map((i) => bad.sums[i]) };
    const r = compareProbeRuns(good, shuffled, { resamples: 300, seed: 0 });
    expect(r.diff.absRel.diff).toBeGreaterThan(0.1);
    expect(r.diff.absRel.significant).toBe(true);
    const direct = compareProbeRuns(good, bad, { resamples: 300, seed: 0 });
    expect(direct.diff.absRel.diff).toBeCloseTo(r.diff.absRel.diff, 12);
    const self = compareProbeRuns(good, good, { resamples: 300, seed: 0 });
    expect(self.diff.absRel.diff).toBe(0);
    expect(self.diff.absRel.significant).toBe(false);
    expect(() => compareProbeRuns(good, { ...bad, ids: bad.ids.map((id) => `${id}x`) })).toThrow(/same val images/);
  });
});

describe("interval over seeds", () => {
  it("is the t-interval with n - 1 degrees of freedom", () => {
    const r = seedInterval([1, 2, 3]);
    // mean 2, sd 1, t(0.975, 2) = 4.303: 2 +- 4.303 / sqrt(3)
    expect(r.mean).toBe(2);
    expect(r.sd).toBeCloseTo(1, 12);
    expect(r.lo).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 10);
    expect(r.hi).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 10);
    expect(seedInterval([5, null])).toEqual({ mean: 5, lo: null, hi: null, n: 1, sd: null });
  });
});
