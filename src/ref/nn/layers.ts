// CPU twins of src/nn/layers.ts and src/nn/attention.ts (shaders/nn/*.wgsl): plain float64 loops,
// same argument order as the GPU builders. The oracle for tests and the training-twin.

import type { AttnShape } from "../../nn/attention.js";
import {
  erf,
  gelu,
  geluGrad,
  layernormBackward,
  layernormForward,
  maskedMse,
  maskedMseBackward,
  patchify,
  unpatchify,
} from "../../nn/cpu.js";
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

export function geluForward(x: Arr): Float64Array {
  return Float64Array.from(x as ArrayLike<number>, gelu);
}

/** dx = dy * (Phi(x) + x phi(x)) (+ dxAcc). */
export function geluBackward(x: Arr, dy: Arr, dxAcc?: Arr): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    dx[i] = dy[i] * geluGrad(v) + (dxAcc ? dxAcc[i] : 0);
  }
  return dx;
}

// ---- elementwise.wgsl ----

export const add = (a: Arr, b: Arr): Float64Array => Float64Array.from(a as ArrayLike<number>, (v, i) => v + b[i]);
/** out += alpha * a (in place). */
export function axpy(a: Arr, out: Float64Array, alpha = 1): Float64Array {
  for (let i = 0; i < out.length; i++) out[i] += alpha * a[i];
  return out;
}

// ---- softmax.wgsl ----

export function softmaxForward(S: Arr, rows: number, n: number, scale: number): Float64Array {
  const P = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, S[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += P[r * n + j] = Math.exp(scale * (S[r * n + j] - m));
    for (let j = 0; j < n; j++) P[r * n + j] /= s;
  }
  return P;
}

export function softmaxBackward(P: Arr, dP: Arr, rows: number, n: number, scale: number): Float64Array {
  const dS = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let d = 0;
    for (let j = 0; j < n; j++) d += P[r * n + j] * dP[r * n + j];
    for (let j = 0; j < n; j++) dS[r * n + j] = scale * P[r * n + j] * (dP[r * n + j] - d);
  }
  return dS;
}

// ---- attention (src/nn/attention.ts) ----

export type { AttnShape };

/**
 * Multi-head attention on contiguous q (B, Lq, D), k, v (B, Lk, D), D = H * dh:
 * out (B, Lq, D) = merge_heads(softmax(q k^T / sqrt(dh)) v); P (B, H, Lq, Lk) saved.
 */
export function attentionForward(q: Arr, k: Arr, v: Arr, s: AttnShape) {
  const { B, H, Lq, Lk, dh } = s;
  const D = H * dh;
  const scale = 1 / Math.sqrt(dh);
  const S = new Float64Array(B * H * Lq * Lk);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Lq; i++)
        for (let j = 0; j < Lk; j++) {
          let t = 0;
          for (let d = 0; d < dh; d++) t += q[(b * Lq + i) * D + h * dh + d] * k[(b * Lk + j) * D + h * dh + d];
          S[((b * H + h) * Lq + i) * Lk + j] = t;
        }
  const P = softmaxForward(S, B * H * Lq, Lk, scale);
  const out = new Float64Array(B * Lq * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Lq; i++)
        for (let d = 0; d < dh; d++) {
          let t = 0;
          for (let j = 0; j < Lk; j++) t += P[((b * H + h) * Lq + i) * Lk + j] * v[(b * Lk + j) * D + h * dh + d];
          out[(b * Lq + i) * D + h * dh + d] = t;
        }
  return { out, P };
}

/** Gradients of attentionForward w.r.t. q, k, v given dout (B, Lq, D) and the saved P. */
export function attentionBackward(q: Arr, k: Arr, v: Arr, P: Arr, dout: Arr, s: AttnShape) {
  const { B, H, Lq, Lk, dh } = s;
  const D = H * dh;
  const scale = 1 / Math.sqrt(dh);
  const dP = new Float64Array(B * H * Lq * Lk);
  const dv = new Float64Array(B * Lk * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Lq; i++)
        for (let j = 0; j < Lk; j++) {
          const pi = ((b * H + h) * Lq + i) * Lk + j;
          let t = 0;
          for (let d = 0; d < dh; d++) {
            const g = dout[(b * Lq + i) * D + h * dh + d];
            t += g * v[(b * Lk + j) * D + h * dh + d];
            dv[(b * Lk + j) * D + h * dh + d] += P[pi] * g;
          }
          dP[pi] = t;
        }
  const dS = softmaxBackward(P, dP, B * H * Lq, Lk, scale);
  const dq = new Float64Array(B * Lq * D);
  const dk = new Float64Array(B * Lk * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Lq; i++)
        for (let j = 0; j < Lk; j++) {
          const g = dS[((b * H + h) * Lq + i) * Lk + j];
          for (let d = 0; d < dh; d++) {
            dq[(b * Lq + i) * D + h * dh + d] += g * k[(b * Lk + j) * D + h * dh + d];
            dk[(b * Lk + j) * D + h * dh + d] += g * q[(b * Lq + i) * D + h * dh + d];
          }
        }
  return { dq, dk, dv };
}

/** Split qkv (B, L, 3D) (timm's order: q, k, v blocks of D per token) into q, k, v (B, L, D). */
export function splitQkv(qkv: Arr, B: number, L: number, D: number) {
  const q = new Float64Array(B * L * D);
  const k = new Float64Array(B * L * D);
  const v = new Float64Array(B * L * D);
  for (let t = 0; t < B * L; t++)
    for (let d = 0; d < D; d++) {
      q[t * D + d] = qkv[t * 3 * D + d];
      k[t * D + d] = qkv[t * 3 * D + D + d];
      v[t * D + d] = qkv[t * 3 * D + 2 * D + d];
    }
  return { q, k, v };
}

/** Inverse of splitQkv. */
export function mergeQkv(q: Arr, k: Arr, v: Arr, B: number, L: number, D: number): Float64Array {
  const out = new Float64Array(B * L * 3 * D);
  for (let t = 0; t < B * L; t++)
    for (let d = 0; d < D; d++) {
      out[t * 3 * D + d] = q[t * D + d];
      out[t * 3 * D + D + d] = k[t * D + d];
      out[t * 3 * D + 2 * D + d] = v[t * D + d];
    }
  return out;
}

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
