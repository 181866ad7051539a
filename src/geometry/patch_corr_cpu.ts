// The CPU path of shaders/geometry/patch_corr.wgsl (backend "cpu"; f32 arithmetic in the kernel's order).
// It is also the kernel's CPU twin: src/ref/geometry/patch_corr.ts re-exports it.

export interface PatchGrid {
  /** Image width and height, px (MIMIC: 224 x 224). */
  width: number;
  height: number;
  /** Patch side, px (MIMIC: 16). */
  patch: number;
  /** Sample pixels per patch side, 1..16 (s x s samples; s = patch: every pixel, the area majority that MIMIC's 100 random pixels estimate). */
  samples: number;
}

export const gridCols = (g: PatchGrid) => Math.floor(g.width / g.patch);
export const gridRows = (g: PatchGrid) => Math.floor(g.height / g.patch);

/** Sample offset i (0 <= i < s) inside a patch, px. */
export const sampleOffset = (g: PatchGrid, i: number) => Math.floor(((2 * i + 1) * g.patch) / (2 * g.samples));

/** hs (N, 9) f32 -> (N, P) majority target patch per source patch (-1 = out). Twin of patch_corr.wgsl. */
export function patchCorrCpu(hs: Float32Array, g: PatchGrid): Int32Array {
  const f = Math.fround;
  const ncols = gridCols(g);
  const nrows = gridRows(g);
  const np = ncols * nrows;
  const nh = hs.length / 9;
  const out = new Int32Array(nh * np);
  const n = g.samples * g.samples;
  const vals = new Int32Array(n);
  for (let hi = 0; hi < nh; hi++) {
    const h = hs.subarray(9 * hi, 9 * hi + 9);
    for (let pi = 0; pi < np; pi++) {
      const x0 = (pi % ncols) * g.patch;
      const y0 = Math.floor(pi / ncols) * g.patch;
      for (let k = 0; k < n; k++) {
        const x = x0 + sampleOffset(g, k % g.samples);
        const y = y0 + sampleOffset(g, Math.floor(k / g.samples));
        const w = f(f(f(h[6] * x) + f(h[7] * y)) + h[8]);
        const u = f(f(f(f(h[0] * x) + f(h[1] * y)) + h[2]) / w);
        const v = f(f(f(f(h[3] * x) + f(h[4] * y)) + h[5]) / w);
        let t = -1;
        if (!(u < 0 || v < 0 || u >= g.width || v >= g.height) && !Number.isNaN(u) && !Number.isNaN(v)) {
          const col = Math.floor(Math.trunc(u) / g.patch);
          const row = Math.floor(Math.trunc(v) / g.patch);
          if (col < ncols && row < nrows) t = row * ncols + col;
        }
        vals[k] = t;
      }
      // find_majority: the first target to reach the highest count
      const counts = new Map<number, number>();
      let best = -1;
      let bestC = 0;
      for (let k = 0; k < n; k++) {
        const c = (counts.get(vals[k]) ?? 0) + 1;
        counts.set(vals[k], c);
        if (c > bestC) {
          bestC = c;
          best = vals[k];
        }
      }
      out[hi * np + pi] = best;
    }
  }
  return out;
}
