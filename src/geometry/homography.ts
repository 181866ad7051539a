// Float64 homography helpers used on the host: Hartley normalisation, least-squares normalised
// DLT (smallest eigenvector of A^T A by Jacobi rotations), reprojection inliers, 3x3 inverse.
// Row-major 3x3 arrays throughout; H maps view a to view b.

/** Similarity T (3x3) with T p = s (p - c): centroid to 0, mean distance sqrt 2. */
export function normalisingTransform(xy: ArrayLike<number>, rows: ArrayLike<number> | null, stride = 2, off = 0): number[] {
  const n = rows ? rows.length : xy.length / stride;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    cx += xy[r * stride + off];
    cy += xy[r * stride + off + 1];
  }
  cx /= n || 1;
  cy /= n || 1;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    d += Math.hypot(xy[r * stride + off] - cx, xy[r * stride + off + 1] - cy);
  }
  d /= n || 1;
  const s = d > 0 ? Math.SQRT2 / d : 1;
  return [s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1];
}

export function mul3x3(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  const C = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) C[3 * i + j] += A[3 * i + k] * B[3 * k + j];
  return C;
}

/** Inverse of a 3x3 matrix (adjugate / determinant); throws when singular. */
export function invert3x3(m: ArrayLike<number>): number[] {
  const [a, b, c, d, e, f, g, h, i] = Array.from(m);
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) throw new Error("homography is singular (determinant 0); cannot invert");
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

/** Scale so H[8] = 1 (when H[8] is not ~0). */
export function normaliseH(H: ArrayLike<number>): Float64Array {
  const s = Math.abs(H[8]) > 1e-12 ? H[8] : 1;
  return Float64Array.from(H, (v) => v / s);
}

/**
 * The DLT solution of a homography: the eigenvector of the smallest eigenvalue of the 9x9 normal
 * matrix whose upper triangle (q >= p) has been accumulated in `S` (the lower one is mirrored in place).
 */
export function smallestEigenvector9(S: number[] | Float64Array): number[] {
  for (let p = 0; p < 9; p++) for (let q = 0; q < p; q++) S[p * 9 + q] = S[q * 9 + p];
  const { values, vectors } = symmetricEigen(S, 9);
  let min = 0;
  for (let i = 1; i < 9; i++) if (values[i] < values[min]) min = i;
  return Array.from({ length: 9 }, (_, i) => vectors[i * 9 + min]);
}
/** Eigen decomposition of a symmetric n x n matrix (cyclic Jacobi). Returns values and column vectors. */
export function symmetricEigen(S: ArrayLike<number>, n: number): { values: number[]; vectors: number[] } {
  const a = Array.from(S);
  const v = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

/**
 * Least-squares homography from correspondences a[i] -> b[i] (rows = which ones), by the
 * normalised DLT: minimise |A h| with |h| = 1 in Hartley-normalised coordinates. Needs >= 4 rows.
 * xa, xb: (N, 2) px.
 */
export function dltLeastSquares(xa: ArrayLike<number>, xb: ArrayLike<number>, rows: ArrayLike<number>): Float64Array | null {
  if (rows.length < 4) return null;
  const Ta = normalisingTransform(xa, rows);
  const Tb = normalisingTransform(xb, rows);
  const AtA = new Array<number>(81).fill(0);
  const r1 = new Array<number>(9);
  const r2 = new Array<number>(9);
  for (let i = 0; i < rows.length; i++) {
    const k = rows[i];
    const x = Ta[0] * xa[2 * k] + Ta[2];
    const y = Ta[4] * xa[2 * k + 1] + Ta[5];
    const u = Tb[0] * xb[2 * k] + Tb[2];
    const v = Tb[4] * xb[2 * k + 1] + Tb[5];
    r1.splice(0, 9, x, y, 1, 0, 0, 0, -u * x, -u * y, -u);
    r2.splice(0, 9, 0, 0, 0, x, y, 1, -v * x, -v * y, -v);
    for (let p = 0; p < 9; p++) for (let q = p; q < 9; q++) AtA[p * 9 + q] += r1[p] * r1[q] + r2[p] * r2[q];
  }
  const hn = smallestEigenvector9(AtA);
  const H = mul3x3(invert3x3(Tb), mul3x3(hn, Ta));
  if (!H.every(Number.isFinite) || Math.abs(H[8]) < 1e-12) return null;
  return normaliseH(H);
}

/** Squared reprojection error of a[k] -> b[k] under H (Infinity when the point maps to infinity). */
export function reprojError2(H: ArrayLike<number>, xa: ArrayLike<number>, xb: ArrayLike<number>, k: number): number {
  const x = xa[2 * k];
  const y = xa[2 * k + 1];
  const w = H[6] * x + H[7] * y + H[8];
  if (w === 0) return Number.POSITIVE_INFINITY;
  const du = (H[0] * x + H[1] * y + H[2]) / w - xb[2 * k];
  const dv = (H[3] * x + H[4] * y + H[5]) / w - xb[2 * k + 1];
  return du * du + dv * dv;
}

/** Inlier mask (error < threshold px) and count. */
export function inliersOf(
  H: ArrayLike<number>,
  xa: ArrayLike<number>,
  xb: ArrayLike<number>,
  threshold: number,
): { mask: Uint8Array; count: number } {
  const m = xa.length / 2;
  const mask = new Uint8Array(m);
  const t2 = threshold * threshold;
  let count = 0;
  for (let k = 0; k < m; k++)
    if (reprojError2(H, xa, xb, k) < t2) {
      mask[k] = 1;
      count++;
    }
  return { mask, count };
}

/** Mean corner displacement (px) of H vs a reference over a w x h image: |H c - Href c| at the 4 corners. */
export function cornerErrors(H: ArrayLike<number>, Href: ArrayLike<number>, w: number, h: number): number[] {
  const corners = [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ];
  return corners.map(([x, y]) => {
    const p = (M: ArrayLike<number>) => {
      const ww = M[6] * x + M[7] * y + M[8];
      return [(M[0] * x + M[1] * y + M[2]) / ww, (M[3] * x + M[4] * y + M[5]) / ww];
    };
    const [a, b] = [p(H), p(Href)];
    return Math.hypot(a[0] - b[0], a[1] - b[1]);
  });
}

/**
 * Gauss-Newton (Levenberg-Marquardt damped) refinement of H (h33 = 1) minimising the squared
 * reprojection error in view b over `rows`, as OpenCV's findHomography refines its RANSAC model.
 * Returns the input when no step lowers the error.
 */
export function refineReprojection(
  H0: ArrayLike<number>,
  xa: ArrayLike<number>,
  xb: ArrayLike<number>,
  rows: ArrayLike<number>,
  iterations = 10,
  /** Weight of each row's squared error (absent: all 1, the plain least squares). */
  weights?: ArrayLike<number>,
): Float64Array {
  let h = Array.from(normaliseH(H0));
  const wt = (i: number) => (weights ? weights[i] : 1);
  const cost = (hh: number[]) => {
    let c = 0;
    for (let i = 0; i < rows.length; i++) c += wt(i) * reprojError2(hh, xa, xb, rows[i]);
    return c;
  };
  let c0 = cost(h);
  let lambda = 1e-3;
  for (let it = 0; it < iterations; it++) {
    const JtJ = new Array<number>(64).fill(0);
    const Jtr = new Array<number>(8).fill(0);
    for (let i = 0; i < rows.length; i++) {
      const k = rows[i];
      const x = xa[2 * k];
      const y = xa[2 * k + 1];
      const w = h[6] * x + h[7] * y + 1;
      const u = (h[0] * x + h[1] * y + h[2]) / w;
      const v = (h[3] * x + h[4] * y + h[5]) / w;
      const ru = u - xb[2 * k];
      const rv = v - xb[2 * k + 1];
      const ju = [x / w, y / w, 1 / w, 0, 0, 0, (-u * x) / w, (-u * y) / w];
      const jv = [0, 0, 0, x / w, y / w, 1 / w, (-v * x) / w, (-v * y) / w];
      const wi = wt(i);
      for (let p = 0; p < 8; p++) {
        Jtr[p] += wi * (ju[p] * ru + jv[p] * rv);
        for (let q = 0; q < 8; q++) JtJ[p * 8 + q] += wi * (ju[p] * ju[q] + jv[p] * jv[q]);
      }
    }
    let improved = false;
    for (let tries = 0; tries < 5 && !improved; tries++) {
      const A = JtJ.slice();
      for (let p = 0; p < 8; p++) A[p * 8 + p] *= 1 + lambda;
      const d = solveSymmetric(
        A,
        Jtr.map((v) => -v),
        8,
      );
      if (!d) break;
      const h2 = h.slice();
      for (let p = 0; p < 8; p++) h2[p] += d[p];
      const c2 = cost(h2);
      if (c2 < c0) {
        const gain = c0 - c2;
        h = h2;
        improved = true;
        lambda = Math.max(lambda / 10, 1e-9);
        if (gain < 1e-12 * c0) it = iterations;
        c0 = c2;
      } else lambda *= 10;
    }
    if (!improved) break;
  }
  return Float64Array.from(h);
}

/** Solve A x = b (n x n) by Gaussian elimination with partial pivoting (float64); null when singular. */
export function solveSymmetric(A: number[], b: number[], n: number): number[] | null {
  const a = A.slice();
  const r = b.slice();
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i * n + c]) > Math.abs(a[piv * n + c])) piv = i;
    if (Math.abs(a[piv * n + c]) < 1e-300) return null;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [a[c * n + k], a[piv * n + k]] = [a[piv * n + k], a[c * n + k]];
      [r[c], r[piv]] = [r[piv], r[c]];
    }
    for (let i = c + 1; i < n; i++) {
      const f = a[i * n + c] / a[c * n + c];
      for (let k = c; k < n; k++) a[i * n + k] -= f * a[c * n + k];
      r[i] -= f * r[c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let c = n - 1; c >= 0; c--) {
    let s = r[c];
    for (let k = c + 1; k < n; k++) s -= a[c * n + k] * x[k];
    x[c] = s / a[c * n + c];
  }
  return x.every(Number.isFinite) ? x : null;
}
