import { describe, it } from "vitest";
import { downsample2, gaussianBlur, resizeBilinear, rgbToGray } from "../../src/image/kernels.js";
import { downsample2Ref, gaussianBlurRef, resizeBilinearRef, rgbToGrayRef } from "../../src/ref/image.js";
import { expectClose, randomBytes, randomFloats, testGpu } from "../helpers.js";
import { TOL } from "../tolerances.js";

// (h, w) sizes from the foundation issue, including degenerate and odd ones.
const SIZES: Array<[number, number]> = [
  [1, 1],
  [3, 7],
  [224, 224],
  [479, 641],
];

describe("image kernels vs CPU twins (src/ref/image.ts)", () => {
  for (const [h, w] of SIZES) {
    it(`rgb_to_gray ${w}x${h}`, async () => {
      const gpu = await testGpu();
      const rgb = randomBytes(h * w * 3, h * 1000 + w);
      expectClose(await rgbToGray(gpu, rgb, h * w), rgbToGrayRef(rgb, h * w), TOL.f32.elementwise, `rgb_to_gray ${w}x${h}`);
    });

    it(`resize_bilinear ${w}x${h} -> down, up and odd`, async () => {
      const gpu = await testGpu();
      const n = 2;
      const src = randomFloats(n * h * w, h + w);
      for (const [dh, dw] of [
        [Math.max(1, h >> 1), Math.max(1, Math.round(w / 3))],
        [h * 2 + 1, w + 3],
        [5, 9],
      ]) {
        const got = await resizeBilinear(gpu, src, n, h, w, dh, dw);
        expectClose(got, resizeBilinearRef(src, n, h, w, dh, dw), TOL.f32.stencil, `resize ${w}x${h} -> ${dw}x${dh}`);
      }
    });

    it(`gaussian_blur ${w}x${h} at several sigmas`, async () => {
      const gpu = await testGpu();
      const src = randomFloats(h * w, 3 * h + w);
      for (const sigma of [0.5, 1.6, 3.2]) {
        const got = await gaussianBlur(gpu, src, 1, h, w, sigma);
        expectClose(got, gaussianBlurRef(src, 1, h, w, sigma), TOL.f32.stencil * 2, `blur ${w}x${h} sigma ${sigma}`);
      }
    });

    it(`downsample2 ${w}x${h} (decimate and 2x2 mean)`, async () => {
      const gpu = await testGpu();
      const src = randomFloats(2 * h * w, 5 * h + w);
      for (const mode of [0, 1] as const)
        expectClose(
          await downsample2(gpu, src, 2, h, w, mode),
          downsample2Ref(src, 2, h, w, mode),
          TOL.f32.elementwise,
          `downsample2 mode ${mode} ${w}x${h}`,
        );
    });
  }
});
