// CPU twins of shaders/image/*.wgsl: plain loops, the oracle for the kernels' tests. The ones
// production also runs on the CPU live in src/image/cpu.ts and are re-exported here under their
// twin names. Planes are row-major f32; batches of planes are (N, H, W).
export {
  blurPassCpu as blurPassRef,
  gaussianBlurCpu as gaussianBlurRef,
  gaussianTaps,
  reflect101,
  resizeBilinearCpu as resizeBilinearRef,
  rgbToGrayCpu as rgbToGrayRef,
} from "../image/cpu.js";

/** Halve (N, H, W) planes: mode 0 takes pixel (2x, 2y), mode 1 the 2x2 mean.  Twin of downsample2.wgsl. */
export function downsample2Ref(src: Float32Array, n: number, h: number, w: number, mode: 0 | 1): Float32Array {
  const w2 = Math.max(1, w >> 1);
  const h2 = Math.max(1, h >> 1);
  const dst = new Float32Array(n * h2 * w2);
  for (let z = 0; z < n; z++)
    for (let y = 0; y < h2; y++)
      for (let x = 0; x < w2; x++) {
        const at = (yy: number, xx: number) => src[z * h * w + Math.min(yy, h - 1) * w + Math.min(xx, w - 1)];
        const x0 = Math.min(2 * x, w - 1);
        const y0 = Math.min(2 * y, h - 1);
        dst[z * h2 * w2 + y * w2 + x] =
          mode === 0 ? at(y0, x0) : 0.25 * (at(y0, x0) + at(y0, x0 + 1) + at(y0 + 1, x0) + at(y0 + 1, x0 + 1));
      }
  return dst;
}
