import { describe, expect, it } from "vitest";
import { patchCorrespondences } from "../../src/geometry/correspondence.js";
import { cornerErrors } from "../../src/geometry/homography.js";
import { applyH, randomFeatures, syntheticPair } from "../../src/geometry/synthetic.js";
import { homographyAtGrid, twoView, twoViewBatch, twoViewPresets } from "../../src/geometry/two_view.js";
import { testGpu } from "../helpers.js";

describe("twoView: match -> RANSAC -> patch correspondences", () => {
  it("GPU chain equals the CPU-twin chain and recovers the true correspondences (mimic + default presets)", async () => {
    const gpu = await testGpu();
    const pairs = [syntheticPair(61, { outlierFraction: 0.3 }), syntheticPair(62, { outlierFraction: 0.5 }), syntheticPair(63)];
    const feats = pairs.flatMap((p) => [p.a, p.b]);
    const list = pairs.map((_, i) => [2 * i, 2 * i + 1] as const);
    for (const cfg of [twoViewPresets.mimic, twoViewPresets.default]) {
      const g = await twoViewBatch(gpu, feats, list, cfg);
      const c = await twoViewBatch("cpu", feats, list, cfg);
      const truth = await patchCorrespondences(
        "cpu",
        pairs.map((p) => p.H),
        { ...cfg.correspondence, mode: "mimic" },
      );
      g.forEach((r, i) => {
        expect(r.homography.kind).toBe("model");
        expect(Array.from(r.matches.idx)).toEqual(Array.from(c[i].matches.idx));
        expect(r.correspondence && [...r.correspondence.map]).toEqual(c[i].correspondence && [...c[i].correspondence.map]);
        if (r.homography.kind !== "model" || !r.correspondence) return;
        const errs = cornerErrors(r.homography.fit.H, pairs[i].H, 224, 224).sort((x, y) => x - y);
        expect((errs[1] + errs[2]) / 2, `pair ${i}: median corner error`).toBeLessThan(1);
        // correspondences: most agree exactly with those of the true H (a 1 px error flips split patches,
        // and a flip cascades through MIMIC's first-come one-to-one pass); all are within one patch
        let same = 0;
        for (const [k, v] of r.correspondence.map) {
          if (truth[i].map.get(k) === v) same++;
          const [u, w] = applyH(pairs[i].H, (k % 14) * 16 + 8, Math.floor(k / 14) * 16 + 8);
          const cheb = Math.max(Math.abs(Math.floor(u / 16) - (v % 14)), Math.abs(Math.floor(w / 16) - Math.floor(v / 14)));
          expect(cheb, `pair ${i}: patch ${k} -> ${v}, true centre maps to (${u.toFixed(1)}, ${w.toFixed(1)})`).toBeLessThanOrEqual(1);
        }
        expect(same / r.correspondence.map.size).toBeGreaterThan(0.8);
      });
    }
  });

  it("no model from unrelated features; native-size H is rescaled to the grid", async () => {
    const gpu = await testGpu();
    const r = await twoView(gpu, randomFeatures(1, 150), randomFeatures(2, 150), twoViewPresets.mimic);
    expect(r.homography.kind).toBe("none");
    expect(r.correspondence).toBeNull();
    // translation of 20 px at 448 x 448 = 10 px at 224
    const G = homographyAtGrid(
      [1, 0, 20, 0, 1, 0, 0, 0, 1],
      { width: 448, height: 448 },
      { width: 448, height: 448 },
      { width: 224, height: 224 },
    );
    expect(Math.max(...cornerErrors(G, [1, 0, 10, 0, 1, 0, 0, 0, 1], 224, 224))).toBeLessThan(1e-9);
  });
});
