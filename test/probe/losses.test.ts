import { describe, expect, it } from "vitest";
import { Pcg32 } from "../../src/prng.js";
import { crossEntropyBackward, crossEntropyForward, SILOG_LAMBDA, siLogBackward, siLogForward } from "../../src/ref/probe/losses.js";

function rand(n: number, seed: number, lo: number, hi: number): Float64Array {
  const r = new Pcg32(seed, 3);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r.nextFloat());
}

/** Central finite differences of f at x, in float64. */
function numericGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

function expectGradClose(analytic: Float64Array, numeric: Float64Array, tol: number, what: string) {
  let max = 0;
  let at = 0;
  for (let i = 0; i < analytic.length; i++) {
    const e = Math.abs(analytic[i] - numeric[i]) / Math.max(1, Math.abs(numeric[i]));
    if (e > max) [max, at] = [e, i];
  }
  expect(max, `${what}: max rel error ${max} at ${at} (analytic ${analytic[at]}, numeric ${numeric[at]})`).toBeLessThan(tol);
}

describe("scale-invariant log loss (CPU twin)", () => {
  it("hand-computed value, valid mask and lambda", () => {
    // One image, gt = [1, e, 0 (no data), e^2], predLog = [1, 1, 7, 0]
    // d = [1 - 0, 1 - 1, -, 0 - 2] = [1, 0, -2], n = 3, sum d^2 = 5, sum d = -1
    // L = 5/3 - 0.5 * 1/9 = 5/3 - 1/18 = 29/18
    const gt = [1, Math.E, 0, Math.E ** 2];
    const pred = [1, 1, 7, 0];
    expect(siLogForward(pred, gt, 1, 4, 0.5).loss).toBeCloseTo(29 / 18, 12);
    // lambda = 1: 5/3 - 1/9 = 14/9; lambda = 0: 5/3
    expect(siLogForward(pred, gt, 1, 4, 1).loss).toBeCloseTo(14 / 9, 12);
    expect(siLogForward(pred, gt, 1, 4, 0).loss).toBeCloseTo(5 / 3, 12);
    // maxDepth e: the e^2 pixel drops out -> d = [1, 0], L = 1/2 - 0.5 * 1/4 = 3/8
    expect(siLogForward(pred, gt, 1, 4, 0.5, Math.E + 1e-9).loss).toBeCloseTo(3 / 8, 12);
    // lambda = 1 is invariant to a global scale: predLog + c gives the same loss.
    expect(siLogForward([1 + 3, 1 + 3, 7, 0 + 3], gt, 1, 4, 1).loss).toBeCloseTo(14 / 9, 12);
  });

  it("batch mean over images with valid pixels; no valid pixel gives loss 0 and no gradient", () => {
    // image 0 as above (29/18); image 1 has no data -> mean over 1 image.
    const gt = [1, Math.E, 0, Math.E ** 2, 0, 0, 0, 0];
    const pred = [1, 1, 7, 0, 3, 3, 3, 3];
    const f = siLogForward(pred, gt, 2, 4);
    expect(f.loss).toBeCloseTo(29 / 18, 12);
    const g = new Float64Array(8);
    siLogBackward(f.acts, 1, g);
    expect(Array.from(g.slice(4))).toEqual([0, 0, 0, 0]);
    expect(g[2]).toBe(0);
    const none = siLogForward([1], [0], 1, 1);
    expect(none.loss).toBe(0);
    const g0 = new Float64Array(1);
    siLogBackward(none.acts, 1, g0);
    expect(g0[0]).toBe(0);
  });

  it("gradient matches float64 finite differences and accumulates", () => {
    const B = 3;
    const N = 17;
    const gt = rand(B * N, 1, 0.5, 8);
    for (let i = 0; i < gt.length; i += 5) gt[i] = 0; // holes
    const pred = rand(B * N, 2, -1, 2.5);
    const f = siLogForward(pred, gt, B, N, SILOG_LAMBDA);
    const g = new Float64Array(B * N);
    siLogBackward(f.acts, 2.5, g);
    const num = numericGrad((x) => 2.5 * siLogForward(x, gt, B, N, SILOG_LAMBDA).loss, pred);
    expectGradClose(g, num, 1e-7, "siLog dpredLog");
    // Accumulates: a second backward doubles it.
    siLogBackward(f.acts, 2.5, g);
    expectGradClose(
      g,
      num.map((v) => 2 * v),
      1e-7,
      "siLog accumulate",
    );
  });

  it("shape errors name the sizes", () => {
    expect(() => siLogForward([1, 2], [1], 1, 2)).toThrow(/expected B\*N = 1\*2/);
  });
});

describe("cross-entropy with ignore index (CPU twin)", () => {
  it("hand-computed value with an ignored pixel", () => {
    // P = 3, C = 2. pixel 0: logits [0, 0], t 0 -> ln 2. pixel 1: [ln 3, 0], t 1 -> -ln(1/4) = ln 4.
    // pixel 2: t 255 (ignored). L = (ln 2 + ln 4) / 2 = 1.5 ln 2
    const f = crossEntropyForward([0, 0, Math.log(3), 0, 50, -50], [0, 1, 255], 3, 2);
    expect(f.loss).toBeCloseTo(1.5 * Math.LN2, 12);
    expect(f.acts.valid).toBe(2);
    // dlogits: pixel 0: ([0.5, 0.5] - [1, 0]) / 2 = [-0.25, 0.25]; pixel 1: ([0.75, 0.25] - [0, 1]) / 2
    const g = new Float64Array(6);
    crossEntropyBackward(f.acts, 1, g);
    const want = [-0.25, 0.25, 0.375, -0.375, 0, 0];
    for (let i = 0; i < 6; i++) expect(g[i]).toBeCloseTo(want[i], 12);
  });

  it("stable for large logits; all ignored gives 0", () => {
    // logits [1000, 0], t 1 -> loss 1000 (no overflow)
    expect(crossEntropyForward([1000, 0], [1], 1, 2).loss).toBeCloseTo(1000, 9);
    expect(crossEntropyForward([1, 2], [255], 1, 2).loss).toBe(0);
    expect(crossEntropyForward([1, 2], [0], 1, 2, 0).loss).toBe(0); // ignoreIndex 0
  });

  it("gradient matches float64 finite differences", () => {
    const P = 11;
    const C = 5;
    const logits = rand(P * C, 4, -3, 3);
    const r = new Pcg32(5, 1);
    const targets = Array.from({ length: P }, (_, i) => (i % 4 === 3 ? 255 : r.nextBelow(C)));
    const f = crossEntropyForward(logits, targets, P, C);
    const g = new Float64Array(P * C);
    crossEntropyBackward(f.acts, 0.7, g);
    const num = numericGrad((x) => 0.7 * crossEntropyForward(x, targets, P, C).loss, logits);
    expectGradClose(g, num, 1e-7, "crossEntropy dlogits");
  });

  it("targets out of range are errors", () => {
    expect(() => crossEntropyForward([0, 0], [2], 1, 2)).toThrow(/target 2 at pixel 0 is not in 0\.\.1/);
  });

  it("class weights: the weighted mean of the hand-computed case, ones = unweighted, gradient by finite differences", () => {
    // the first case with w = [3, 1]: (3 ln 2 + 1 ln 4) / (3 + 1) = 5 ln 2 / 4
    const logits = [0, 0, Math.log(3), 0, 50, -50];
    const f = crossEntropyForward(logits, [0, 1, 255], 3, 2, 255, [3, 1]);
    expect(f.loss).toBeCloseTo((5 * Math.LN2) / 4, 12);
    expect(f.acts.norm).toBe(4);
    const g = new Float64Array(6);
    crossEntropyBackward(f.acts, 1, g);
    // pixel 0: 3/4 ([0.5, 0.5] - [1, 0]); pixel 1: 1/4 ([0.75, 0.25] - [0, 1])
    const want = [-0.375, 0.375, 0.1875, -0.1875, 0, 0];
    for (let i = 0; i < 6; i++) expect(g[i]).toBeCloseTo(want[i], 12);
    expect(crossEntropyForward(logits, [0, 1, 255], 3, 2, 255, [1, 1]).loss).toBe(crossEntropyForward(logits, [0, 1, 255], 3, 2).loss);
    const P = 11;
    const C = 5;
    const x0 = rand(P * C, 6, -3, 3);
    const r = new Pcg32(7, 1);
    const targets = Array.from({ length: P }, (_, i) => (i % 4 === 3 ? 255 : r.nextBelow(C)));
    const w = [0.5, 2, 1, 0, 3];
    const fw = crossEntropyForward(x0, targets, P, C, 255, w);
    const gw = new Float64Array(P * C);
    crossEntropyBackward(fw.acts, 0.7, gw);
    expectGradClose(
      gw,
      numericGrad((x) => 0.7 * crossEntropyForward(x, targets, P, C, 255, w).loss, x0),
      1e-7,
      "weighted dlogits",
    );
    expect(() => crossEntropyForward(logits, [0, 1, 255], 3, 2, 255, [1])).toThrow(/1 class weights, expected 2/);
  });
});
