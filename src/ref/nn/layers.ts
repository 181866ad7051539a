// CPU twins of src/nn/layers.ts and src/nn/attention.ts (shaders/nn/*.wgsl): plain float64 loops,
// same argument order as the GPU builders. The oracle for tests and the training-twin.

import { erf, layernormBackward, layernormForward, maskedMse, maskedMseBackward, patchify, unpatchify } from "../../nn/cpu.js";
import type { Arr } from "./matmul.js";

// ---- LayerNorm (layernorm_*.wgsl), GELU (gelu.wgsl), masked MSE (masked_mse.wgsl): src/nn/cpu.ts ----

export { erf, layernormBackward, layernormForward, maskedMse, maskedMseBackward };

/** The f32 erf of gelu.wgsl evaluated in float64 (documents the WGSL approximation). */
export function erfApprox(z: number): number {
  const a = Math.abs(z);
  const s = z * z;
  if (a < 0.5)
    return (
      z *
      (1.1283791670955126 +
        s *
          (-0.37612638903183754 +
            s * (0.11283791670955126 + s * (-0.026866170645131252 + s * (0.005223977625442188 + s * -0.0008548327023450852)))))
    );
  const t = 1 / (1 + 0.3275911 * a);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return Math.sign(z) * (1 - poly * Math.exp(-s));
}

// ---- elementwise.wgsl ----

export const add = (a: Arr, b: Arr): Float64Array => Float64Array.from(a as ArrayLike<number>, (v, i) => v + b[i]);
/** out += alpha * a (in place). */
export function axpy(a: Arr, out: Float64Array, alpha = 1): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] += alpha * a[i];
  return out;
}

// ---- softmax.wgsl, attention (src/nn/attention.ts), GELU on arrays: src/nn/cpu_transformer.ts ----

export {
  type AttnShape,
  attentionBackward,
  attentionForward,
  geluBackward,
  geluForward,
  mergeQkv,
  softmaxBackward,
  softmaxForward,
  splitQkv,
} from "../../nn/cpu_transformer.js";

// ---- patchify.wgsl: src/nn/cpu.ts ----

export { patchify, unpatchify };

// ---- gather_rows.wgsl ----

/**
 * dst (B, So, D) (rows so0.. so0 + Lo written, others zero; So defaults to Lo):
 * dst[b, so0 + i] = src[b, ids[b, i] + row0], src (B, Ls, D).
 */
export function gatherRows(
  src: Arr,
  ids: ArrayLike<number>,
  B: number,
  Ls: number,
  Lo: number,
  D: number,
  row0 = 0,
  So = Lo,
  so0 = 0,
): Float64Array {
  const dst = new Float64Array(B * So * D);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Lo; i++)
      for (let d = 0; d < D; d++) dst[(b * So + so0 + i) * D + d] = src[(b * Ls + ids[b * Lo + i] + row0) * D + d];
  return dst;
}

/** dst[b, ids[b, i] + row0] (+)= src[b, so0 + i] (src has So rows per item); dst (B, Ls, D) in place. */
export function scatterRows(
  src: Arr,
  ids: ArrayLike<number>,
  dst: Float64Array,
  B: number,
  Ls: number,
  Lo: number,
  D: number,
  row0 = 0,
  accumulate = true,
  So = Lo,
  so0 = 0,
): Float64Array {
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Lo; i++)
      for (let d = 0; d < D; d++) {
        const o = (b * Ls + ids[b * Lo + i] + row0) * D + d;
        dst[o] = (accumulate ? dst[o] : 0) + src[(b * So + so0 + i) * D + d];
      }
  return dst;
}

// ---- reduce.wgsl ----

export const sum = (x: Arr, alpha = 1): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return alpha * s;
};
export const sumsq = (x: Arr, alpha = 1): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return alpha * s;
};

// ---- broadcast_rows.wgsl ----

/** x (B, Ld, D) in place: x[b, row0 + l] (= or +=) t[l * ts]. */
export function broadcastRowsForward(
  t: Arr,
  x: Float64Array,
  B: number,
  Ld: number,
  Lt: number,
  D: number,
  row0 = 0,
  ts: 0 | 1 = 1,
  accumulate = true,
): Float64Array {
  for (let b = 0; b < B; b++)
    for (let l = 0; l < Lt; l++)
      for (let d = 0; d < D; d++) {
        const o = (b * Ld + row0 + l) * D + d;
        x[o] = (accumulate ? x[o] : 0) + t[l * ts * D + d];
      }
  return x;
}

/** dt (in place) += sums of dx over the batch (and rows when ts = 0). */
export function broadcastRowsBackward(
  dx: Arr,
  dt: Float64Array,
  B: number,
  Ld: number,
  Lt: number,
  D: number,
  row0 = 0,
  ts: 0 | 1 = 1,
): Float64Array {
  for (let b = 0; b < B; b++)
    for (let l = 0; l < Lt; l++) for (let d = 0; d < D; d++) dt[l * ts * D + d] += dx[(b * Ld + row0 + l) * D + d];
  return dt;
}
