// The CPU transformer: multi-head attention, timm's pre-norm Block and CroCo's DecoderBlock, on top
// of the CPU layer library (cpu.ts). One implementation for both precisions: the forward writes its
// outputs and saved activations in the caller's precision `F` (Float64Array by default; the
// float32 CPU model, src/models/mim_cpu.ts, asks for Float32Array), with float64 arithmetic inside
// every sum; the backward is float64 (the twins' gradient checks). The float64 instances are the
// CPU twins of src/nn/attention.ts and src/nn/block.ts (src/ref/nn/ re-exports them).
//
// Layouts are batch-major: x (B, L, D) is B*L rows of D; heads are channel blocks of dh = D / H.
// Parameters are fetched by their timm / CroCo names through `get` (views into a flat array in the
// table's layout, src/models/params.ts); backward accumulates gradients through `grad`.
import type { AttnShape } from "./attention.js";
import type { BlockConfig } from "./block.js";
import {
  type Arr,
  type FloatArray,
  type FloatArrayConstructor,
  gelu,
  geluGrad,
  layernormBackward,
  layernormForward,
  linearBackward,
  linearForward,
} from "./cpu.js";

export type { AttnShape };

/** Parameter (or gradient) lookup by name. */
export type Getter<T extends Arr = Arr> = (name: string) => T;

// ---- GELU on arrays ----

/** Exact GELU of every element, in precision F. */
export function geluForward(x: Arr): Float64Array;
export function geluForward<T extends FloatArray>(x: Arr, F: FloatArrayConstructor<T>): T;
export function geluForward(x: Arr, F: FloatArrayConstructor<FloatArray> = Float64Array): FloatArray {
  const y = new F(x.length);
  for (let i = 0; i < x.length; i++) y[i] = gelu(x[i]);
  return y;
}

/** dx = dy * (Phi(x) + x phi(x)) (+ dxAcc). */
export function geluBackward(x: Arr, dy: Arr, dxAcc?: Arr): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * geluGrad(x[i]) + (dxAcc ? dxAcc[i] : 0);
  return dx;
}

/** out (n) = a + b in precision F (the residual add). */
function addArrays<T extends FloatArray>(a: Arr, b: Arr, F: FloatArrayConstructor<T>): T {
  const out = new F(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

// ---- softmax (softmax.wgsl) ----

/** Row softmax of scale * S over rows of n (max-subtracted), float64. */
export function softmaxForward(S: Arr, rows: number, n: number, scale: number): Float64Array {
  const P = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) m = Math.max(m, S[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) {
      P[r * n + j] = Math.exp(scale * (S[r * n + j] - m));
      s += P[r * n + j];
    }
    for (let j = 0; j < n; j++) P[r * n + j] /= s;
  }
  return P;
}

/** dS = scale * P * (dP - sum_j P dP) per row. */
export function softmaxBackward(P: Arr, dP: Arr, rows: number, n: number, scale: number): Float64Array {
  const dS = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let d = 0;
    for (let j = 0; j < n; j++) d += P[r * n + j] * dP[r * n + j];
    for (let j = 0; j < n; j++) dS[r * n + j] = scale * P[r * n + j] * (dP[r * n + j] - d);
  }
  return dS;
}

// ---- multi-head attention (src/nn/attention.ts) ----

/**
 * Multi-head attention on contiguous q (B, Lq, D), k, v (B, Lk, D), D = H * dh:
 * out (B, Lq, D) = merge_heads(softmax(q k^T / sqrt(dh)) v) in precision F; the probabilities
 * P (B, H, Lq, Lk) are kept in float64 for the backward.
 */
export function attentionForward(q: Arr, k: Arr, v: Arr, s: AttnShape): { out: Float64Array; P: Float64Array };
export function attentionForward<T extends FloatArray>(
  q: Arr,
  k: Arr,
  v: Arr,
  s: AttnShape,
  F: FloatArrayConstructor<T>,
): { out: T; P: Float64Array };
export function attentionForward(
  q: Arr,
  k: Arr,
  v: Arr,
  s: AttnShape,
  F: FloatArrayConstructor<FloatArray> = Float64Array,
): { out: FloatArray; P: Float64Array } {
  const { B, H, Lq, Lk, dh } = s;
  const D = H * dh;
  const S = new Float64Array(B * H * Lq * Lk);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let i = 0; i < Lq; i++)
        for (let j = 0; j < Lk; j++) {
          let t = 0;
          for (let d = 0; d < dh; d++) t += q[(b * Lq + i) * D + h * dh + d] * k[(b * Lk + j) * D + h * dh + d];
          S[((b * H + h) * Lq + i) * Lk + j] = t;
        }
  const P = softmaxForward(S, B * H * Lq, Lk, 1 / Math.sqrt(dh));
  const out = new F(B * Lq * D);
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
  const dS = softmaxBackward(P, dP, B * H * Lq, Lk, 1 / Math.sqrt(dh));
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
export function splitQkv(qkv: Arr, B: number, L: number, D: number): { q: Float64Array; k: Float64Array; v: Float64Array };
export function splitQkv<T extends FloatArray>(
  qkv: Arr,
  B: number,
  L: number,
  D: number,
  F: FloatArrayConstructor<T>,
): { q: T; k: T; v: T };
export function splitQkv(qkv: Arr, B: number, L: number, D: number, F: FloatArrayConstructor<FloatArray> = Float64Array) {
  const q = new F(B * L * D);
  const k = new F(B * L * D);
  const v = new F(B * L * D);
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

// ---- blocks (src/nn/block.ts) ----

export type { BlockConfig };

/** A block's named sublayers: parameters `${p}.${name}.{weight,bias}` through get, their gradients through grad. */
interface Scope {
  get: Getter;
  grad: Getter<Float64Array>;
  p: string;
}

/** Saved LayerNorm statistics. */
type LnStats = { mean: Arr; rstd: Arr };

/** Backward of the Linear `name` over `rows` rows: accumulates its dW and db; returns dx. */
function linearBack(s: Scope, name: string, x: Arr, dy: Arr, rows: number, inF: number, outF: number): Float64Array {
  const w = s.get(`${s.p}.${name}.weight`);
  return linearBackward(x, w, dy, s.grad(`${s.p}.${name}.weight`), s.grad(`${s.p}.${name}.bias`), rows, inF, outF) as Float64Array;
}

/** Backward of the LayerNorm `name` (width D): accumulates its dw and db; returns dx + acc. */
function layernormBack(s: Scope, name: string, x: Arr, dy: Arr, st: LnStats, rows: number, D: number, acc: Arr): Float64Array {
  const w = s.get(`${s.p}.${name}.weight`);
  return layernormBackward(x, dy, w, st.mean, st.rstd, s.grad(`${s.p}.${name}.weight`), s.grad(`${s.p}.${name}.bias`), rows, D, acc);
}

/**
 * timm's pre-norm Block on x (B, L, D), names {p}.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1,
 * mlp.fc2}.{weight, bias}:  x1 = x + attn.proj(attn(attn.qkv(norm1 x)));  out = x1 + mlp(norm2 x1).
 * Returns out (precision F) and the activations the backward needs.
 */
export function blockForward<T extends FloatArray = Float64Array>(
  get: Getter,
  p: string,
  c: BlockConfig,
  x: Arr,
  B: number,
  L: number,
  F: FloatArrayConstructor<T> = Float64Array as unknown as FloatArrayConstructor<T>,
) {
  const { D } = c;
  const N = B * L;
  const Hd = c.mlpRatio * D;
  const eps = c.eps ?? 1e-6;
  const ln1 = layernormForward(x, get(`${p}.norm1.weight`), get(`${p}.norm1.bias`), N, D, eps, F);
  const qkv = linearForward(ln1.y, get(`${p}.attn.qkv.weight`), get(`${p}.attn.qkv.bias`), N, D, 3 * D, F);
  const { q, k, v } = splitQkv(qkv, B, L, D, F);
  const shape = { B, H: c.H, Lq: L, Lk: L, dh: D / c.H };
  const att = attentionForward(q, k, v, shape, F);
  const proj = linearForward(att.out, get(`${p}.attn.proj.weight`), get(`${p}.attn.proj.bias`), N, D, D, F);
  const x1 = addArrays(x, proj, F);
  const ln2 = layernormForward(x1, get(`${p}.norm2.weight`), get(`${p}.norm2.bias`), N, D, eps, F);
  const h = linearForward(ln2.y, get(`${p}.mlp.fc1.weight`), get(`${p}.mlp.fc1.bias`), N, D, Hd, F);
  const g = geluForward(h, F);
  const mlp = linearForward(g, get(`${p}.mlp.fc2.weight`), get(`${p}.mlp.fc2.bias`), N, Hd, D, F);
  const out = addArrays(x1, mlp, F);
  return { out, cache: { x, ln1, q, k, v, P: att.P, attn: att.out, x1, ln2, h, g, shape } };
}

export type BlockCache = ReturnType<typeof blockForward>["cache"];

/** Backward of blockForward: accumulates parameter gradients through `grad`; returns dx. */
export function blockBackward(
  get: Getter,
  grad: Getter<Float64Array>,
  p: string,
  c: BlockConfig,
  cache: BlockCache,
  dout: Arr,
  B: number,
  L: number,
): Float64Array {
  const { D } = c;
  const N = B * L;
  const Hd = c.mlpRatio * D;
  const sc = { get, grad, p };
  const linB = (name: string, inp: Arr, dy: Arr, i: number, o: number) => linearBack(sc, name, inp, dy, N, i, o);
  const lnB = (name: string, inp: Arr, dy: Arr, st: LnStats, acc: Arr) => layernormBack(sc, name, inp, dy, st, N, D, acc);
  const k = cache;
  const dg = linB("mlp.fc2", k.g, dout, Hd, D);
  const dln2 = linB("mlp.fc1", k.ln2.y, geluBackward(k.h, dg), D, Hd);
  const dx1 = lnB("norm2", k.x1, dln2, k.ln2, dout);
  const dattn = linB("attn.proj", k.attn, dx1, D, D);
  const { dq, dk, dv } = attentionBackward(k.q, k.k, k.v, k.P, dattn, k.shape);
  const dln1 = linB("attn.qkv", k.ln1.y, mergeQkv(dq, dk, dv, B, L, D), D, 3 * D);
  return lnB("norm1", k.x, dln1, k.ln1, dx1);
}

/**
 * CroCo's DecoderBlock (norm_mem=True) on x (B, Lx, D) with memory y (B, Ly, D), names
 * {p}.{norm1, attn.qkv, attn.proj, cross_attn.projq, cross_attn.projk, cross_attn.projv,
 * cross_attn.proj, norm2, norm3, norm_y, mlp.fc1, mlp.fc2}.{weight, bias}:
 *   x1 = x + attn.proj(selfattn(attn.qkv(norm1 x)))
 *   x2 = x1 + cross_attn.proj(crossattn(q = projq(norm2 x1), k = projk(norm_y y), v = projv(norm_y y)))
 *   out = x2 + mlp(norm3 x2)
 */
export function crossBlockForward<T extends FloatArray = Float64Array>(
  get: Getter,
  p: string,
  c: BlockConfig,
  x: Arr,
  y: Arr,
  B: number,
  Lx: number,
  Ly: number,
  F: FloatArrayConstructor<T> = Float64Array as unknown as FloatArrayConstructor<T>,
) {
  const { D } = c;
  const N = B * Lx;
  const Ny = B * Ly;
  const Hd = c.mlpRatio * D;
  const eps = c.eps ?? 1e-6;
  const lin = (name: string, inp: Arr, rows: number, i: number, o: number) =>
    linearForward(inp, get(`${p}.${name}.weight`), get(`${p}.${name}.bias`), rows, i, o, F);
  const ln = (name: string, inp: Arr, rows: number) =>
    layernormForward(inp, get(`${p}.${name}.weight`), get(`${p}.${name}.bias`), rows, D, eps, F);
  const ln1 = ln("norm1", x, N);
  const qkv = lin("attn.qkv", ln1.y, N, D, 3 * D);
  const sq = splitQkv(qkv, B, Lx, D, F);
  const selfShape = { B, H: c.H, Lq: Lx, Lk: Lx, dh: D / c.H };
  const sa = attentionForward(sq.q, sq.k, sq.v, selfShape, F);
  const x1 = addArrays(x, lin("attn.proj", sa.out, N, D, D), F);
  const lny = ln("norm_y", y, Ny);
  const ln2 = ln("norm2", x1, N);
  const q = lin("cross_attn.projq", ln2.y, N, D, D);
  const k = lin("cross_attn.projk", lny.y, Ny, D, D);
  const v = lin("cross_attn.projv", lny.y, Ny, D, D);
  const crossShape = { B, H: c.H, Lq: Lx, Lk: Ly, dh: D / c.H };
  const ca = attentionForward(q, k, v, crossShape, F);
  const x2 = addArrays(x1, lin("cross_attn.proj", ca.out, N, D, D), F);
  const ln3 = ln("norm3", x2, N);
  const h = lin("mlp.fc1", ln3.y, N, D, Hd);
  const g = geluForward(h, F);
  const out = addArrays(x2, lin("mlp.fc2", g, N, Hd, D), F);
  return { out, cache: { x, y, ln1, sq, sa, selfShape, x1, lny, ln2, q, k, v, ca, crossShape, x2, ln3, h, g } };
}

export type CrossBlockCache = ReturnType<typeof crossBlockForward>["cache"];

/** Backward of crossBlockForward: returns dx; accumulates dy (B, Ly, D) in place and the parameter gradients through `grad`. */
export function crossBlockBackward(
  get: Getter,
  grad: Getter<Float64Array>,
  p: string,
  c: BlockConfig,
  cache: CrossBlockCache,
  dout: Arr,
  dy: Float64Array,
  B: number,
  Lx: number,
  Ly: number,
): Float64Array {
  const { D } = c;
  const N = B * Lx;
  const Ny = B * Ly;
  const Hd = c.mlpRatio * D;
  const sc = { get, grad, p };
  const linB = (name: string, inp: Arr, g: Arr, rows: number, i: number, o: number) => linearBack(sc, name, inp, g, rows, i, o);
  const lnB = (name: string, inp: Arr, g: Arr, st: LnStats, rows: number, acc: Arr) => layernormBack(sc, name, inp, g, st, rows, D, acc);
  const k = cache;
  const dg = linB("mlp.fc2", k.g, dout, N, Hd, D);
  const dln3 = linB("mlp.fc1", k.ln3.y, geluBackward(k.h, dg), N, D, Hd);
  const dx2 = lnB("norm3", k.x2, dln3, k.ln3, N, dout);
  const dxattn = linB("cross_attn.proj", k.ca.out, dx2, N, D, D);
  const cg = attentionBackward(k.q, k.k, k.v, k.ca.P, dxattn, k.crossShape);
  const dln2 = linB("cross_attn.projq", k.ln2.y, cg.dq, N, D, D);
  const dx1 = lnB("norm2", k.x1, dln2, k.ln2, N, dx2);
  const dlny = linB("cross_attn.projk", k.lny.y, cg.dk, Ny, D, D);
  const dlnyv = linB("cross_attn.projv", k.lny.y, cg.dv, Ny, D, D);
  for (let i = 0; i < dlny.length; i++) dlny[i] += dlnyv[i];
  dy.set(lnB("norm_y", k.y, dlny, k.lny, Ny, dy));
  const dattn = linB("attn.proj", k.sa.out, dx1, N, D, D);
  const sg = attentionBackward(k.sq.q, k.sq.k, k.sq.v, k.sa.P, dattn, k.selfShape);
  const dln1 = linB("attn.qkv", k.ln1.y, mergeQkv(sg.dq, sg.dk, sg.dv, B, Lx, D), N, D, 3 * D);
  return lnB("norm1", k.x, dln1, k.ln1, N, dx1);
}
