import { describe, expect, it } from "vitest";
import {
  argmaxClasses,
  DepthAccumulator,
  depthMetrics,
  EIGEN_CROP,
  reduceZeroLabel,
  resolveCrop,
  SegAccumulator,
  segMetrics,
} from "../../src/probe/metrics.js";

const plain = { minDepth: 1e-3, maxDepth: 10, clampPrediction: true, medianScaling: false, crop: null, average: "pixels" } as const;

describe("depth metrics (hand-computed)", () => {
  it("AbsRel, SqRel, RMSE, RMSE-log, log10, SILog, delta1/2/3 over valid pixels", () => {
    // 2x3 image.      gt = [1, 2, 4,  0, 1,   12]   pred = [1.5, 2, 3, 5, 1.8, 12]
    // pixel 3: gt 0 (no data) and pixel 5: gt 12 > maxDepth 10 are invalid -> 4 valid pixels.
    //   px  p    g   |d|/g  d^2/g  d^2   ratio max(p/g,g/p)
    //   0   1.5  1   0.5    0.25   0.25  1.5    (d2, d3)
    //   1   2    2   0      0      0     1      (d1, d2, d3)
    //   2   3    4   0.25   0.25   1     4/3    (d2, d3)
    //   4   1.8  1   0.8    0.64   0.64  1.8    (d3 only: 1.5625 < 1.8 < 1.953125)
    // absRel = 1.55/4 = 0.3875, sqRel = 1.14/4 = 0.285, rmse = sqrt(1.89/4)
    // delta1 = 1/4, delta2 = 3/4, delta3 = 1
    const gt = [1, 2, 4, 0, 1, 12];
    const pred = [1.5, 2, 3, 5, 1.8, 12];
    const m = depthMetrics(pred, gt, 2, 3, plain);
    expect(m.pixels).toBe(4);
    expect(m.images).toBe(1);
    expect(m.absRel).toBeCloseTo(0.3875, 12);
    expect(m.sqRel).toBeCloseTo(0.285, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.4725), 12);
    const e = [Math.log(1.5), 0, Math.log(0.75), Math.log(1.8)];
    expect(m.rmseLog).toBeCloseTo(Math.sqrt(e.reduce((s, x) => s + x * x, 0) / 4), 12);
    expect(m.log10).toBeCloseTo((Math.log10(1.5) + Math.log10(4 / 3) + Math.log10(1.8)) / 4, 12);
    // SILog: mean e = ln(1.5 * 0.75 * 1.8) / 4 = ln(2.025) / 4
    const me = Math.log(2.025) / 4;
    expect(m.siLog).toBeCloseTo(100 * Math.sqrt(e.reduce((s, x) => s + x * x, 0) / 4 - me * me), 10);
    expect(m.delta1).toBe(0.25);
    expect(m.delta2).toBe(0.75);
    expect(m.delta3).toBe(1);
  });

  it("clamps predictions into [minDepth, maxDepth]; without clamping a non-positive prediction is an error", () => {
    // gt 2, pred 20 clamped to 10: absRel = 8/2 = 4.  gt 1, pred -3 clamped to 1e-3: absRel = 0.999.
    expect(depthMetrics([20], [2], 1, 1, plain).absRel).toBeCloseTo(4, 12);
    expect(depthMetrics([-3], [1], 1, 1, plain).absRel).toBeCloseTo(0.999, 12);
    expect(() => depthMetrics([-3], [1], 1, 1, { ...plain, clampPrediction: false })).toThrow(/not positive.*clampPrediction/);
    // Unclamped, 20 vs 2 scores 9.
    expect(depthMetrics([20], [2], 1, 1, { ...plain, clampPrediction: false }).absRel).toBeCloseTo(9, 12);
  });

  it("median scaling makes a prediction that is right up to scale perfect", () => {
    // gt [1, 2, 3], pred [2, 4, 6]: s = median(gt) / median(pred) = 2 / 4 -> pred = gt.
    const m = depthMetrics([2, 4, 6], [1, 2, 3], 1, 3, { ...plain, medianScaling: true });
    expect(m.absRel).toBeCloseTo(0, 12);
    expect(m.delta1).toBe(1);
    // Without it: absRel = (1 + 1 + 1) / 3 = 1.
    expect(depthMetrics([2, 4, 6], [1, 2, 3], 1, 3, plain).absRel).toBeCloseTo(1, 12);
  });

  it("accumulates over the set: pooled pixels vs mean of images", () => {
    // image A: gt [1], pred [2] -> absRel 1 (1 pixel). image B: 3 exact pixels -> absRel 0.
    // pooled: (1 + 0 + 0 + 0) / 4 = 0.25; per image: (1 + 0) / 2 = 0.5.
    const pooled = new DepthAccumulator(plain).add([2], [1], 1, 1).add([1, 1, 1], [1, 1, 1], 1, 3).result();
    expect(pooled.absRel).toBeCloseTo(0.25, 12);
    expect(pooled.pixels).toBe(4);
    expect(pooled.images).toBe(2);
    const images = new DepthAccumulator({ ...plain, average: "images" }).add([2], [1], 1, 1).add([1, 1, 1], [1, 1, 1], 1, 3).result();
    expect(images.absRel).toBeCloseTo(0.5, 12);
    // An image without valid pixels counts as an image but not in the means.
    const withEmpty = new DepthAccumulator({ ...plain, average: "images" }).add([2], [1], 1, 1).add([5], [0], 1, 1).result();
    expect(withEmpty.absRel).toBeCloseTo(1, 12);
    expect(withEmpty.images).toBe(2);
    expect(Number.isNaN(new DepthAccumulator(plain).add([1], [0], 1, 1).result().absRel)).toBe(true);
  });

  it("crops: only the box is scored; the Eigen crop scales with the frame", () => {
    // 4x4, gt all 1; pred 1 inside rows 1:3 cols 1:3, 100 outside -> exact inside.
    const gt = new Array(16).fill(1);
    const pred = gt.map((_, i) => (Math.floor(i / 4) % 3 !== 0 && (i % 4) % 3 !== 0 ? 1 : 100));
    const m = depthMetrics(pred, gt, 4, 4, { ...plain, crop: { top: 1, bottom: 3, left: 1, right: 3 } });
    expect(m.pixels).toBe(4);
    expect(m.absRel).toBe(0);
    expect(resolveCrop(EIGEN_CROP, 480, 640)).toEqual({ top: 45, bottom: 471, left: 41, right: 601 });
    // 240x320: 22.5 -> 23, 235.5 -> 236, 20.5 -> 21, 300.5 -> 301 (Math.round)
    expect(resolveCrop(EIGEN_CROP, 240, 320)).toEqual({ top: 23, bottom: 236, left: 21, right: 301 });
    expect(() => resolveCrop({ top: 0, bottom: 9, left: 0, right: 2 }, 4, 4)).toThrow(/does not fit a 4x4/);
  });

  it("rejects mismatched sizes and bad configs with the fix", () => {
    expect(() => depthMetrics([1, 2], [1, 2, 3], 1, 3, plain)).toThrow(/resize the prediction/);
    expect(() => new DepthAccumulator({ minDepth: 5, maxDepth: 1 })).toThrow(/minDepth < maxDepth/);
  });
});

describe("segmentation metrics (hand-computed, mmseg conventions)", () => {
  // K = 4 classes.  gt    = [0, 0, 0, 1, 1, 255, 1, 0]
  //                 pred  = [0, 0, 1, 1, 2, 2,   1, 0]
  // pixel 5 is ignored (its prediction 2 does not count). 7 valid pixels.
  // confusion (row gt, col pred): row0 = [3, 1, 0, 0], row1 = [0, 2, 1, 0], rows 2, 3 empty.
  //   class 0: tp 3, gt 4, pred 3 -> union 4 -> IoU 0.75, acc 3/4
  //   class 1: tp 2, gt 3, pred 3 -> union 4 -> IoU 0.5,  acc 2/3
  //   class 2: tp 0, gt 0, pred 1 -> union 1 -> IoU 0 (predicted, never in gt: counts), acc NaN
  //   class 3: union 0 -> IoU NaN (excluded)
  // mIoU = (0.75 + 0.5 + 0) / 3, aAcc = 5/7, mAcc = (0.75 + 2/3) / 2
  const gt = [0, 0, 0, 1, 1, 255, 1, 0];
  const pred = [0, 0, 1, 1, 2, 2, 1, 0];

  const check = (m: ReturnType<typeof segMetrics>) => {
    expect(m.iou.slice(0, 3)).toEqual([0.75, 0.5, 0]);
    expect(Number.isNaN(m.iou[3])).toBe(true);
    expect(m.mIoU).toBeCloseTo(1.25 / 3, 12);
    expect(m.classesCounted).toBe(3);
    expect(m.pixelAccuracy).toBeCloseTo(5 / 7, 12);
    expect(m.meanAccuracy).toBeCloseTo((0.75 + 2 / 3) / 2, 12);
    expect(m.accuracy[0]).toBe(0.75);
    expect(Number.isNaN(m.accuracy[2])).toBe(true);
    expect(m.gtPixels).toEqual([4, 3, 0, 0]);
    expect(m.pixels).toBe(7);
  };

  it("ignore index 255, empty and prediction-only classes", () => {
    check(segMetrics(pred, gt, { numClasses: 4, ignoreIndex: 255 }));
  });

  it("ADE20K layout: 0 = ignore, 1..K = classes (reduceZeroLabel) gives the same numbers", () => {
    const stored = gt.map((g) => (g === 255 ? 0 : g + 1)); // [1, 1, 1, 2, 2, 0, 2, 1]
    check(segMetrics(pred, stored, { numClasses: 4, reduceZeroLabel: true }));
    expect(Array.from(reduceZeroLabel(stored))).toEqual(gt);
  });

  it("accumulates a confusion matrix over the set instead of averaging per-image mIoU", () => {
    // A: gt [0, 0], pred [0, 0].  B: gt [1, 1], pred [0, 1].
    // set: row0 = [2, 0], row1 = [1, 1] -> IoU0 = 2/(2+3-2) = 2/3, IoU1 = 1/(2+1-1) = 1/2 -> mIoU 7/12
    // (per-image mean would be (1 + (0 + 0.5) / 2) / 2 = 0.625)
    const acc = new SegAccumulator({ numClasses: 2 }).add([0, 0], [0, 0]).add([0, 1], [1, 1]);
    const m = acc.result();
    expect(m.mIoU).toBeCloseTo(7 / 12, 12);
    expect(m.images).toBe(2);
    expect(Array.from(acc.confusion)).toEqual([2, 0, 1, 1]);
    // All pixels ignored: everything NaN, nothing counted.
    const none = segMetrics([0, 1], [255, 255], { numClasses: 2 });
    expect(Number.isNaN(none.mIoU) && Number.isNaN(none.pixelAccuracy)).toBe(true);
    expect(none.classesCounted).toBe(0);
  });

  it("labels out of range and bad predictions are errors naming the convention", () => {
    expect(() => segMetrics([0], [3], { numClasses: 3 })).toThrow(/gt label 3 .*out of range for 3 classes/);
    expect(() => segMetrics([0], [4], { numClasses: 3, reduceZeroLabel: true })).toThrow(/gt label 4 .*labels 1\.\.3, 0 = ignore/);
    expect(() => segMetrics([3], [0], { numClasses: 3 })).toThrow(/predicted class 3/);
    expect(() => segMetrics([0, 0], [0], { numClasses: 3 })).toThrow(/resize the prediction/);
  });

  it("argmax over channel-last logits", () => {
    // pixel 0: [0.1, 2, -1] -> 1; pixel 1: [5, 5, 4] -> 0 (first max); pixel 2: [-3, -2, -1] -> 2
    expect(Array.from(argmaxClasses([0.1, 2, -1, 5, 5, 4, -3, -2, -1], 3, 3))).toEqual([1, 0, 2]);
  });
});
