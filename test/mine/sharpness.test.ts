import { describe, expect, it } from "vitest";
import { sharpness } from "../../src/mine/sharpness.js";
import { gaussianBlurRef } from "../../src/ref/image.js";
import { laplacianVarianceRef } from "../../src/ref/mine/sharpness.js";
import { randomFloats, testGpu } from "../helpers.js";

describe("laplacian_var.wgsl (blur filter) vs its CPU twin", () => {
  for (const [h, w] of [
    [1, 1],
    [3, 7],
    [61, 97],
    [224, 224],
  ] as const) {
    it(`${w}x${h}, batch of 3`, async () => {
      const gpu = await testGpu();
      const g = randomFloats(3 * h * w, h * 31 + w);
      const got = await sharpness(gpu, g, 3, h, w);
      const want = laplacianVarianceRef(g, 3, h, w);
      for (let i = 0; i < 3; i++) {
        const rel = Math.abs(got[i] - want[i]) / Math.max(1, want[i]);
        if (!(rel < 1e-4)) expect.fail(`frame ${i}: gpu ${got[i]} cpu ${want[i]} (rel err ${rel})`);
      }
    });
  }

  it("ranks a blurred frame below the sharp one", async () => {
    const gpu = await testGpu();
    const g = randomFloats(64 * 64, 5);
    const both = new Float32Array(2 * 64 * 64);
    both.set(g);
    both.set(gaussianBlurRef(g, 1, 64, 64, 2), 64 * 64);
    const [sharp, blurred] = await sharpness(gpu, both, 2, 64, 64);
    expect(sharp).toBeGreaterThan(20 * blurred);
  });
});
