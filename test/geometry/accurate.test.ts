// The accuracy option (MineConfig.accurate, `--accurate`): RootSIFT descriptors, the weighted
// Levenberg-Marquardt, the Tukey-reweighted refinement, and how the option maps to stage configs
// while the presets stay as they were.
import { describe, expect, it } from "vitest";
import { parseMineConfig } from "../../src/cli/mine.js";
import { cornerErrors, inliersOf, refineReprojection } from "../../src/geometry/homography.js";
import { type RansacProblem, ransacBatch, ransacPresets, robustRefine } from "../../src/geometry/ransac.js";
import { randomHomography, syntheticPair } from "../../src/geometry/synthetic.js";
import { matchPairs, rootSift } from "../../src/match/matcher.js";
import { configHash, minePresets } from "../../src/mine/config.js";
import { stageConfigs } from "../../src/mine/verify.js";
import { Pcg32 } from "../../src/prng.js";
import { testGpu } from "../helpers.js";

const meanCorner = (H: ArrayLike<number>, T: ArrayLike<number>) => cornerErrors(H, T, 224, 224).reduce((a, b) => a + b, 0) / 4;

describe("RootSIFT", () => {
  it("L1-normalises then takes square roots; rows come out unit L2; a zero row stays zero", () => {
    const d = new Float32Array(3 * 128);
    d[0] = 3;
    d[1] = 1;
    for (let k = 0; k < 128; k++) d[128 + k] = (k % 7) / 7;
    const r = rootSift(d);
    expect(r[0]).toBeCloseTo(Math.sqrt(0.75), 6);
    expect(r[1]).toBeCloseTo(Math.sqrt(0.25), 6);
    expect(r.subarray(2, 128).every((v) => v === 0)).toBe(true);
    let n2 = 0;
    for (let k = 0; k < 128; k++) n2 += r[128 + k] ** 2;
    expect(n2).toBeCloseTo(1, 5);
    expect(r.subarray(256).every((v) => v === 0)).toBe(true);
    expect(() => rootSift(new Float32Array(100))).toThrow(/128-float/);
  });

  it("matchPairs with rootSift = matching RootSIFT descriptors; the GPU gives the CPU's matches", async () => {
    const p = syntheticPair(11, { points: 200, distractors: 60 });
    const feats = [p.a, p.b];
    const cfg = { ratio: 0.8, mutual: true, rootSift: true };
    const cpu = (await matchPairs("cpu", feats, [[0, 1]], cfg))[0];
    const manual = (
      await matchPairs(
        "cpu",
        feats.map((f) => ({ ...f, desc: rootSift(f.desc) })),
        [[0, 1]],
        { ratio: 0.8, mutual: true },
      )
    )[0];
    const plain = (await matchPairs("cpu", feats, [[0, 1]], { ratio: 0.8, mutual: true }))[0];
    expect(Array.from(cpu.idx)).toEqual(Array.from(manual.idx));
    expect(cpu.count).toBeGreaterThan(100);
    expect(Array.from(cpu.ratio)).toEqual(Array.from(manual.ratio));
    expect(Array.from(cpu.ratio)).not.toEqual(Array.from(plain.ratio.slice(0, cpu.count))); // other distances: RootSIFT was used
    const gpu = (await matchPairs(await testGpu(), feats, [[0, 1]], cfg))[0];
    expect(Array.from(gpu.idx)).toEqual(Array.from(cpu.idx));
  });
});

/** 150 accurate matches (0.2 px noise) + 50 matches 3.5-4.5 px off to the right in the left third (inside a 5 px threshold). */
function biasedProblem(seed: number): { prob: RansacProblem; H: Float64Array } {
  const H = randomHomography(seed, 224);
  const r = new Pcg32(seed, 9);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r.nextFloat())) * Math.cos(2 * Math.PI * r.nextFloat());
  const xa: number[] = [];
  const xb: number[] = [];
  for (let i = 0; i < 200; i++) {
    const biased = i >= 150;
    const x = biased ? 10 + 60 * r.nextFloat() : 10 + 204 * r.nextFloat();
    const y = 10 + 204 * r.nextFloat();
    const w = H[6] * x + H[7] * y + H[8];
    const u = (H[0] * x + H[1] * y + H[2]) / w;
    const v = (H[3] * x + H[4] * y + H[5]) / w;
    xa.push(x, y);
    xb.push(u + (biased ? 3.5 + r.nextFloat() : 0.2 * gauss()), v + 0.2 * gauss());
  }
  return { prob: { xa: Float32Array.from(xa), xb: Float32Array.from(xb) }, H };
}

describe("weighted LM and the reweighted refinement", () => {
  it("refineReprojection with all weights 1 is bit-identical to no weights", () => {
    const { prob, H } = biasedProblem(3);
    const rows = Array.from({ length: 200 }, (_, i) => i);
    const a = refineReprojection(H, prob.xa, prob.xb, rows);
    const b = refineReprojection(H, prob.xa, prob.xb, rows, 10, new Array(200).fill(1));
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it("robustRefine down-weights the near-threshold matches that bias least squares", () => {
    for (const seed of [3, 4, 5]) {
      const { prob, H } = biasedProblem(seed);
      const all = inliersOf(H, prob.xa, prob.xb, 5);
      expect(all.count).toBe(200); // every match is an inlier at 5 px: plain LM fits the biased ones too
      const rows = Array.from({ length: 200 }, (_, i) => i);
      const plain = refineReprojection(H, prob.xa, prob.xb, rows);
      const robust = robustRefine(plain, prob, 5, 10);
      const ePlain = meanCorner(plain, H);
      const eRobust = meanCorner(robust, H);
      expect(eRobust, `seed ${seed}: robust ${eRobust.toFixed(3)} px vs plain ${ePlain.toFixed(3)} px`).toBeLessThan(0.2 * ePlain);
      expect(eRobust).toBeLessThan(0.3);
      expect(robustRefine(plain, prob, 5, 0)).toEqual(plain); // 0 rounds: unchanged
    }
  });

  it("ransacBatch applies robustRounds (inliers recounted) and the presets do not set it", async () => {
    expect(ransacPresets.mimic).not.toHaveProperty("robustRounds");
    expect(ransacPresets.default).not.toHaveProperty("robustRounds");
    const { prob, H } = biasedProblem(6);
    const [a] = await ransacBatch("cpu", [prob], ransacPresets.default);
    const [b] = await ransacBatch("cpu", [prob], { ...ransacPresets.default, robustRounds: 10 });
    if (a.kind !== "model" || b.kind !== "model") throw new Error("expected models");
    expect(meanCorner(b.fit.H, H)).toBeLessThan(meanCorner(a.fit.H, H));
    expect(b.fit.numInliers).toBe(inliersOf(b.fit.H, prob.xa, prob.xb, 5).count);
  });
});

describe("MineConfig.accurate", () => {
  it("maps to RootSIFT + mutual + ratio >= 0.8 + LO-MSAC with more hypotheses + reweighting; absent: the stages as before", () => {
    const plain = stageConfigs(minePresets.mimic).twoView;
    expect(plain.match).toEqual({ ratio: 0.7, mutual: false });
    expect(plain.ransac).not.toHaveProperty("robustRounds");
    expect(plain.ransac.mode).toBe("opencv");
    const acc = stageConfigs({ ...minePresets.mimic, accurate: true }).twoView;
    expect(acc.match).toEqual({ ratio: 0.8, mutual: true, rootSift: true });
    expect(acc.ransac).toMatchObject({
      mode: "lo-msac",
      maxHypotheses: 10000,
      confidence: 0.9999,
      robustRounds: 10,
      threshold: 5,
      minMatches: 10,
    });
    expect(stageConfigs({ ...minePresets.default, ratio: 0.9, accurate: true }).twoView.match.ratio).toBe(0.9);
    expect(stageConfigs({ ...minePresets.default, accurate: true }).sift).toEqual(stageConfigs(minePresets.default).sift);
  });

  it("--accurate false leaves the preset (and its hash) as it is; true changes the hash; other values are refused", () => {
    for (const preset of ["mimic", "default"] as const) {
      const off = parseMineConfig(preset, { accurate: "false" });
      expect(off).not.toHaveProperty("accurate");
      expect(configHash(off)).toBe(configHash(minePresets[preset]));
      const on = parseMineConfig(preset, { accurate: "true" });
      expect(on.accurate).toBe(true);
      expect(configHash(on)).not.toBe(configHash(minePresets[preset]));
    }
    expect(() => parseMineConfig("default", { accurate: "yes" })).toThrow(/--accurate must be true or false/);
  });
});
