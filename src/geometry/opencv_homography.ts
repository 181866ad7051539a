// cv2.findHomography(src, dst, cv2.RANSAC, threshold) as OpenCV 4.x computes it, on the host, so
// that `mimic mine --preset mimic` fits the same homographies as MIMIC's apply_sift:
//   - RANSACPointSetRegistrator::run (calib3d/src/ptsetreg.cpp): cv::RNG seeded with 2^64 - 1 at
//     every call, 4-point subsets drawn with rng.uniform(0, count) (no repeats), rejected while
//     HomographyEstimatorCallback::checkSubset fails (the 4th point collinear with two others in
//     either view, or the triples' orientations disagreeing between the views); each model's
//     inliers are the matches with float32 squared error <= threshold^2; a model replaces the best
//     when it has more inliers (and > 3); each new best lowers the iteration bound
//     (RANSACUpdateNumIters), so the run stops after the first few good hypotheses.
//   - runKernel: DLT on points normalised by their centroid and mean absolute deviation, solved as
//     the eigenvector of the smallest eigenvalue of LtL (9x9), scaled to h33 = 1.
//   - findHomography's finish (calib3d/src/fundam.cpp): runKernel on the best model's inliers, then
//     10 iterations of LMSolver (Fletcher's Levenberg-Marquardt, calib3d/src/levmarq.cpp) on their
//     reprojection error in view b. The mask (and inlier count) stays the RANSAC model's.
// Hypotheses are drawn in sequence with one random stream, so this runs on the CPU; it is cheap
// (tens of hypotheses for the match counts of frame pairs). The GPU RANSAC (ransac.ts) is the
// batched alternative that the default preset uses.
import type { Features, Matches } from "../contracts.js";
import { smallestEigenvector9, solveSymmetric } from "./homography.js";

const f = Math.fround;
const FLT_EPSILON = 1.1920928955078125e-7;
const DBL_EPSILON = 2.220446049250313e-16;

/** cv::RNG: multiply-with-carry, state (uint64) = (u32)state * 4164903690 + (state >> 32). */
export class CvRng {
  // the 64-bit state as two u32 halves (plain doubles: every intermediate stays below 2^53)
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  next(): number {
    const a0 = this.lo & 0xffff;
    const a1 = this.lo >>> 16;
    const c0 = 4164903690 & 0xffff;
    const c1 = 4164903690 >>> 16;
    const mid = a0 * c1 + a1 * c0; // < 2^33
    let low = a0 * c0 + (mid % 65536) * 65536; // < 2^33
    let high = a1 * c1 + Math.floor(mid / 65536);
    low += this.hi;
    high += Math.floor(low / 4294967296);
    this.lo = low % 4294967296;
    this.hi = high % 4294967296;
    return this.lo;
  }
  /** rng.uniform(a, b) for ints: a + next() % (b - a). */
  uniform(a: number, b: number): number {
    return a === b ? a : (this.next() % (b - a)) + a;
  }
}

/** RANSACUpdateNumIters(p, ep, modelPoints = 4, maxIters). */
export function ransacUpdateNumIters(p: number, ep: number, maxIters: number): number {
  const pc = Math.min(Math.max(p, 0), 1);
  const e = Math.min(Math.max(ep, 0), 1);
  let num = Math.max(1 - pc, Number.MIN_VALUE);
  let denom = 1 - (1 - e) ** 4;
  if (denom < 2.2250738585072014e-308) return 0;
  num = Math.log(num);
  denom = Math.log(denom);
  return denom >= 0 || -num >= maxIters * -denom ? maxIters : cvRound(num / denom);
}

/** cvRound: round half to even. */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** HomographyEstimatorCallback::runKernel on rows idx of (xa -> xb); null when degenerate. */
export function cvHomographyKernel(xa: ArrayLike<number>, xb: ArrayLike<number>, idx: ArrayLike<number>): Float64Array | null {
  const n = idx.length;
  let cmx = 0;
  let cmy = 0;
  let cMx = 0;
  let cMy = 0;
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    cmx += xb[2 * k];
    cmy += xb[2 * k + 1];
    cMx += xa[2 * k];
    cMy += xa[2 * k + 1];
  }
  cmx /= n;
  cmy /= n;
  cMx /= n;
  cMy /= n;
  let smx = 0;
  let smy = 0;
  let sMx = 0;
  let sMy = 0;
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    smx += Math.abs(xb[2 * k] - cmx);
    smy += Math.abs(xb[2 * k + 1] - cmy);
    sMx += Math.abs(xa[2 * k] - cMx);
    sMy += Math.abs(xa[2 * k + 1] - cMy);
  }
  if (Math.abs(smx) < DBL_EPSILON || Math.abs(smy) < DBL_EPSILON || Math.abs(sMx) < DBL_EPSILON || Math.abs(sMy) < DBL_EPSILON) return null;
  smx = n / smx;
  smy = n / smy;
  sMx = n / sMx;
  sMy = n / sMy;
  const LtL = new Array<number>(81).fill(0);
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    const x = (xb[2 * k] - cmx) * smx;
    const y = (xb[2 * k + 1] - cmy) * smy;
    const X = (xa[2 * k] - cMx) * sMx;
    const Y = (xa[2 * k + 1] - cMy) * sMy;
    const Lx = [X, Y, 1, 0, 0, 0, -x * X, -x * Y, -x];
    const Ly = [0, 0, 0, X, Y, 1, -y * X, -y * Y, -y];
    for (let j = 0; j < 9; j++) for (let q = j; q < 9; q++) LtL[j * 9 + q] += Lx[j] * Lx[q] + Ly[j] * Ly[q];
  }
  const h0 = smallestEigenvector9(LtL);
  // H = invHnorm * H0 * Hnorm2
  const invHnorm = [1 / smx, 0, cmx, 0, 1 / smy, cmy, 0, 0, 1];
  const Hnorm2 = [sMx, 0, -cMx * sMx, 0, sMy, -cMy * sMy, 0, 0, 1];
  const H = mul(mul(invHnorm, h0), Hnorm2);
  if (!H.every(Number.isFinite) || H[8] === 0) return null;
  return Float64Array.from(H, (v) => v / H[8]);
}

function mul(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  const C = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) C[i * 3 + j] += A[i * 3 + k] * B[k * 3 + j];
  return C;
}

/** HomographyEstimatorCallback::computeError in float32: squared reprojection error in view b. */
function errors(H: ArrayLike<number>, xa: Float32Array, xb: Float32Array, out: Float32Array): void {
  const h = Array.from({ length: 8 }, (_, i) => f(H[i]));
  const m = xa.length / 2;
  for (let i = 0; i < m; i++) {
    const X = xa[2 * i];
    const Y = xa[2 * i + 1];
    const ww = f(1 / f(f(f(h[6] * X) + f(h[7] * Y)) + 1));
    const dx = f(f(f(f(f(h[0] * X) + f(h[1] * Y)) + h[2]) * ww) - xb[2 * i]);
    const dy = f(f(f(f(f(h[3] * X) + f(h[4] * Y)) + h[5]) * ww) - xb[2 * i + 1]);
    out[i] = f(f(dx * dx) + f(dy * dy));
  }
}

/** haveCollinearPoints(m, 4): the last point on a line through two earlier ones. */
function collinearLast(p: number[][]): boolean {
  const i = p.length - 1;
  for (let j = 0; j < i; j++) {
    const dx1 = p[j][0] - p[i][0];
    const dy1 = p[j][1] - p[i][1];
    for (let k = 0; k < j; k++) {
      const dx2 = p[k][0] - p[i][0];
      const dy2 = p[k][1] - p[i][1];
      if (Math.abs(dx2 * dy1 - dy2 * dx1) <= FLT_EPSILON * (Math.abs(dx1) + Math.abs(dy1) + Math.abs(dx2) + Math.abs(dy2))) return true;
    }
  }
  return false;
}

const det3 = (a: number[], b: number[], c: number[]) => a[0] * (b[1] - c[1]) - a[1] * (b[0] - c[0]) + (b[0] * c[1] - b[1] * c[0]);

/** HomographyEstimatorCallback::checkSubset for 4 correspondences. */
function subsetOk(src: number[][], dst: number[][]): boolean {
  if (collinearLast(src) || collinearLast(dst)) return false;
  const tt = [
    [0, 1, 2],
    [1, 2, 3],
    [0, 2, 3],
    [0, 1, 3],
  ];
  let negative = 0;
  for (const t of tt) if (det3(src[t[0]], src[t[1]], src[t[2]]) * det3(dst[t[0]], dst[t[1]], dst[t[2]]) < 0) negative++;
  return negative === 0 || negative === 4;
}

/**
 * LMSolver (OpenCV 4.x levmarq.cpp, Fletcher's variant) minimising the reprojection error of rows
 * (xa -> xb) over h1..h8 (h33 = 1), maxIters iterations, eps = FLT_EPSILON.
 */
export function cvRefineLM(
  H: ArrayLike<number>,
  xa: ArrayLike<number>,
  xb: ArrayLike<number>,
  rows: ArrayLike<number>,
  maxIters = 10,
): Float64Array {
  const lx = 8;
  const compute = (h: number[], wantJ: boolean) => {
    const r = new Array<number>(rows.length * 2);
    const A = new Array<number>(64).fill(0);
    const v = new Array<number>(8).fill(0);
    for (let i = 0; i < rows.length; i++) {
      const k = rows[i];
      const Mx = xa[2 * k];
      const My = xa[2 * k + 1];
      let ww = h[6] * Mx + h[7] * My + 1;
      ww = Math.abs(ww) > DBL_EPSILON ? 1 / ww : 0;
      const xi = (h[0] * Mx + h[1] * My + h[2]) * ww;
      const yi = (h[3] * Mx + h[4] * My + h[5]) * ww;
      r[2 * i] = xi - xb[2 * k];
      r[2 * i + 1] = yi - xb[2 * k + 1];
      if (wantJ) {
        const j1 = [Mx * ww, My * ww, ww, 0, 0, 0, -Mx * ww * xi, -My * ww * xi];
        const j2 = [0, 0, 0, Mx * ww, My * ww, ww, -Mx * ww * yi, -My * ww * yi];
        for (let p = 0; p < 8; p++) {
          v[p] += j1[p] * r[2 * i] + j2[p] * r[2 * i + 1];
          for (let q = 0; q < 8; q++) A[p * 8 + q] += j1[p] * j1[q] + j2[p] * j2[q];
        }
      }
    }
    return { r, A, v };
  };
  const norm2 = (r: number[]) => r.reduce((s, x) => s + x * x, 0);
  const normInf = (r: number[]) => r.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
  let x = Array.from({ length: 8 }, (_, i) => H[i] / H[8]);
  let cur = compute(x, true);
  let S = norm2(cur.r);
  const D = Array.from({ length: lx }, (_, i) => cur.A[i * 8 + i]);
  const Rlo = 0.25;
  const Rhi = 0.75;
  let lambda = 1;
  let lc = 0.75;
  let iter = 0;
  for (;;) {
    const Ap = cur.A.slice();
    for (let i = 0; i < lx; i++) Ap[i * 8 + i] += lambda * D[i];
    const d = solveSymmetric(Ap, cur.v, lx);
    if (!d) break;
    const xd = x.map((xi, i) => xi - d[i]);
    const rd = compute(xd, false).r;
    const Sd = norm2(rd);
    // temp_d = 2 v - A d; dS = d . temp_d
    let dS = 0;
    for (let i = 0; i < lx; i++) {
      let Ad = 0;
      for (let j = 0; j < lx; j++) Ad += cur.A[i * 8 + j] * d[j];
      dS += d[i] * (2 * cur.v[i] - Ad);
    }
    const R = (S - Sd) / (Math.abs(dS) > DBL_EPSILON ? dS : 1);
    if (R > Rhi) {
      lambda *= 0.5;
      if (lambda < lc) lambda = 0;
    } else if (R < Rlo) {
      const t = d.reduce((s, di, i) => s + di * cur.v[i], 0);
      let nu = (Sd - S) / (Math.abs(t) > DBL_EPSILON ? t : 1) + 2;
      nu = Math.min(Math.max(nu, 2), 10);
      if (lambda === 0) {
        // lc = 1 / max |diag(A^-1)|
        let maxval = DBL_EPSILON;
        for (let i = 0; i < lx; i++) {
          const e = new Array<number>(lx).fill(0);
          e[i] = 1;
          const col = solveSymmetric(cur.A.slice(), e, lx);
          if (col) maxval = Math.max(maxval, Math.abs(col[i]));
        }
        lambda = lc = 1 / maxval;
        nu *= 0.5;
      }
      lambda *= nu;
    }
    if (Sd < S) {
      S = Sd;
      x = xd;
      cur = compute(x, true);
    }
    iter++;
    if (!(iter < maxIters && normInf(d) >= FLT_EPSILON && normInf(cur.r) >= FLT_EPSILON)) break;
  }
  return Float64Array.from([...x, 1]);
}

export interface CvHomography {
  H: Float64Array;
  mask: Uint8Array;
  count: number;
  /** RANSAC iterations run. */
  iterations: number;
  /** Iteration of the best model. */
  best: number;
}

/**
 * cv2.findHomography(xa, xb, cv2.RANSAC, threshold, maxIters, confidence) for float32 points
 * (M, 2); null where OpenCV returns None (fewer than 4 points, no subset, no model).
 */
export function findHomographyCv(
  xa: Float32Array,
  xb: Float32Array,
  threshold: number,
  confidence = 0.995,
  maxIters = 2000,
): CvHomography | null {
  const count = xa.length / 2;
  if (count < 4) return null;
  const all = Array.from({ length: count }, (_, i) => i);
  if (count === 4) {
    const H = cvHomographyKernel(xa, xb, all);
    return H ? { H, mask: new Uint8Array(4).fill(1), count: 4, iterations: 0, best: 0 } : null;
  }
  const rng = new CvRng();
  const t = f(threshold * threshold);
  const err = new Float32Array(count);
  let niters = Math.max(maxIters, 1);
  let bestModel: Float64Array | null = null;
  let bestMask = new Uint8Array(count);
  let maxGood = 0;
  let bestIter = -1;
  let iter = 0;
  const idx = [0, 0, 0, 0];
  for (iter = 0; iter < niters; iter++) {
    // getSubset(maxAttempts = 10000)
    let found = false;
    for (let attempts = 0; attempts < 10000; attempts++) {
      for (let i = 0; i < 4; i++) {
        for (;;) {
          idx[i] = rng.uniform(0, count);
          let j = 0;
          while (j < i && idx[j] !== idx[i]) j++;
          if (j === i) break;
        }
      }
      const src = idx.map((k) => [xa[2 * k], xa[2 * k + 1]]);
      const dst = idx.map((k) => [xb[2 * k], xb[2 * k + 1]]);
      if (subsetOk(src, dst)) {
        found = true;
        break;
      }
    }
    if (!found) {
      if (iter === 0) return null;
      break;
    }
    const model = cvHomographyKernel(xa, xb, idx);
    if (!model) continue;
    errors(model, xa, xb, err);
    let good = 0;
    const mask = new Uint8Array(count);
    for (let i = 0; i < count; i++)
      if (err[i] <= t) {
        mask[i] = 1;
        good++;
      }
    if (good > Math.max(maxGood, 3)) {
      bestMask = mask;
      bestModel = model;
      maxGood = good;
      bestIter = iter;
      niters = ransacUpdateNumIters(confidence, (count - good) / count, niters);
    }
  }
  if (!bestModel || maxGood <= 0) return null;
  const rows = all.filter((i) => bestMask[i]);
  let H: Float64Array = bestModel;
  const ls = cvHomographyKernel(xa, xb, rows);
  if (ls) H = ls;
  H = cvRefineLM(H, xa, xb, rows, 10);
  return { H, mask: bestMask, count: maxGood, iterations: iter, best: bestIter };
}

/**
 * Matches in the order OpenCV's pipeline hands them to findHomography: BFMatcher's knnMatch answers
 * query keypoints in order, and SIFT::detectAndCompute returns keypoints sorted by
 * KeyPointsFilter::removeDuplicatedSorted (x ascending, then y ascending, size descending, angle
 * ascending, response descending, octave descending). RANSAC draws subsets by index, so the same
 * matches in another order give other hypotheses.
 */
export function opencvMatchOrder(a: Omit<Features, "desc"> & { response?: Float32Array; octave?: Int32Array }, m: Matches): Matches {
  const q = (i: number) => m.idx[2 * i];
  const order = Array.from({ length: m.count }, (_, i) => i).sort((i, j) => {
    const [p, r] = [q(i), q(j)];
    if (a.xy[2 * p] !== a.xy[2 * r]) return a.xy[2 * p] - a.xy[2 * r];
    if (a.xy[2 * p + 1] !== a.xy[2 * r + 1]) return a.xy[2 * p + 1] - a.xy[2 * r + 1];
    if (a.scale[p] !== a.scale[r]) return a.scale[r] - a.scale[p];
    if (a.angle[p] !== a.angle[r]) return a.angle[p] - a.angle[r];
    if (a.response && a.response[p] !== a.response[r]) return a.response[r] - a.response[p];
    if (a.octave && a.octave[p] !== a.octave[r]) return a.octave[r] - a.octave[p];
    return i - j;
  });
  const idx = new Uint32Array(2 * m.count);
  const ratio = new Float32Array(m.count);
  order.forEach((o, k) => {
    idx[2 * k] = m.idx[2 * o];
    idx[2 * k + 1] = m.idx[2 * o + 1];
    ratio[k] = m.ratio[o];
  });
  return { count: m.count, idx, ratio };
}
