// The CPU path (backend "cpu") and twin (re-exported by src/ref/geometry/) of shaders/geometry/ransac_homography.wgsl: the same PCG32 draws, degeneracy tests,
// 8x8 Gaussian elimination and inlier counts, in f32 arithmetic (Math.fround after every
// operation, in the kernel's order) so it agrees with the GPU on the best hypothesis.
import { Pcg32 } from "../prng.js";

const f = Math.fround;
const COLLINEAR_EPS = f(1e-3);
const PIVOT_EPS = f(1e-6);

export interface RansacHypotheses {
  counts: Uint32Array; // (P, K)
  hs: Float32Array; // (P, K, 9)
}

function cross3(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const l = f(f(bx - ax) * f(cy - ay));
  const r = f(f(by - ay) * f(cx - ax));
  return f(l - r);
}

const TRIPLES = [
  [0, 1, 2],
  [0, 1, 3],
  [0, 2, 3],
  [1, 2, 3],
];

function sampleOk(s: number[][]): boolean {
  for (const [i, j, k] of TRIPLES) {
    const ca = cross3(s[i][0], s[i][1], s[j][0], s[j][1], s[k][0], s[k][1]);
    const cb = cross3(s[i][2], s[i][3], s[j][2], s[j][3], s[k][2], s[k][3]);
    if (Math.abs(ca) < COLLINEAR_EPS || Math.abs(cb) < COLLINEAR_EPS || ca > 0 !== cb > 0) return false;
  }
  return true;
}

/** The 4-point DLT (h33 = 1) in f32, or null when a pivot is below PIVOT_EPS. */
export function dlt4f32(s: number[][]): Float32Array | null {
  const a = new Float32Array(72);
  for (let n = 0; n < 4; n++) {
    const [x, y, u, v] = s[n];
    a.set([x, y, 1, 0, 0, 0, -f(u * x), -f(u * y), u], 18 * n);
    a.set([0, 0, 0, x, y, 1, -f(v * x), -f(v * y), v], 18 * n + 9);
  }
  for (let c = 0; c < 8; c++) {
    let piv = c;
    let best = Math.abs(a[c * 9 + c]);
    for (let r = c + 1; r < 8; r++) {
      const v = Math.abs(a[r * 9 + c]);
      if (v > best) {
        best = v;
        piv = r;
      }
    }
    if (best < PIVOT_EPS) return null;
    if (piv !== c)
      for (let q = c; q < 9; q++) {
        const t = a[c * 9 + q];
        a[c * 9 + q] = a[piv * 9 + q];
        a[piv * 9 + q] = t;
      }
    const d = a[c * 9 + c];
    for (let r = c + 1; r < 8; r++) {
      const fac = f(a[r * 9 + c] / d);
      for (let q = c; q < 9; q++) a[r * 9 + q] = f(a[r * 9 + q] - f(fac * a[c * 9 + q]));
    }
  }
  const h = new Float32Array(9);
  h[8] = 1;
  for (let c = 7; c >= 0; c--) {
    let acc = a[c * 9 + 8];
    for (let q = c + 1; q < 8; q++) acc = f(acc - f(a[c * 9 + q] * h[q]));
    h[c] = f(acc / a[c * 9 + c]);
  }
  return h;
}

/**
 * pts (R, 4) normalised [xa, ya, xb, yb]; problems (P, 4) [first row, M, bitcast(thr2), 0];
 * hypotheses first .. first + count - 1 (PCG32 stream = hypothesis index).  Twin of
 * ransac_homography.wgsl (same argument order, outputs returned).
 */
export function ransacHypothesesCpu(
  pts: Float32Array,
  problems: Uint32Array,
  first: number,
  count: number,
  seed: number,
  maxAttempts: number,
): RansacHypotheses {
  const np = problems.length / 4;
  const counts = new Uint32Array(np * count);
  const hs = new Float32Array(np * count * 9);
  const thrView = new Float32Array(problems.buffer, problems.byteOffset, problems.length);
  for (let pi = 0; pi < np; pi++) {
    const row0 = problems[4 * pi];
    const m = problems[4 * pi + 1];
    const thr2 = thrView[4 * pi + 2];
    if (m < 4) continue;
    for (let k = 0; k < count; k++) {
      const out = pi * count + k;
      const rng = new Pcg32(seed, first + k);
      let s: number[][] | null = null;
      for (let attempt = 0; attempt < maxAttempts && !s; attempt++) {
        const idx: number[] = [];
        for (let j = 0; j < 4; j++) {
          for (;;) {
            const x = rng.nextBelow(m);
            if (!idx.includes(x)) {
              idx.push(x);
              break;
            }
          }
        }
        const cand = idx.map((i) => Array.from(pts.subarray(4 * (row0 + i), 4 * (row0 + i) + 4)));
        if (sampleOk(cand)) s = cand;
      }
      if (!s) continue;
      const h = dlt4f32(s);
      if (!h) continue;
      let cnt = 0;
      for (let i = 0; i < m; i++) {
        const o = 4 * (row0 + i);
        const [x, y, xb, yb] = [pts[o], pts[o + 1], pts[o + 2], pts[o + 3]];
        const w = f(f(f(h[6] * x) + f(h[7] * y)) + 1);
        const u = f(f(f(f(h[0] * x) + f(h[1] * y)) + h[2]) / w);
        const v = f(f(f(f(h[3] * x) + f(h[4] * y)) + h[5]) / w);
        const du = f(u - xb);
        const dv = f(v - yb);
        if (f(f(du * du) + f(dv * dv)) < thr2) cnt++;
      }
      counts[out] = cnt;
      hs.set(h, out * 9);
    }
  }
  return { counts, hs };
}
