// Synthetic two-view features for tests and benchmarks: points of a textured plane seen in two
// views related by a known homography, with descriptor noise, pixel noise, a controlled fraction
// of outlier correspondences (b's point moved to a random place) and unmatched distractors.
// Everything is seeded (PCG32), so runs are reproducible.
import type { Features } from "../contracts.js";
import { Pcg32 } from "../prng.js";

export interface SyntheticPairOptions {
  /** Corresponding points (inliers + outliers). */
  points: number;
  /** Fraction of corresponding points whose position in b is random (0..1). */
  outlierFraction: number;
  /** Extra features per view with unrelated descriptors. */
  distractors: number;
  /** Gaussian position noise in b, px (standard deviation). */
  noisePx: number;
  /** Gaussian descriptor noise before renormalising (per component). */
  descNoise: number;
  /** Image size (square), px. */
  size: number;
  /** The true homography a -> b (row-major 3x3); default: a random moderate one (`randomHomography`). */
  H?: Float64Array;
}

export const syntheticDefaults: SyntheticPairOptions = {
  points: 300,
  outlierFraction: 0.3,
  distractors: 100,
  noisePx: 0.5,
  descNoise: 0.02,
  size: 224,
};

export interface SyntheticPair {
  a: Features;
  b: Features;
  H: Float64Array; // (3, 3) a -> b
  /** For every feature of a, its true partner in b, or -1 (distractor). Outliers' partners are set too. */
  partner: Int32Array; // (Na)
  /** 1 for a's features whose partner is an inlier of H. */
  inlier: Uint8Array; // (Na)
}

function gauss(r: Pcg32): number {
  const u = Math.max(r.nextFloat(), 1e-7);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextFloat());
}

function unitDescriptor(r: Pcg32, out: Float32Array, off: number, base?: Float32Array, baseOff = 0, noise = 0): void {
  let n = 0;
  for (let k = 0; k < 128; k++) {
    // SIFT-like: non-negative components
    const v = base ? Math.max(0, base[baseOff + k] + noise * gauss(r)) : r.nextFloat() ** 2;
    out[off + k] = v;
    n += v * v;
  }
  n = Math.sqrt(n) || 1;
  for (let k = 0; k < 128; k++) out[off + k] /= n;
}

/** Apply a row-major 3x3 homography to (x, y). */
export function applyH(H: ArrayLike<number>, x: number, y: number): [number, number] {
  const w = H[6] * x + H[7] * y + H[8];
  return [(H[0] * x + H[1] * y + H[2]) / w, (H[3] * x + H[4] * y + H[5]) / w];
}

/**
 * A random homography that keeps a size x size view mostly overlapping: rotation up to ~15 deg,
 * scale 0.8..1.25, shift up to `shift` of the size, mild perspective.
 */
export function randomHomography(seed: number, size: number, shift = 0.25): Float64Array {
  const r = new Pcg32(seed, 99);
  const u = () => 2 * r.nextFloat() - 1;
  const c = size / 2;
  const ang = 0.26 * u();
  const s = 1.25 ** u();
  const [tx, ty] = [shift * size * u(), shift * size * u()];
  const [px, py] = [(0.0008 * u()) / (size / 224), (0.0008 * u()) / (size / 224)];
  // T(c + t) * P * R*s * T(-c)
  const A = [s * Math.cos(ang), -s * Math.sin(ang), 0, s * Math.sin(ang), s * Math.cos(ang), 0, px, py, 1];
  const T1 = [1, 0, -c, 0, 1, -c, 0, 0, 1];
  const T2 = [1, 0, c + tx, 0, 1, c + ty, 0, 0, 1];
  const H = mul3(T2, mul3(A, T1));
  return Float64Array.from(H.map((v) => v / H[8]));
}

export function mul3(A: ArrayLike<number>, B: ArrayLike<number>): number[] {
  const C = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) C[3 * i + j] += A[3 * i + k] * B[3 * k + j];
  return C;
}

/** Two views' features related by a homography (see module comment). */
export function syntheticPair(seed: number, opts: Partial<SyntheticPairOptions> = {}): SyntheticPair {
  const o = { ...syntheticDefaults, ...opts };
  const H = o.H ?? randomHomography(seed, o.size);
  const r = new Pcg32(seed, 1);
  const na = o.points + o.distractors;
  const nb = o.points + o.distractors;
  const aXy = new Float32Array(2 * na);
  const aDesc = new Float32Array(128 * na);
  const bXy = new Float32Array(2 * nb);
  const bDesc = new Float32Array(128 * nb);
  // b's rows are a permutation, so matching indices differ between the views.
  const perm = Array.from({ length: nb }, (_, i) => i);
  for (let i = nb - 1; i > 0; i--) {
    const j = r.nextBelow(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const partner = new Int32Array(na).fill(-1);
  const inlier = new Uint8Array(na);
  const numOut = Math.round(o.points * o.outlierFraction);
  for (let i = 0; i < na; i++) {
    const x = r.nextFloat() * (o.size - 1);
    const y = r.nextFloat() * (o.size - 1);
    aXy.set([x, y], 2 * i);
    unitDescriptor(r, aDesc, 128 * i);
    if (i < o.points) {
      const jb = perm[i];
      partner[i] = jb;
      let [u, v] = applyH(H, x, y);
      if (i < numOut) [u, v] = [r.nextFloat() * (o.size - 1), r.nextFloat() * (o.size - 1)];
      else {
        inlier[i] = 1;
        u += o.noisePx * gauss(r);
        v += o.noisePx * gauss(r);
      }
      bXy.set([u, v], 2 * jb);
      unitDescriptor(r, bDesc, 128 * jb, aDesc, 128 * i, o.descNoise);
    }
  }
  for (let i = o.points; i < nb; i++) {
    const jb = perm[i];
    bXy.set([r.nextFloat() * (o.size - 1), r.nextFloat() * (o.size - 1)], 2 * jb);
    unitDescriptor(r, bDesc, 128 * jb);
  }
  const feats = (xy: Float32Array, desc: Float32Array, n: number): Features => ({
    count: n,
    xy,
    desc,
    scale: new Float32Array(n).fill(1.6),
    angle: new Float32Array(n),
  });
  return { a: feats(aXy, aDesc, na), b: feats(bXy, bDesc, nb), H, partner, inlier };
}

/** Random unit descriptors (non-negative, SIFT-like), (n, 128). */
export function randomFeatures(seed: number, n: number, size = 224): Features {
  const r = new Pcg32(seed, 3);
  const desc = new Float32Array(128 * n);
  const xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    unitDescriptor(r, desc, 128 * i);
    xy.set([r.nextFloat() * size, r.nextFloat() * size], 2 * i);
  }
  return { count: n, xy, desc, scale: new Float32Array(n).fill(1.6), angle: new Float32Array(n) };
}
