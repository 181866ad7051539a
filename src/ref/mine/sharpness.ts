// CPU twin of shaders/mine/laplacian_var.wgsl: variance of the 3x3 Laplacian of gray frames
// (values in [0, 1], scaled to [0, 255]), reflect-101 border. gray: (N, H, W) -> (N).
import { reflect101 } from "../image.js";

export function laplacianVarianceRef(gray: Float32Array, n: number, h: number, w: number): Float32Array {
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) {
    const at = (y: number, x: number) => gray[f * h * w + reflect101(y, h) * w + reflect101(x, w)];
    let a = 0;
    let b = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = 255 * (at(y, x - 1) + at(y, x + 1) + at(y - 1, x) + at(y + 1, x) - 4 * at(y, x));
        a += v;
        b += v * v;
      }
    const mean = a / (h * w);
    out[f] = Math.max(b / (h * w) - mean * mean, 0);
  }
  return out;
}
