// CPU twins of src/nn/matmul.ts (shaders/nn/matmul*.wgsl, transpose_view.wgsl, bias_grad.wgsl).
// Plain loops in float64, same argument order as the GPU calls. The oracle for tests. Linear comes
// from the CPU layer library (src/nn/cpu.ts) that the CPU model and the probe trainer also use.
import { linearBackward as linearBackwardCpu, linearForward as linearForwardCpu } from "../../nn/cpu.js";

export type Arr = ArrayLike<number>;

/**
 * C[z] (M, N) (+)= A[z] (M, K) @ B[z] (K, N) (+ bias) with the strides of MatmulSpec:
 * A(m, k) = a[aOff(z) + m * sam + k * sak], B(k, n) = b[bOff(z) + k * ldb + n],
 * C(m, n) = c[cOff(z) + m * ldc + n], off(z) = (z / batchH) * s1 + (z % batchH) * s2.
 */
export function matmul(
  a: Arr,
  b: Arr,
  c: Float64Array,
  o: {
    M: number;
    N: number;
    K: number;
    sam?: number;
    sak?: number;
    ldb?: number;
    ldc?: number;
    batches?: number;
    batchH?: number;
    aStride?: [number, number];
    bStride?: [number, number];
    cStride?: [number, number];
    bias?: Arr;
    accumulate?: boolean;
  },
): Float64Array {
  const { M, N, K } = o;
  const sam = o.sam ?? K;
  const sak = o.sak ?? 1;
  const ldb = o.ldb ?? N;
  const ldc = o.ldc ?? N;
  const H = o.batchH ?? 1;
  const off = (z: number, s?: [number, number]) => (s ? Math.floor(z / H) * s[0] + (z % H) * s[1] : 0);
  for (let z = 0; z < (o.batches ?? 1); z++) {
    const ao = off(z, o.aStride);
    const bo = off(z, o.bStride);
    const co = off(z, o.cStride);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ao + m * sam + k * sak] * b[bo + k * ldb + n];
        if (o.bias) s += o.bias[n];
        const i = co + m * ldc + n;
        c[i] = o.accumulate ? c[i] + s : s;
      }
  }
  return c;
}

/** dst (cols, rows) = src (rows, cols)^T. */
export function transpose(src: Arr, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** db (N) (+)= sum over rows of dy (M, N). */
export function biasGrad(dy: Arr, db: Float64Array, M: number, N: number, accumulate = true): Float64Array {
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += dy[m * N + n];
    db[n] = accumulate ? db[n] + s : s;
  }
  return db;
}

/** Linear forward: y (M, out) = x (M, in) @ W^T + b, W (out, in) (PyTorch layout); src/nn/cpu.ts, float64. */
export const linearForward = (x: Arr, w: Arr, b: Arr | null, M: number, inF: number, outF: number): Float64Array =>
  linearForwardCpu(x, w, b, M, inF, outF);

/** Linear backward: dx = dy @ W, dW += dy^T @ x, db += colsum(dy) (dW, db accumulate in place); src/nn/cpu.ts, float64. */
export const linearBackward = (
  x: Arr,
  w: Arr,
  dy: Arr,
  dw: Float64Array,
  db: Float64Array | null,
  M: number,
  inF: number,
  outF: number,
): Float64Array => linearBackwardCpu(x, w, dy, dw, db, M, inF, outF, true) as Float64Array; // wantDx: never null

/** Round to the nearest IEEE half (ties to even), as f16(x) in WGSL; overflow -> +-Infinity. */
export function roundF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const fl = Math.floor(q);
  const d = q - fl;
  const r = d > 0.5 ? fl + 1 : d < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
  return Math.sign(x) * r * ulp;
}
