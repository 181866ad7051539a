// The CPU layer library: plain loops over float32 or float64 arrays with float64 arithmetic inside,
// one implementation per layer. Output arrays take the caller's precision (`F`, float64 by
// default): the float32 CPU model (src/models/mim_cpu.ts) and the probe's CPU head trainer ask
// for Float32Array where speed and memory matter, the float64 twins in src/ref/ (the oracle of the
// GPU kernels) use the float64 default. Same argument order as the GPU builders (src/nn/*.ts):
// inputs, params, outputs, sizes.

export type Arr = ArrayLike<number>;
export type FloatArray = Float32Array | Float64Array;
export type FloatArrayConstructor<T extends FloatArray> = new (length: number) => T;

// ---- GELU (exact, erf) ----

/** erf(x) to ~1e-14: Maclaurin series for |x| < 3, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 10) return x < 0 ? -1 : 1;
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** Exact GELU x * Phi(x). */
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** d gelu / dx = Phi(x) + x phi(x). */
export const geluGrad = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327;

// ---- Linear (PyTorch layout: W (out, in)) ----

/**
 * C (M, N) (+)= A (M, K) @ B^T (+ bias), B (N, K): float64 dot products over contiguous K, 4 columns
 * at a time, each starting from bias[n] (or 0) and summing k in order.
 */
function gemmNT(A: Arr, B: Arr, M: number, K: number, N: number, C: FloatArray, accumulate: boolean, bias: Arr | null = null): void {
  const n4 = N - (N % 4);
  for (let m = 0; m < M; m++) {
    const ao = m * K;
    const co = m * N;
    let n = 0;
    for (; n < n4; n += 4) {
      const b0 = n * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s0 = bias ? bias[n] : 0;
      let s1 = bias ? bias[n + 1] : 0;
      let s2 = bias ? bias[n + 2] : 0;
      let s3 = bias ? bias[n + 3] : 0;
      for (let k = 0; k < K; k++) {
        const a = A[ao + k];
        s0 += a * B[b0 + k];
        s1 += a * B[b1 + k];
        s2 += a * B[b2 + k];
        s3 += a * B[b3 + k];
      }
      if (accumulate) {
        C[co + n] += s0;
        C[co + n + 1] += s1;
        C[co + n + 2] += s2;
        C[co + n + 3] += s3;
      } else {
        C[co + n] = s0;
        C[co + n + 1] = s1;
        C[co + n + 2] = s2;
        C[co + n + 3] = s3;
      }
    }
    for (; n < N; n++) {
      let s = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) s += A[ao + k] * B[n * K + k];
      C[co + n] = accumulate ? C[co + n] + s : s;
    }
  }
}

/** (cols, rows) = (rows, cols)^T, exact (float64). */
function transpose64(x: Arr, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
  return t;
}

/** y (M, out) = x (M, in) @ W^T + b: each output a float64 sum from the bias over `in` in order. */
export function linearForward(x: Arr, w: Arr, b: Arr | null, M: number, inF: number, outF: number): Float64Array;
export function linearForward<T extends FloatArray>(
  x: Arr,
  w: Arr,
  b: Arr | null,
  M: number,
  inF: number,
  outF: number,
  F: FloatArrayConstructor<T>,
): T;
export function linearForward(
  x: Arr,
  w: Arr,
  b: Arr | null,
  M: number,
  inF: number,
  outF: number,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): FloatArray {
  const y = new F(M * outF);
  gemmNT(x, w, M, inF, outF, y, false, b);
  return y;
}

/**
 * Linear backward: dW (out, in) += dy^T x and db (out) += colsum(dy), each a float64 sum over the
 * rows added once; returns dx (M, in) = dy @ W in precision F when wanted (else null).
 */
export function linearBackward(
  x: Arr,
  w: Arr,
  dy: Arr,
  dw: FloatArray,
  db: FloatArray | null,
  M: number,
  inF: number,
  outF: number,
  wantDx?: boolean,
): Float64Array | null;
export function linearBackward<T extends FloatArray>(
  x: Arr,
  w: Arr,
  dy: Arr,
  dw: FloatArray,
  db: FloatArray | null,
  M: number,
  inF: number,
  outF: number,
  wantDx: boolean,
  F: FloatArrayConstructor<T>,
): T | null;
export function linearBackward(
  x: Arr,
  w: Arr,
  dy: Arr,
  dw: FloatArray,
  db: FloatArray | null,
  M: number,
  inF: number,
  outF: number,
  wantDx = true,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): FloatArray | null {
  const dyT = transpose64(dy, M, outF); // (out, M)
  gemmNT(dyT, transpose64(x, M, inF), outF, M, inF, dw, true);
  if (db)
    for (let n = 0; n < outF; n++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dyT[n * M + m];
      db[n] += s;
    }
  if (!wantDx) return null;
  const dx = new F(M * inF);
  gemmNT(dy, transpose64(w, outF, inF), M, outF, inF, dx, false);
  return dx;
}

// ---- LayerNorm over the last dim (biased variance) ----

/** LayerNorm output y (N, C) in the caller's precision and the saved float64 mean and rstd (N). */
export interface LayernormOut<T extends FloatArray> {
  y: T;
  mean: Float64Array;
  rstd: Float64Array;
}

/** y = (x - mean) * rstd * w + b over rows of x (N, C); returns y and the saved mean, rstd (N). */
export function layernormForward(x: Arr, w: Arr, b: Arr, N: number, C: number, eps?: number): LayernormOut<Float64Array>;
export function layernormForward<T extends FloatArray>(
  x: Arr,
  w: Arr,
  b: Arr,
  N: number,
  C: number,
  eps: number,
  F: FloatArrayConstructor<T>,
): LayernormOut<T>;
export function layernormForward(
  x: Arr,
  w: Arr,
  b: Arr,
  N: number,
  C: number,
  eps = 1e-6,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): LayernormOut<FloatArray> {
  const y = new F(N * C);
  const mean = new Float64Array(N);
  const rstd = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[r * C + c];
    const mu = s / C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c] - mu) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) y[r * C + c] = (x[r * C + c] - mu) * rs * w[c] + b[c];
    mean[r] = mu;
    rstd[r] = rs;
  }
  return { y, mean, rstd };
}

/** dx (returned; added to `dxAcc` when given), dw += sum dy * xhat, db += sum dy. */
export function layernormBackward(
  x: Arr,
  dy: Arr,
  w: Arr,
  mean: Arr,
  rstd: Arr,
  dw: Float64Array,
  db: Float64Array,
  N: number,
  C: number,
  dxAcc?: Arr,
): Float64Array {
  const dx = new Float64Array(N * C);
  for (let r = 0; r < N; r++) {
    let sg = 0;
    let sgx = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (x[r * C + c] - mean[r]) * rstd[r];
      const g = dy[r * C + c] * w[c];
      sg += g;
      sgx += g * xhat;
      dw[c] += dy[r * C + c] * xhat;
      db[c] += dy[r * C + c];
    }
    for (let c = 0; c < C; c++) {
      const xhat = (x[r * C + c] - mean[r]) * rstd[r];
      dx[r * C + c] = rstd[r] * (dy[r * C + c] * w[c] - sg / C - (xhat * sgx) / C) + (dxAcc ? dxAcc[r * C + c] : 0);
    }
  }
  return dx;
}

// ---- Masked MSE (MAE's loss, optional per-patch target normalisation) ----

/** MAE loss: mean over masked patches of the per-patch MSE, target optionally normalised. */
export function maskedMse(pred: Arr, target: Arr, mask: Arr, R: number, F: number, norm: boolean) {
  const tn = new Float64Array(R * F);
  const lp = new Float64Array(R);
  let num = 0;
  let den = 0;
  for (let r = 0; r < R; r++) {
    let mu = 0;
    let rs = 1;
    if (norm) {
      for (let f = 0; f < F; f++) mu += target[r * F + f];
      mu /= F;
      let v = 0;
      for (let f = 0; f < F; f++) v += (target[r * F + f] - mu) ** 2;
      rs = 1 / Math.sqrt(v / Math.max(F - 1, 1) + 1e-6);
    }
    let acc = 0;
    for (let f = 0; f < F; f++) {
      const t = (target[r * F + f] - mu) * rs;
      tn[r * F + f] = t;
      acc += (pred[r * F + f] - t) ** 2;
    }
    lp[r] = acc / F;
    num += lp[r] * mask[r];
    den += mask[r];
  }
  return { loss: num / Math.max(den, 1e-12), lp, tn, maskSum: den };
}

export function maskedMseBackward(pred: Arr, tn: Arr, mask: Arr, maskSum: number, R: number, F: number, dloss = 1): Float64Array {
  const d = new Float64Array(R * F);
  for (let r = 0; r < R; r++)
    for (let f = 0; f < F; f++) d[r * F + f] = (((mask[r] / Math.max(maskSum, 1e-12)) * dloss * 2) / F) * (pred[r * F + f] - tn[r * F + f]);
  return d;
}

// ---- Patchify (MAE's patch order) ----

/** imgs (B, 3, H, W) -> x (B, L, P*P*3); order 0 = MAE 'nhwpqc' (i, j, c), 1 = conv-weight (c, i, j). */
export function patchify(imgs: Arr, B: number, H: number, W: number, P: number, order?: 0 | 1): Float64Array;
export function patchify<T extends FloatArray>(
  imgs: Arr,
  B: number,
  H: number,
  W: number,
  P: number,
  order: 0 | 1,
  F: FloatArrayConstructor<T>,
): T;
export function patchify(
  imgs: Arr,
  B: number,
  H: number,
  W: number,
  P: number,
  order: 0 | 1 = 0,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): FloatArray {
  const gh = H / P;
  const gw = W / P;
  const pd = P * P * 3;
  const x = new F(B * gh * gw * pd);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < H; y++)
        for (let xx = 0; xx < W; xx++) {
          const l = Math.floor(y / P) * gw + Math.floor(xx / P);
          const i = y % P;
          const j = xx % P;
          const f = order === 0 ? (i * P + j) * 3 + c : (c * P + i) * P + j;
          x[(b * gh * gw + l) * pd + f] = imgs[((b * 3 + c) * H + y) * W + xx];
        }
  return x;
}

/** Inverse (and adjoint) of patchify: x (B, L, P*P*3) -> imgs (B, 3, H, W). */
export function unpatchify(x: Arr, B: number, H: number, W: number, P: number, order?: 0 | 1): Float64Array;
export function unpatchify<T extends FloatArray>(
  x: Arr,
  B: number,
  H: number,
  W: number,
  P: number,
  order: 0 | 1,
  F: FloatArrayConstructor<T>,
): T;
export function unpatchify(
  x: Arr,
  B: number,
  H: number,
  W: number,
  P: number,
  order: 0 | 1 = 0,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): FloatArray {
  const imgs = new F(B * 3 * H * W);
  const idx = patchify(
    Float64Array.from({ length: imgs.length }, (_, i) => i),
    B,
    H,
    W,
    P,
    order,
  ); // where each image value goes
  for (let t = 0; t < idx.length; t++) imgs[idx[t]] = x[t];
  return imgs;
}
