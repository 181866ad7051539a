// Matmul and Linear layers on the GPU (shaders/nn/matmul_sg.wgsl, matmul.wgsl, matmul_scalar.wgsl,
// matmul_f16*.wgsl, transpose_view.wgsl).
// CPU twins: src/ref/nn/matmul.ts.
//
// Linear uses PyTorch's layout: W is (out, in), y = x @ W^T + b. The matmul kernel reads B
// row-major (k, n), so forward first transposes W into a scratch W^T (in, out) (cheap: in*out
// elements against rows*in*out FMAs); backward reads W and x as they are:
//   dx (M, in)  = dy (M, out) @ W (out, in)
//   dW (out, in) += dy^T (out, M) @ x (M, in)     (A = dy read with strides (1, out))
//   db (out)     += sum over rows of dy            (shaders/nn/bias_grad.wgsl)
import type { Gpu } from "../gpu/device.js";
import { grid1d } from "../gpu/kernel.js";
import { type Call, dummyBuffer, expectShape, makeCall, numel, type Tensor, u32 } from "./core.js";

/**
 * Invocations per workgroup along n (each computes 8 x 8 outputs): 16 (128 columns), or 8 when
 * N <= 64 (attention's head dim and short sequences) so fewer lanes compute clamped tails.
 * lavapipe runs 8 invocations per SIMD row, so 8 is the useful minimum there.
 */
export const matmulWorkgroup = (N: number): number => (N <= 64 ? 8 : 16);

/**
 * matmul_sg.wgsl's vec4 column groups per lane for N columns: 2 (64 columns per workgroup, more
 * reuse of each A value) unless N <= 32 or a quarter or more of the 64-column tiles would be tail
 * (N = 96, nano's decoder width: 128 computed for 96), where 1 (32 columns) wastes nothing.
 * Timestamps of single dispatches on lavapipe, min of 18: 1576x96x96 2.62 -> 2.42 ms,
 * 1576x96x384 9.90 -> 8.45 ms with 1; 1576x288x96 (10% tail) 7.21 with 2 vs 7.54 with 1.
 */
export function sgColsFor(N: number): 1 | 2 {
  const padded = Math.ceil(N / 64) * 64;
  return N <= 32 || 4 * (padded - N) >= padded ? 1 : 2;
}

export interface MatmulSpec {
  /** C (M, N) = A (M, K) @ B (K, N), per batch. */
  M: number;
  N: number;
  K: number;
  a: Tensor;
  /** A(m, k) = a[a.off + m * sam + k * sak]; default row-major (sam = K, sak = 1). */
  sam?: number;
  sak?: number;
  b: Tensor;
  /** B(k, n) = b[b.off + k * ldb + n]; default N. */
  ldb?: number;
  c: Tensor;
  /** C(m, n) = c[c.off + m * ldc + n]; default N. */
  ldc?: number;
  /** Batches (z) and the inner batch count: offset(z) = (z / batchH) * s1 + (z % batchH) * s2. */
  batches?: number;
  batchH?: number;
  aStride?: [number, number];
  bStride?: [number, number];
  cStride?: [number, number];
  /** Added to every row of C. */
  bias?: Tensor;
  /** C += A @ B instead of C = A @ B (gradient accumulation). */
  accumulate?: boolean;
  /**
   * Which f32 kernel: "auto" (default) takes matmul_sg.wgsl where it applies (B vec4-aligned, the
   * device has subgroups of >= 8 invocations; matmul_sg_at.wgsl when A is also transposed and
   * vec4-aligned), else the tiled matmul.wgsl / matmul_scalar.wgsl;
   * "tiled" forces the latter (tests run both).
   */
  kernel?: "auto" | "tiled";
  /** matmul_sg.wgsl only: vec4 column groups per lane (1: 32 columns per workgroup, 2: 64); default by N. */
  sgCols?: 1 | 2;
  label?: string;
}

/**
 * Whether the vec4 kernels can read B: aligned rows and batch offsets, and every row's last vec4
 * inside the row (N % 4 == 0, or rows padded: ldb >= N rounded up to 4, as attention's K^T and V^T
 * are, so a ragged N like 197 tokens still gets the vec4 kernels; columns past N are never stored).
 */
function bIsVec4(s: MatmulSpec): boolean {
  const ldb = s.ldb ?? s.N;
  const [s1, s2] = s.bStride ?? [0, 0];
  const rowsFit = s.N % 4 === 0 || ldb >= Math.ceil(s.N / 4) * 4;
  return rowsFit && ldb % 4 === 0 && s.b.off % 4 === 0 && s1 % 4 === 0 && s2 % 4 === 0;
}

/**
 * Whether A is transposed (sam == 1: the rows of one k are contiguous) and vec4-aligned (sak and
 * A's offsets % 4 == 0), so matmul_sg_at.wgsl can load 16 rows as four vec4.
 */
function aIsTransposedVec4(s: MatmulSpec): boolean {
  const [s1, s2] = s.aStride ?? [0, 0];
  return (s.sam ?? s.K) === 1 && (s.sak ?? 1) % 4 === 0 && s.a.off % 4 === 0 && s1 % 4 === 0 && s2 % 4 === 0;
}

/** The shader a matmul call runs (see matmulCall). */
export function matmulShader(gpu: Gpu, s: MatmulSpec): string {
  const vec4 = bIsVec4(s);
  if (s.a.dtype === "f16") return vec4 ? "nn/matmul_f16.wgsl" : "nn/matmul_f16_scalar.wgsl";
  if (vec4 && s.kernel !== "tiled" && gpu.subgroupMinSize >= 8) return aIsTransposedVec4(s) ? "nn/matmul_sg_at.wgsl" : "nn/matmul_sg.wgsl";
  return vec4 ? "nn/matmul.wgsl" : "nn/matmul_scalar.wgsl";
}

/**
 * One batched matmul call (see MatmulSpec). f32: matmul_sg.wgsl when the device has subgroups and
 * B is vec4-aligned (about 2x the tiled kernel on lavapipe, see its header), else matmul.wgsl (B
 * vec4-aligned) or matmul_scalar.wgsl; f16 storage: matmul_f16.wgsl / matmul_f16_scalar.wgsl.
 */
export function matmulCall(gpu: Gpu, s: MatmulSpec): Call {
  const { M, N, K } = s;
  if (M < 1 || N < 1 || K < 1) throw new Error(`matmul ${s.label ?? ""}: empty shape M=${M} N=${N} K=${K}`);
  const batches = s.batches ?? 1;
  const batchH = s.batchH ?? 1;
  const [as1, as2] = s.aStride ?? [0, 0];
  const [bs1, bs2] = s.bStride ?? [0, 0];
  const [cs1, cs2] = s.cStride ?? [0, 0];
  const half = s.a.dtype === "f16";
  if (half !== (s.b.dtype === "f16"))
    throw new Error(
      `matmul ${s.label ?? ""}: A and B must have the same storage precision (A ${s.a.dtype ?? "f32"}, B ${s.b.dtype ?? "f32"})`,
    );
  if (s.c.dtype === "f16" || s.bias?.dtype === "f16") throw new Error(`matmul ${s.label ?? ""}: C and bias are f32 (f32 accumulation)`);
  if (s.c.buf.size % 16 !== 0)
    throw new Error(
      `matmul ${s.label ?? ""}: C's buffer '${s.c.label}' is ${s.c.buf.size} bytes, not whole vec4s (16 bytes); allocate it with tensor() (src/nn/core.ts)`,
    );
  const flags = (s.accumulate ? 1 : 0) | (s.bias ? 2 : 0);
  const shader = matmulShader(gpu, s);
  const subgroup = shader === "nn/matmul_sg.wgsl" || shader === "nn/matmul_sg_at.wgsl";
  const wg = matmulWorkgroup(N);
  const sgCols = s.sgCols ?? sgColsFor(N); // matmul_sg.wgsl: vec4 column groups per lane
  return makeCall(
    gpu,
    shader,
    [s.a, s.b, s.bias ?? dummyBuffer(gpu), s.c],
    [
      u32(M),
      u32(N),
      u32(K),
      u32(s.sam ?? K),
      u32(s.sak ?? 1),
      u32(s.ldb ?? N),
      u32(s.ldc ?? N),
      u32(batchH),
      u32(as1),
      u32(as2),
      u32(bs1),
      u32(bs2),
      u32(cs1),
      u32(cs2),
      u32(flags),
      u32(s.a.off),
      u32(s.b.off),
      u32(s.c.off),
      u32(s.bias?.off ?? 0),
      u32(0),
    ],
    subgroup ? [Math.ceil(N / (32 * sgCols)), Math.ceil(M / 16), batches] : [Math.ceil(N / (8 * wg)), Math.ceil(M / 8), batches],
    { constants: subgroup ? { COLS: sgCols } : { WG: wg }, label: s.label ?? `matmul ${M}x${N}x${K}` },
  );
}

/** Cast n elements between f32 and f16 tensors (shaders/nn/cast.wgsl), e.g. weights to f16 per step. */
export function castCall(gpu: Gpu, src: Tensor, dst: Tensor, n: number): Call {
  const toHalf = dst.dtype === "f16";
  if (toHalf === (src.dtype === "f16")) throw new Error(`cast '${src.label}' -> '${dst.label}': one side must be f16, the other f32`);
  return makeCall(gpu, "nn/cast.wgsl", [src, dst], [u32(n), u32(src.off), u32(dst.off), u32(0)], grid1d(n, 64), {
    entry: toHalf ? "to_f16" : "to_f32",
    bindingNumbers: toHalf ? [0, 3, 4] : [1, 2, 4],
    label: `cast ${src.label}`,
  });
}

/**
 * dst (cols, rows) = src (rows, cols)^T for views anywhere in their buffers: transpose4.wgsl (4 x 4
 * vec4 blocks) when rows, cols and both offsets are multiples of 4, else transpose_view.wgsl.
 */
export function transposeCall(gpu: Gpu, src: Tensor, dst: Tensor, rows: number, cols: number): Call {
  const vec4 = rows % 4 === 0 && cols % 4 === 0 && src.off % 4 === 0 && dst.off % 4 === 0;
  return makeCall(
    gpu,
    vec4 ? "nn/transpose4.wgsl" : "nn/transpose_view.wgsl",
    [src, dst],
    [u32(rows), u32(cols), u32(src.off), u32(dst.off)],
    vec4 ? [Math.ceil(cols / 64), Math.ceil(rows / 16)] : [Math.ceil(cols / 16), Math.ceil(rows / 16)],
    {
      label: `transpose ${src.label}`,
    },
  );
}

/** db (N) (+)= sum over rows of dy (M, N) (shaders/nn/bias_grad.wgsl). */
export function biasGradCall(gpu: Gpu, dy: Tensor, db: Tensor, M: number, N: number, accumulate = true): Call {
  const vec4 = N % 4 === 0 && dy.off % 4 === 0 && db.off % 4 === 0;
  return makeCall(
    gpu,
    "nn/bias_grad.wgsl",
    [dy, db],
    [u32(M), u32(N), u32(dy.off), u32(db.off), u32(accumulate ? 1 : 0)],
    [Math.ceil(N / (vec4 ? 256 : 64))],
    {
      entry: vec4 ? "main4" : "main",
      label: `bias grad ${db.label}`,
    },
  );
}

/** A Linear layer's tensors: W (out, in), optional b (out), their gradients, and a W^T scratch. */
export interface LinearParams {
  w: Tensor; // (out, in)
  b: Tensor | null; // (out)
  dw: Tensor; // (out, in)
  db: Tensor | null; // (out)
  /** Scratch (in, out) for W^T; may be shared between layers of the same shape. */
  wT: Tensor;
}

/** Forward: y (M, out) = x (M, in) @ W^T + b. Returns [transpose W, matmul]. */
export function linearForward(gpu: Gpu, p: LinearParams, x: Tensor, y: Tensor, M: number, inF: number, outF: number): Call[] {
  expectShape(p.w, [outF, inF], "linear forward W");
  if (numel(p.wT.shape) < inF * outF) throw new Error(`linear forward: W^T scratch '${p.wT.label}' too small`);
  if (numel(x.shape) !== M * inF || numel(y.shape) !== M * outF)
    throw new Error(`linear forward: x (${x.shape}) / y (${y.shape}) do not match M=${M} in=${inF} out=${outF}`);
  return [
    transposeCall(gpu, p.w, p.wT, outF, inF),
    matmulCall(gpu, { M, N: outF, K: inF, a: x, b: p.wT, c: y, bias: p.b ?? undefined, label: `linear fwd ${p.w.label}` }),
  ];
}

/**
 * Backward: dx (M, in) = dy @ W (or += when accumulateDx), dW += dy^T @ x, db += colsum(dy).
 * dx null skips the input gradient (first layer).
 */
export function linearBackward(
  gpu: Gpu,
  p: LinearParams,
  x: Tensor,
  dy: Tensor,
  dx: Tensor | null,
  M: number,
  inF: number,
  outF: number,
  accumulateDx = false,
): Call[] {
  const calls: Call[] = [];
  if (dx)
    calls.push(matmulCall(gpu, { M, N: inF, K: outF, a: dy, b: p.w, c: dx, accumulate: accumulateDx, label: `linear dx ${p.w.label}` }));
  calls.push(
    matmulCall(gpu, { M: outF, N: inF, K: M, a: dy, sam: 1, sak: outF, b: x, c: p.dw, accumulate: true, label: `linear dW ${p.w.label}` }),
  );
  if (p.db) calls.push(biasGradCall(gpu, dy, p.db, M, outF, true));
  return calls;
}
