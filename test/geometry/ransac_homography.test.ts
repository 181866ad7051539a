import { describe, expect, it } from "vitest";
import { cornerErrors } from "../../src/geometry/homography.js";
import { encodeRansacHypotheses, hypothesesNeeded, type RansacProblem, ransacBatch, ransacPresets } from "../../src/geometry/ransac.js";
import { syntheticPair } from "../../src/geometry/synthetic.js";
import { createBuffer, readF32, readU32, upload } from "../../src/gpu/buffers.js";
import { Pcg32 } from "../../src/prng.js";
import { ransacHypothesesRef } from "../../src/ref/geometry/ransac_homography.js";
import { testGpu } from "../helpers.js";
import { TOL } from "../tolerances.js";

/** The true correspondences of a synthetic pair (inliers with noise + outliers), as a RANSAC problem. */
function problemOf(seed: number, outlierFraction: number, points = 200): { prob: RansacProblem; H: Float64Array } {
  const s = syntheticPair(seed, { points, outlierFraction, distractors: 0, noisePx: 0.5 });
  const xa = new Float32Array(2 * points);
  const xb = new Float32Array(2 * points);
  for (let i = 0; i < points; i++) {
    xa.set(s.a.xy.subarray(2 * i, 2 * i + 2), 2 * i);
    const j = s.partner[i];
    xb.set(s.b.xy.subarray(2 * j, 2 * j + 2), 2 * i);
  }
  return { prob: { xa, xb }, H: s.H };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

describe("ransac_homography.wgsl vs CPU twin (src/ref/geometry/ransac_homography.ts)", () => {
  it("same samples, counts and hypotheses for a batch of problems", async () => {
    const gpu = await testGpu();
    // normalised-looking points: random in [-1.5, 1.5], b = a mapped by a mild projective map + outliers
    const r = new Pcg32(5, 5);
    const m = [60, 7, 3, 120];
    const rows = m.reduce((a, b) => a + b, 0);
    const pts = new Float32Array(rows * 4);
    const problems = new Uint32Array(4 * m.length);
    const pf = new Float32Array(problems.buffer);
    let off = 0;
    m.forEach((n, i) => {
      for (let k = 0; k < n; k++) {
        const x = 3 * r.nextFloat() - 1.5;
        const y = 3 * r.nextFloat() - 1.5;
        const w = 0.05 * x - 0.03 * y + 1;
        const out = r.nextFloat() < 0.3;
        pts.set(
          [
            x,
            y,
            out ? 3 * r.nextFloat() - 1.5 : (1.1 * x - 0.2 * y + 0.1) / w,
            out ? 3 * r.nextFloat() - 1.5 : (0.15 * x + 0.9 * y - 0.2) / w,
          ],
          4 * (off + k),
        );
      }
      problems.set([off, n, 0, 0], 4 * i);
      pf[4 * i + 2] = 0.02 ** 2;
      off += n;
    });
    const K = 300;
    const first = 17;
    const bPts = upload(gpu, "pts", pts);
    const bProb = upload(gpu, "problems", problems);
    const bCounts = createBuffer(gpu, "counts", m.length * K * 4);
    const bHs = createBuffer(gpu, "hs", m.length * K * 36);
    const enc = gpu.device.createCommandEncoder();
    encodeRansacHypotheses(gpu, enc, bPts, bProb, bCounts, bHs, m.length, first, K, 77, 8);
    gpu.device.queue.submit([enc.finish()]);
    const counts = await readU32(gpu, bCounts);
    const hs = await readF32(gpu, bHs);
    const ref = ransacHypothesesRef(pts, problems, first, K, 77, 8);
    let countDiffs = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== ref.counts[i]) countDiffs++;
    expect(countDiffs, "ransac_homography: hypotheses whose inlier count differs GPU vs twin").toBeLessThanOrEqual(2);
    let maxRel = 0;
    let degenerateDiffs = 0;
    for (let i = 0; i < counts.length; i++) {
      const g = hs.subarray(9 * i, 9 * i + 9);
      const c = ref.hs.subarray(9 * i, 9 * i + 9);
      if ((g[8] === 0) !== (c[8] === 0)) degenerateDiffs++;
      if (g[8] === 0 || c[8] === 0) continue;
      const norm = Math.max(...Array.from(c, Math.abs));
      for (let k = 0; k < 9; k++) maxRel = Math.max(maxRel, Math.abs(g[k] - c[k]) / norm);
    }
    expect(degenerateDiffs, "degenerate-sample decisions differ").toBe(0);
    expect(maxRel, `ransac_homography: max relative H difference ${maxRel}`).toBeLessThan(TOL.ransac.hypothesisRel);
    // problem 2 has 3 matches: nothing; problem 1 (7 matches) has valid hypotheses
    for (let k = 0; k < K; k++) expect(counts[2 * K + k]).toBe(0);
    expect(Math.max(...counts.subarray(K, 2 * K))).toBeGreaterThan(0);
    for (const p of [0, 3]) {
      const seg = (a: Uint32Array) => a.subarray(p * K, (p + 1) * K);
      const argmax = (a: Uint32Array) => a.indexOf(Math.max(...a));
      expect(argmax(seg(counts)), `best hypothesis of problem ${p}`).toBe(argmax(seg(ref.counts)));
    }
  });

  it("ransacBatch: GPU and twin agree on best hypothesis, refined H (1e-6 rel) and inliers", async () => {
    const gpu = await testGpu();
    const probs = [problemOf(21, 0.5).prob, problemOf(22, 0.2, 60).prob, problemOf(23, 0.4, 150).prob];
    const cfg = { ...ransacPresets.default, batch: 128 };
    const g = await ransacBatch(gpu, probs, cfg);
    const c = await ransacBatch("cpu", probs, cfg);
    for (let i = 0; i < probs.length; i++) {
      const [gi, ci] = [g[i], c[i]];
      expect(gi.kind).toBe("model");
      expect(ci.kind).toBe("model");
      if (gi.kind !== "model" || ci.kind !== "model") continue;
      expect(gi.bestHypothesis, `problem ${i}: best hypothesis index`).toBe(ci.bestHypothesis);
      expect(gi.hypotheses).toBe(ci.hypotheses);
      const scale = Math.max(...Array.from(ci.fit.H, Math.abs));
      for (let k = 0; k < 9; k++) expect(Math.abs(gi.fit.H[k] - ci.fit.H[k]) / scale, `H[${k}]`).toBeLessThan(TOL.ransac.fitRel);
      expect(Array.from(gi.fit.inliers)).toEqual(Array.from(ci.fit.inliers));
    }
  });

  it("median corner error < 1 px on known homographies with 0-60% outliers", async () => {
    const gpu = await testGpu();
    const fractions = [0, 0.2, 0.4, 0.6];
    const seeds = [31, 32, 33];
    const cases = fractions.flatMap((f) => seeds.map((s) => ({ f, ...problemOf(s * 10 + Math.round(f * 10), f) })));
    const res = await ransacBatch(
      gpu,
      cases.map((c) => c.prob),
      ransacPresets.default,
    );
    for (const f of fractions) {
      const errs: number[] = [];
      cases.forEach((c, i) => {
        if (c.f !== f) return;
        const r = res[i];
        expect(r.kind, `outliers ${f}: model found`).toBe("model");
        if (r.kind === "model") errs.push(median(cornerErrors(r.fit.H, c.H, 224, 224)));
      });
      const med = median(errs);
      expect(med, `outliers ${f * 100}%: median corner error ${med.toFixed(3)} px`).toBeLessThan(1);
    }
  });

  it("adaptive stopping: one batch at 0% outliers, more at 60%, the bound of hypothesesNeeded", async () => {
    const gpu = await testGpu();
    expect(hypothesesNeeded(1, 0.995, 2000)).toBe(0);
    expect(hypothesesNeeded(0.5, 0.995, 2000)).toBe(Math.round(Math.log(0.005) / Math.log(1 - 0.5 ** 4)));
    expect(hypothesesNeeded(0.05, 0.995, 2000)).toBe(2000);
    const cfg = { ...ransacPresets.mimic, mode: "lo-msac" as const, batch: 32 }; // the GPU path (mode opencv runs on the host)
    const [clean, dirty] = await ransacBatch(gpu, [problemOf(51, 0).prob, problemOf(52, 0.6).prob], cfg);
    expect(clean.kind === "model" && clean.hypotheses).toBe(32);
    expect(dirty.kind === "model" && dirty.hypotheses).toBeGreaterThan(32);
    if (dirty.kind === "model")
      expect(dirty.hypotheses).toBeLessThanOrEqual(32 * Math.ceil(hypothesesNeeded(dirty.bestCount / 200, cfg.confidence, 2000) / 32) + 32);
  });

  it("typed 'no model' results: too few matches, all collinear", async () => {
    const gpu = await testGpu();
    const few = problemOf(41, 0, 10).prob; // MIMIC needs > 10
    const line = { xa: new Float32Array(40), xb: new Float32Array(40) };
    for (let i = 0; i < 20; i++) {
      line.xa.set([10 + 5 * i, 20 + 3 * i], 2 * i);
      line.xb.set([12 + 5 * i, 25 + 3 * i], 2 * i);
    }
    const [a, b] = await ransacBatch(gpu, [few, line], { ...ransacPresets.mimic, maxHypotheses: 256 });
    expect(a).toMatchObject({ kind: "none", reason: "too-few-matches", matches: 10 });
    expect(b).toMatchObject({ kind: "none", reason: "no-valid-hypothesis" });
  });
});
