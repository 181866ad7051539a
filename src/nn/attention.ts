// Multi-head attention (self and cross) from matmul, softmax and head-transpose kernels.
// Twin: src/ref/nn/layers.ts attentionForward / attentionBackward (on contiguous q, k, v).
//
// q, k, v and the output are *token-major views*: element (b, l, h, d) of a view lives at
//   t.off + b * sb + l * sl + h * dh + d
// so self-attention reads q, k, v straight out of the qkv Linear's output (B, L, 3D) (sl = 3D,
// offsets 0, D, 2D: timm's qkv order), cross-attention (CroCo) reads three (B, L, D) projections,
// and the output is written merged as (B, Lq, D), ready for the proj Linear. Gradients dq, dk, dv
// are written (not accumulated) into views of the same kind (e.g. the qkv gradient).
//
// kT and vT rows are padded to ldk = Lk rounded up to 4 (attnLd), so S = Q kT and dP = dO vT take
// the vec4 matmul kernels even when Lk is not a multiple of 4 (197 tokens: the scalar kernel was
// 2-3x slower there). S, P and dP rows are padded the same way ((B, H, Lq, ldk), columns past Lk
// unused): their matmul outputs are stored as whole vec4s and the softmax reads and writes vec4s
// (shaders/nn/softmax4.wgsl), which costs llvmpipe one lane-by-lane expansion per four values.
// Forward:  kT = K^T per head; S = Q kT; P = softmax(S / sqrt(dh)) (saved); O = P V.
// Backward: vT = V^T per head; dP = dO vT; dV = P^T dO; dS = softmax'(P, dP); dQ = dS K; dK = dS^T Q.
import type { Gpu } from "../gpu/device.js";
import { type Call, makeCall, type Tensor, tensor, u32, view } from "./core.js";
import { softmaxBackward, softmaxForward } from "./layers.js";
import { matmulCall } from "./matmul.js";

export interface AttnShape {
  B: number;
  H: number;
  Lq: number;
  Lk: number;
  dh: number;
}

/** A token-major view: (b, l, h, d) at t.off + b * sb + l * sl + h * dh + d. */
export interface HeadView {
  t: Tensor;
  sb: number;
  sl: number;
}

/** Views of q, k, v inside a qkv tensor (B, L, 3D) at its offset. */
export function qkvViews(qkv: Tensor, B: number, L: number, D: number): { q: HeadView; k: HeadView; v: HeadView } {
  const mk = (o: number): HeadView => ({ t: view(qkv, o, [B, L, D], `${qkv.label}[${o / D}]`), sb: L * 3 * D, sl: 3 * D });
  return { q: mk(0), k: mk(D), v: mk(2 * D) };
}

/** A contiguous (B, L, D) tensor as a head view. */
export const tokens = (t: Tensor, L: number, D: number): HeadView => ({ t, sb: L * D, sl: D });

/** Scratch and saved activations of one attention layer (allocate once per layer and shape). */
/** Row length of kT / vT: Lk rounded up to 4 (vec4-aligned matmul B rows). */
export const attnLd = (Lk: number): number => Math.ceil(Lk / 4) * 4;

export interface AttnBuffers {
  kT: Tensor; // (B, H, dh, attnLd(Lk))
  vT: Tensor; // (B, H, dh, attnLd(Lk)) (backward)
  S: Tensor; // (B, H, Lq, attnLd(Lk)) scores, reused for dS in the backward
  P: Tensor; // (B, H, Lq, attnLd(Lk)) saved probabilities
  dP: Tensor; // (B, H, Lq, attnLd(Lk))
}

export function attnBuffers(gpu: Gpu, s: AttnShape, label: string, withBackward = true): AttnBuffers {
  const { B, H, Lq, Lk, dh } = s;
  const scores = [B, H, Lq, attnLd(Lk)];
  const kT = tensor(gpu, `${label} kT`, [B, H, dh, attnLd(Lk)]);
  const S = tensor(gpu, `${label} S`, scores);
  const P = tensor(gpu, `${label} P`, scores);
  return {
    kT,
    S,
    P,
    vT: withBackward ? tensor(gpu, `${label} vT`, [B, H, dh, attnLd(Lk)]) : kT,
    dP: withBackward ? tensor(gpu, `${label} dP`, scores) : S,
  };
}

/** head_transpose4.wgsl (4 x 4 vec4 blocks) when the view is vec4-aligned, else head_transpose.wgsl. */
function headTranspose(gpu: Gpu, src: HeadView, dst: Tensor, s: AttnShape): Call {
  const vec4 = [s.dh, src.t.off, src.sb, src.sl, dst.off].every((x) => x % 4 === 0);
  return makeCall(
    gpu,
    vec4 ? "nn/head_transpose4.wgsl" : "nn/head_transpose.wgsl",
    [src.t, dst],
    [s.Lk, s.H, s.dh, src.t.off, src.sb, src.sl, attnLd(s.Lk), 0].map(u32),
    vec4 ? [Math.ceil(s.Lk / 64), Math.ceil(s.dh / 16), s.B * s.H] : [Math.ceil(s.Lk / 16), Math.ceil(s.dh / 4), s.B * s.H],
    {
      label: `head transpose ${src.t.label}`,
    },
  );
}

/** matmul operand strides of a head view (two-level batch (B, H)). */
const hv = (v: HeadView, dh: number) => ({ t: v.t, ld: v.sl, stride: [v.sb, dh] as [number, number] });

export function attentionForward(gpu: Gpu, s: AttnShape, q: HeadView, k: HeadView, v: HeadView, out: HeadView, buf: AttnBuffers): Call[] {
  const { B, H, Lq, Lk, dh } = s;
  const z = { batches: B * H, batchH: H };
  const ldk = attnLd(Lk);
  const sc: [number, number] = [H * Lq * ldk, Lq * ldk];
  const tr: [number, number] = [H * dh * ldk, dh * ldk];
  const Q = hv(q, dh);
  const V = hv(v, dh);
  const O = hv(out, dh);
  return [
    headTranspose(gpu, k, buf.kT, s),
    // S (Lq, Lk) = Q (Lq, dh) @ kT (dh, Lk)
    matmulCall(gpu, {
      M: Lq,
      N: Lk,
      K: dh,
      a: Q.t,
      sam: Q.ld,
      aStride: Q.stride,
      b: buf.kT,
      ldb: ldk,
      bStride: tr,
      c: buf.S,
      ldc: ldk,
      cStride: sc,
      ...z,
      label: "attn S",
    }),
    softmaxForward(gpu, buf.S, buf.P, B * H * Lq, Lk, 1 / Math.sqrt(dh), ldk),
    // O (Lq, dh) = P (Lq, Lk) @ V (Lk, dh), written merged into out
    matmulCall(gpu, {
      M: Lq,
      N: dh,
      K: Lk,
      a: buf.P,
      sam: ldk,
      aStride: sc,
      b: V.t,
      ldb: V.ld,
      bStride: V.stride,
      c: O.t,
      ldc: O.ld,
      cStride: O.stride,
      ...z,
      label: "attn O",
    }),
  ];
}

export function attentionBackward(
  gpu: Gpu,
  s: AttnShape,
  q: HeadView,
  k: HeadView,
  v: HeadView,
  dout: HeadView,
  dq: HeadView,
  dk: HeadView,
  dv: HeadView,
  buf: AttnBuffers,
): Call[] {
  const { B, H, Lq, Lk, dh } = s;
  const z = { batches: B * H, batchH: H };
  const ldk = attnLd(Lk);
  const sc: [number, number] = [H * Lq * ldk, Lq * ldk];
  const tr: [number, number] = [H * dh * ldk, dh * ldk];
  const [Q, K, dO, dQ, dK, dV] = [q, k, dout, dq, dk, dv].map((x) => hv(x, dh));
  return [
    headTranspose(gpu, v, buf.vT, s),
    // dP (Lq, Lk) = dO (Lq, dh) @ vT (dh, Lk)
    matmulCall(gpu, {
      M: Lq,
      N: Lk,
      K: dh,
      a: dO.t,
      sam: dO.ld,
      aStride: dO.stride,
      b: buf.vT,
      ldb: ldk,
      bStride: tr,
      c: buf.dP,
      ldc: ldk,
      cStride: sc,
      ...z,
      label: "attn dP",
    }),
    // dV (Lk, dh) = P^T (Lk, Lq) @ dO (Lq, dh)
    matmulCall(gpu, {
      M: Lk,
      N: dh,
      K: Lq,
      a: buf.P,
      sam: 1,
      sak: ldk,
      aStride: sc,
      b: dO.t,
      ldb: dO.ld,
      bStride: dO.stride,
      c: dV.t,
      ldc: dV.ld,
      cStride: dV.stride,
      ...z,
      label: "attn dV",
    }),
    // dS (into S) = softmax backward
    softmaxBackward(gpu, buf.P, buf.dP, buf.S, B * H * Lq, Lk, 1 / Math.sqrt(dh), ldk),
    // dQ (Lq, dh) = dS (Lq, Lk) @ K (Lk, dh)
    matmulCall(gpu, {
      M: Lq,
      N: dh,
      K: Lk,
      a: buf.S,
      sam: ldk,
      aStride: sc,
      b: K.t,
      ldb: K.ld,
      bStride: K.stride,
      c: dQ.t,
      ldc: dQ.ld,
      cStride: dQ.stride,
      ...z,
      label: "attn dQ",
    }),
    // dK (Lk, dh) = dS^T (Lk, Lq) @ Q (Lq, dh)
    matmulCall(gpu, {
      M: Lk,
      N: dh,
      K: Lq,
      a: buf.S,
      sam: 1,
      sak: ldk,
      aStride: sc,
      b: Q.t,
      ldb: Q.ld,
      bStride: Q.stride,
      c: dK.t,
      ldc: dK.ld,
      cStride: dK.stride,
      ...z,
      label: "attn dK",
    }),
  ];
}
