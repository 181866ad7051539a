// CPU twins of the probe heads: plain loops in float64, the oracle for the GPU versions the
// training engine runs (the dims/weights types, GELU and the pixel shuffle come from
// src/probe/heads.ts). Same argument order as the GPU calls: inputs, params, outputs, sizes. Forward saves what backward needs; backward ACCUMULATES (+=) into the gradients.
//
// A head maps frozen encoder tokens (B, L, D), L = gh * gw patch tokens (no cls token), to a dense
// map (B, H, W, C), H = gh * p, W = gw * p, channel-last: each token predicts the p x p block of
// pixels under its patch (a "pixel shuffle" of a p*p*C vector per token). Inside the token's
// vector the order is (row py, col px, channel c): index (py * p + px) * C + c, the order of MAE's
// decoder_pred / unpatchify, so the same kernels serve both. With dims.upsample a token predicts C
// values instead, and the (gh, gw, C) map is upsampled bilinearly by p (heads.ts bilinearTaps).
//   linear: y = tokens @ W^T + b                        W (p*p*C, D)
//   mlp:    y = gelu(tokens @ W1^T + b1) @ W2^T + b2     W1 (hidden, D), W2 (p*p*C, hidden); exact erf GELU
// Depth heads output C = 1 log depth (metres = exp); segmentation heads output C = K logits.

import { linearBackward, linearForward } from "../../nn/cpu.js";
import {
  gelu,
  geluGrad,
  type HeadDims,
  type HeadGrads,
  type HeadWeights,
  pixelShuffleBackward,
  pixelShuffleForward,
  tokenOutputs,
  tokensToMap,
  tokensToMapBackward,
} from "../../probe/heads.js";

export { gelu, geluGrad, type HeadDims, type HeadGrads, type HeadWeights, pixelShuffleBackward, pixelShuffleForward };

type Arr = ArrayLike<number>;

export interface HeadActs {
  dims: HeadDims;
  /** (B*L, D) the input tokens */
  tokens: Arr;
  /** mlp: (B*L, hidden) pre-activation */
  pre: Float64Array | null;
  /** mlp: (B*L, hidden) gelu(pre) */
  act: Float64Array | null;
}

function checkDims(d: HeadDims): void {
  for (const k of ["B", "gh", "gw", "D", "p", "C"] as const)
    if (!(Number.isInteger(d[k]) && d[k] > 0)) throw new Error(`head dims: ${k} must be a positive integer, got ${d[k]}`);
  if (!(Number.isInteger(d.hidden) && d.hidden >= 0)) throw new Error(`head dims: hidden must be >= 0 (0 = linear), got ${d.hidden}`);
}

/** Head forward: tokens (B, L, D) -> out (B, gh*p, gw*p, C). */
export function headForward(tokens: Arr, weights: HeadWeights, dims: HeadDims): { out: Float64Array; acts: HeadActs } {
  checkDims(dims);
  const { B, gh, gw, D, hidden } = dims;
  const M = B * gh * gw;
  const P = tokenOutputs(dims);
  if (tokens.length !== M * D)
    throw new Error(`head forward: tokens has ${tokens.length} values, expected (B, L, D) = (${B}, ${gh * gw}, ${D})`);
  let pre: Float64Array | null = null;
  let act: Float64Array | null = null;
  let y: Float64Array;
  if (hidden === 0) y = linearForward(tokens, weights.w1, weights.b1, M, D, P);
  else {
    if (!weights.w2 || !weights.b2) throw new Error("head forward: an mlp head (hidden > 0) needs w2 and b2");
    pre = linearForward(tokens, weights.w1, weights.b1, M, D, hidden);
    act = pre.map(gelu);
    y = linearForward(act, weights.w2, weights.b2, M, hidden, P);
  }
  return { out: tokensToMap(y, dims), acts: { dims, tokens, pre, act } };
}

/** Head backward: grads += dL/dweights; returns dL/dtokens (B, L, D) if wantDTokens (frozen encoder: not needed). */
export function headBackward(acts: HeadActs, weights: HeadWeights, dout: Arr, grads: HeadGrads, wantDTokens = false): Float64Array | null {
  const { dims, tokens, pre, act } = acts;
  const { B, gh, gw, D, p, C, hidden } = dims;
  const M = B * gh * gw;
  const P = tokenOutputs(dims);
  const outLen = M * p * p * C;
  if (dout.length !== outLen) throw new Error(`head backward: dout has ${dout.length} values, expected (B, H, W, C) with ${outLen}`);
  const dy = new Float64Array(M * P);
  tokensToMapBackward(dout, dy, dims);
  if (hidden === 0) return linearBackward(tokens, weights.w1, dy, grads.w1, grads.b1, M, D, P, wantDTokens);
  if (!grads.w2 || !grads.b2) throw new Error("head backward: an mlp head needs w2 and b2 gradients");
  const dact = linearBackward(act!, weights.w2!, dy, grads.w2, grads.b2, M, hidden, P, true)!;
  for (let i = 0; i < dact.length; i++) dact[i] *= geluGrad(pre![i]);
  return linearBackward(tokens, weights.w1, dact, grads.w1, grads.b1, M, D, hidden, wantDTokens);
}
