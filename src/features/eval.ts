// Quality measures for features under a known homography (Mikolajczyk-style, positions only):
// repeatability and nearest-neighbour matching precision. Used by test/features and bench/sift.ts.
import type { Features } from "../contracts.js";

/** Apply a row-major 3x3 homography to (x, y). */
export function applyH(H: ArrayLike<number>, x: number, y: number): [number, number] {
  const d = H[6] * x + H[7] * y + H[8];
  return [(H[0] * x + H[1] * y + H[2]) / d, (H[3] * x + H[4] * y + H[5]) / d];
}

/** Inverse of a 3x3 matrix (row-major). */
export function invert3(m: ArrayLike<number>): number[] {
  const [a, b, c, d, e, f, g, h, i] = Array.from(m);
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) throw new Error("invert3: singular homography");
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

export interface WarpScore {
  /** Keypoints of A whose projection lies in B (margin applied), and of B whose back-projection lies in A. */
  visibleA: number;
  visibleB: number;
  /** Repeatability: distinct A positions (visible in B) with a B keypoint within tolPx, / min(distinct visible A, B positions). */
  repeatability: number;
  /** Fraction of visible A keypoints whose descriptor nearest neighbour in B lies within matchTolPx of the projection. */
  nnPrecision: number;
  /** Same count, divided by min(visibleA, visibleB) (Mikolajczyk's matching score). */
  matchingScore: number;
}

/**
 * Score features of image A against features of image B = A warped by H (A -> B).
 * Images are (wA x hA) and (wB x hB) px; keypoints nearer than `margin` px to a border after
 * projection are not counted as visible.
 */
export function scoreWarp(
  a: Features,
  b: Features,
  H: ArrayLike<number>,
  wA: number,
  hA: number,
  wB: number,
  hB: number,
  opts: { tolPx?: number; matchTolPx?: number; margin?: number } = {},
): WarpScore {
  const tol = opts.tolPx ?? 1.5;
  const mtol = opts.matchTolPx ?? 3;
  const margin = opts.margin ?? 4;
  const Hi = invert3(H);
  const inside = (x: number, y: number, w: number, h: number) => x >= margin && y >= margin && x < w - margin && y < h - margin;
  const visA: number[] = [];
  const proj: Array<[number, number]> = [];
  for (let i = 0; i < a.count; i++) {
    const p = applyH(H, a.xy[2 * i], a.xy[2 * i + 1]);
    if (inside(p[0], p[1], wB, hB)) {
      visA.push(i);
      proj.push(p);
    }
  }
  let visibleB = 0;
  const uniqueVisB = new Set<string>();
  for (let j = 0; j < b.count; j++) {
    const p = applyH(Hi, b.xy[2 * j], b.xy[2 * j + 1]);
    if (inside(p[0], p[1], wA, hA)) {
      visibleB++;
      uniqueVisB.add(`${b.xy[2 * j]},${b.xy[2 * j + 1]}`);
    }
  }
  // Repeated positions (deduplicate positions of multi-orientation keypoints first).
  const seen = new Set<string>();
  let repeated = 0;
  let uniqueA = 0;
  visA.forEach((i, k) => {
    const key = `${a.xy[2 * i]},${a.xy[2 * i + 1]}`;
    if (seen.has(key)) return;
    seen.add(key);
    uniqueA++;
    const [px, py] = proj[k];
    for (let j = 0; j < b.count; j++) {
      const dx = b.xy[2 * j] - px;
      const dy = b.xy[2 * j + 1] - py;
      if (dx * dx + dy * dy <= tol * tol) {
        repeated++;
        return;
      }
    }
  });
  const denomRep = Math.max(1, Math.min(uniqueA, uniqueVisB.size));
  // Nearest neighbours by descriptor (L2).
  let correct = 0;
  visA.forEach((i, k) => {
    let best = Number.POSITIVE_INFINITY;
    let bj = -1;
    for (let j = 0; j < b.count; j++) {
      let d = 0;
      for (let q = 0; q < 128; q++) {
        const t = a.desc[i * 128 + q] - b.desc[j * 128 + q];
        d += t * t;
      }
      if (d < best) {
        best = d;
        bj = j;
      }
    }
    if (bj < 0) return;
    const dx = b.xy[2 * bj] - proj[k][0];
    const dy = b.xy[2 * bj + 1] - proj[k][1];
    if (dx * dx + dy * dy <= mtol * mtol) correct++;
  });
  return {
    visibleA: visA.length,
    visibleB,
    repeatability: Math.min(1, repeated / denomRep),
    nnPrecision: visA.length ? correct / visA.length : 0,
    matchingScore: Math.min(1, correct / Math.max(1, Math.min(visA.length, visibleB))),
  };
}
