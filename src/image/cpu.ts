// Image operations on the CPU, plain loops: what the probe (resize), the CLI (gray) and the
// synthetic textures (blur) use without a GPU, and the Gaussian taps the kernels' host code shares.
// They are also the CPU twins of shaders/image/*.wgsl (src/ref/image.ts re-exports them).
// Planes are row-major f32; batches of planes are (N, H, W).

/** RGB bytes (N*H*W*3) -> gray in [0, 1]: 0.299 R + 0.587 G + 0.114 B.  Twin of rgb_to_gray.wgsl. */
export function rgbToGrayCpu(rgb: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]) / 255;
  return out;
}

/** Bilinear resize with half-pixel centres, clamped border.  Twin of resize_bilinear.wgsl. */
export function resizeBilinearCpu(src: Float32Array, n: number, sh: number, sw: number, dh: number, dw: number): Float32Array {
  const dst = new Float32Array(n * dh * dw);
  for (let z = 0; z < n; z++)
    for (let y = 0; y < dh; y++)
      for (let x = 0; x < dw; x++) {
        // Source coordinates in f32 arithmetic, as the kernel computes them.
        const f = Math.fround;
        const sx = Math.max(f(f(f(x + 0.5) * f(sw / dw)) - 0.5), 0);
        const sy = Math.max(f(f(f(y + 0.5) * f(sh / dh)) - 0.5), 0);
        const x0 = Math.min(Math.floor(sx), sw - 1);
        const y0 = Math.min(Math.floor(sy), sh - 1);
        const x1 = Math.min(x0 + 1, sw - 1);
        const y1 = Math.min(y0 + 1, sh - 1);
        const fx = sx - x0;
        const fy = sy - y0;
        const at = (yy: number, xx: number) => src[z * sh * sw + yy * sw + xx];
        const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
        const bot = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
        dst[z * dh * dw + y * dw + x] = top + (bot - top) * fy;
      }
  return dst;
}

/**
 * Normalised Gaussian taps for `sigma`, radius as OpenCV picks it for float images
 * (ksize = round(8 sigma + 1) | 1). Shared by the kernel's host code and the twin.
 */
export function gaussianTaps(sigma: number): Float32Array {
  if (!(sigma > 0)) throw new Error(`Gaussian sigma must be > 0, got ${sigma}`);
  const ksize = Math.round(sigma * 8 + 1) | 1;
  const r = (ksize - 1) >> 1;
  const taps = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let k = -r; k <= r; k++) {
    taps[k + r] = Math.exp(-(k * k) / (2 * sigma * sigma));
    sum += taps[k + r];
  }
  return Float32Array.from(taps, (t) => t / sum);
}

/** Reflect-101 border index into [0, n). */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) {
    if (j < 0) j = -j;
    if (j >= n) j = 2 * n - 2 - j;
  }
  return j;
}

/**
 * One separable pass (axis 0 horizontal, 1 vertical), taps -r..r in order.  Twin of gaussian_blur.wgsl;
 * with `round = Math.fround` every product and sum is rounded to f32 (the twin of SIFT's sift_blur.wgsl).
 */
export function blurPassCpu(
  src: Float32Array,
  n: number,
  h: number,
  w: number,
  taps: Float32Array,
  axis: 0 | 1,
  round: (x: number) => number = (x) => x,
): Float32Array {
  const r = (taps.length - 1) >> 1;
  const dst = new Float32Array(src.length);
  for (let z = 0; z < n; z++) {
    const base = z * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) {
          const v = axis === 0 ? src[base + y * w + reflect101(x + k, w)] : src[base + reflect101(y + k, h) * w + x];
          acc = round(acc + round(taps[k + r] * v));
        }
        dst[base + y * w + x] = acc;
      }
  }
  return dst;
}

/** Separable Gaussian blur of (N, H, W) planes, reflect-101 border. */
export function gaussianBlurCpu(src: Float32Array, n: number, h: number, w: number, sigma: number): Float32Array {
  const taps = gaussianTaps(sigma);
  return blurPassCpu(blurPassCpu(src, n, h, w, taps, 0), n, h, w, taps, 1);
}
