import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CvRng, findHomographyCv, ransacUpdateNumIters } from "../../src/geometry/opencv_homography.js";
import { ransacBatch, ransacPresets } from "../../src/geometry/ransac.js";

// What python3-opencv 4.6's cv2.findHomography(RANSAC, 5.0) returned (fixtures/make_find_homography.py).
const fixture = JSON.parse(
  fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "find_homography.json"), "utf8"),
) as { cases: Array<{ xa: number[]; xb: number[]; H: number[] | null; mask: number[] | null }> };

const cornerError = (H: ArrayLike<number>, G: ArrayLike<number>) => {
  let e = 0;
  for (const [x, y] of [
    [0, 0],
    [224, 0],
    [0, 224],
    [224, 224],
  ]) {
    const p = (M: ArrayLike<number>) => {
      const w = M[6] * x + M[7] * y + M[8];
      return [(M[0] * x + M[1] * y + M[2]) / w, (M[3] * x + M[4] * y + M[5]) / w];
    };
    const [a, b] = [p(H), p(G)];
    e = Math.max(e, Math.hypot(a[0] - b[0], a[1] - b[1]));
  }
  return e;
};

describe("findHomographyCv: cv2.findHomography(RANSAC) reproduced (src/geometry/opencv_homography.ts)", () => {
  it("cv::RNG(2^64 - 1) stream and RANSACUpdateNumIters", () => {
    // cv::RNG::next in 64-bit integers, from state 2^64 - 1
    const r = new CvRng();
    let state = 0xffffffffffffffffn;
    for (let i = 0; i < 1000; i++) {
      state = (state & 0xffffffffn) * 4164903690n + (state >> 32n);
      expect(r.next()).toBe(Number(state & 0xffffffffn));
    }
    expect(ransacUpdateNumIters(0.995, 0, 2000)).toBe(0);
    expect(ransacUpdateNumIters(0.995, 0.5, 2000)).toBe(Math.round(Math.log(0.005) / Math.log(1 - 0.5 ** 4)));
    expect(ransacUpdateNumIters(0.995, 0.99, 2000)).toBe(2000);
  });

  it(`same inlier masks and homographies as OpenCV on ${fixture.cases.length} noisy problems with outliers`, async () => {
    for (const [i, c] of fixture.cases.entries()) {
      const r = findHomographyCv(Float32Array.from(c.xa), Float32Array.from(c.xb), 5, 0.995, 2000);
      if (!c.H || !c.mask) {
        expect(r, `case ${i}: OpenCV found no model`).toBeNull();
        continue;
      }
      if (!r) expect.fail(`case ${i}: no model, OpenCV found one`);
      const bad = Array.from(r.mask).findIndex((v, k) => v !== c.mask?.[k]);
      expect(bad, `case ${i}: mask differs first at match ${bad}`).toBe(-1);
      const e = cornerError(r.H, c.H);
      if (!(e < 1e-3)) expect.fail(`case ${i}: corner error ${e} px vs OpenCV's H`);
    }
    // through ransacBatch with the mimic preset (mode 'opencv', > 10 matches needed)
    const c = fixture.cases[0];
    const [res] = await ransacBatch("cpu", [{ xa: Float32Array.from(c.xa), xb: Float32Array.from(c.xb) }], ransacPresets.mimic);
    expect(res.kind).toBe("model");
    if (res.kind === "model" && c.mask) expect(res.fit.numInliers).toBe(c.mask.reduce((s, v) => s + v, 0));
  });
});
