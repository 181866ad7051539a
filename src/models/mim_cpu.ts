// The MIM models on the CPU: ViT encoder, MAE decoder, CroCo decoder and the masked-patch loss, as
// MIMIC's models_multiviewmae.py (on MAE, timm and CroCo) computes them, forward only, in float32
// arrays with float64 accumulation: the blocks are the CPU transformer (src/nn/cpu_transformer.ts)
// at float32, the same code the float64 twins of the GPU blocks run. The probe's CPU encoder and `mimic reconstruct` run
// it; it is also the oracle for the GPU model (src/ref/models/mim.ts re-exports it under its twin
// names). Parameters are looked up by their PyTorch names through `P(name)`; shapes as in params.ts.

import { layernormForward, linearForward, maskedMse, patchify, unpatchify } from "../nn/cpu.js";
import { blockForward, crossBlockForward } from "../nn/cpu_transformer.js";
import type { ModelConfig } from "./config.js";
import type { Masking } from "./masking.js";

/** The dimensions the CPU model needs (a ModelConfig has them). */
export type CpuMimDims = Pick<
  ModelConfig,
  | "imgSize"
  | "patchSize"
  | "width"
  | "depth"
  | "heads"
  | "decoderWidth"
  | "decoderDepth"
  | "decoderHeads"
  | "mlpRatio"
  | "lnEps"
  | "objective"
  | "normPixLoss"
>;

/** Parameter lookup by PyTorch name. */
export type ParamGetter = (name: string) => Float32Array;

// ---------------------------------------------------------------------------------------------
// Layers: the CPU layer library (src/nn/cpu.ts) and the CPU transformer (src/nn/cpu_transformer.ts),
// the same code the float64 twins run, here in float32.

const F32 = Float32Array;

/** y (N, out) = x (N, in) @ W^T + b, W (out, in) as PyTorch's nn.Linear. */
function linear(x: Float32Array, N: number, inDim: number, W: Float32Array, b: Float32Array | null, outDim: number): Float32Array {
  if (x.length !== N * inDim || W.length !== outDim * inDim)
    throw new Error(`linear: shapes x ${x.length} vs (${N},${inDim}), W ${W.length} vs (${outDim},${inDim})`);
  return linearForward(x, W, b, N, inDim, outDim, F32);
}

const ln = (P: ParamGetter, pre: string, x: Float32Array, N: number, D: number, eps: number) =>
  layernormForward(x, P(`${pre}.weight`), P(`${pre}.bias`), N, D, eps, F32).y;

/** timm pre-norm Block on x (N, D) of ONE sample, in place. */
function vitBlock(P: ParamGetter, pre: string, x: Float32Array, N: number, D: number, heads: number, hidden: number, eps: number): void {
  x.set(blockForward(P, pre, { D, H: heads, mlpRatio: hidden / D, eps }, x, 1, N, F32).out);
}

/** CroCo DecoderBlock on x (Nq, D) of ONE sample, in place; y (Nk, D) is the (un-normed) memory, left unchanged. */
function crocoBlock(
  P: ParamGetter,
  pre: string,
  x: Float32Array,
  Nq: number,
  y: Float32Array,
  Nk: number,
  D: number,
  heads: number,
  hidden: number,
  eps: number,
): void {
  x.set(crossBlockForward(P, pre, { D, H: heads, mlpRatio: hidden / D, eps }, x, y, 1, Nq, Nk, F32).out);
}

// ---------------------------------------------------------------------------------------------
// Model

/** (B, L, p*p*3) patches of (B, 3, H, W) images; within a patch the order is (row, col, channel). */
export function patchifyCpu(imgs: Float32Array, B: number, imgSize: number, p: number): Float32Array {
  return patchify(imgs, B, imgSize, imgSize, p, 0, Float32Array);
}

/** Inverse of patchifyCpu: (B, L, p*p*3) -> (B, 3, H, W). */
export function unpatchifyCpu(x: Float32Array, B: number, imgSize: number, p: number): Float32Array {
  return unpatchify(x, B, imgSize, imgSize, p, 0, Float32Array);
}

/** Conv patch embedding: (B, 3, H, W) -> (B, L, D) with weight (D, 3, p, p) and bias (D). */
export function patchEmbedCpu(
  imgs: Float32Array,
  B: number,
  imgSize: number,
  p: number,
  W: Float32Array,
  bias: Float32Array,
  D: number,
): Float32Array {
  const G = imgSize / p;
  const L = G * G;
  const out = new Float32Array(B * L * D);
  for (let b = 0; b < B; b++)
    for (let gr = 0; gr < G; gr++)
      for (let gc = 0; gc < G; gc++)
        for (let d = 0; d < D; d++) {
          let s = bias[d];
          for (let c = 0; c < 3; c++)
            for (let i = 0; i < p; i++) {
              const wo = ((d * 3 + c) * p + i) * p;
              const io = ((b * 3 + c) * imgSize + gr * p + i) * imgSize + gc * p;
              for (let j = 0; j < p; j++) s += W[wo + j] * imgs[io + j];
            }
          out[(b * L + gr * G + gc) * D + d] = s;
        }
  return out;
}

/**
 * ViT encoder (forward_encoder): patch embed, + pos_embed[1:], keep masking.idsKeep (all patches in
 * order when masking is null), prepend cls_token + pos_embed[0], blocks, norm.
 * imgs (B, 3, H, W) -> latent (B, 1 + keep, D).
 */
export function encoderCpu(
  P: ParamGetter,
  c: CpuMimDims,
  imgs: Float32Array,
  B: number,
  masking: Masking | null,
): { latent: Float32Array; tokens: number } {
  const D = c.width;
  const p = c.patchSize;
  const G = c.imgSize / p;
  const L = G * G;
  if (imgs.length !== B * 3 * c.imgSize * c.imgSize)
    throw new Error(`encoderCpu: images have ${imgs.length} floats, expected (${B}, 3, ${c.imgSize}, ${c.imgSize})`);
  const emb = patchEmbedCpu(imgs, B, c.imgSize, p, P("patch_embed.proj.weight"), P("patch_embed.proj.bias"), D); // (B, L, D)
  const pos = P("pos_embed"); // (1, 1 + L, D)
  const cls = P("cls_token");
  const keep = masking ? masking.keep : L;
  const T = 1 + keep;
  const latent = new Float32Array(B * T * D);
  for (let b = 0; b < B; b++) {
    const x = new Float32Array(T * D);
    for (let d = 0; d < D; d++) x[d] = cls[d] + pos[d];
    for (let t = 0; t < keep; t++) {
      const patch = masking ? masking.idsKeep[b * keep + t] : t;
      for (let d = 0; d < D; d++) x[(1 + t) * D + d] = emb[(b * L + patch) * D + d] + pos[(1 + patch) * D + d];
    }
    for (let i = 0; i < c.depth; i++) vitBlock(P, `blocks.${i}`, x, T, D, c.heads, D * c.mlpRatio, c.lnEps);
    latent.set(ln(P, "norm", x, T, D, c.lnEps), b * T * D);
  }
  return { latent, tokens: T };
}

/** decoder_embed, mask tokens, unshuffle with ids_restore, + decoder_pos_embed: (B, 1 + L, Dd). */
function decoderInput(P: ParamGetter, c: CpuMimDims, latent: Float32Array, B: number, masking: Masking): Float32Array {
  const D = c.width;
  const Dd = c.decoderWidth;
  const L = masking.L;
  const keep = masking.keep;
  const T = 1 + keep;
  const emb = linear(latent, B * T, D, P("decoder_embed.weight"), P("decoder_embed.bias"), Dd); // (B, 1 + keep, Dd)
  const mt = P("mask_token");
  const pos = P("decoder_pos_embed");
  const x = new Float32Array(B * (1 + L) * Dd);
  for (let b = 0; b < B; b++) {
    const xo = b * (1 + L) * Dd;
    for (let d = 0; d < Dd; d++) x[xo + d] = emb[b * T * Dd + d] + pos[d];
    for (let i = 0; i < L; i++) {
      const j = masking.idsRestore[b * L + i]; // position of patch i in [kept..., removed...]
      for (let d = 0; d < Dd; d++) {
        const v = j < keep ? emb[(b * T + 1 + j) * Dd + d] : mt[d];
        x[xo + (1 + i) * Dd + d] = v + pos[(1 + i) * Dd + d];
      }
    }
  }
  return x;
}

/** decoder_norm, decoder_pred, drop cls: (B, 1 + L, Dd) -> pred (B, L, p*p*3). */
function decoderHead(P: ParamGetter, c: CpuMimDims, x: Float32Array, B: number, L: number): Float32Array {
  const Dd = c.decoderWidth;
  const pd = c.patchSize * c.patchSize * 3;
  const y = linear(
    ln(P, "decoder_norm", x, B * (1 + L), Dd, c.lnEps),
    B * (1 + L),
    Dd,
    P("decoder_pred.weight"),
    P("decoder_pred.bias"),
    pd,
  );
  const pred = new Float32Array(B * L * pd);
  for (let b = 0; b < B; b++) pred.set(y.subarray((b * (1 + L) + 1) * pd, (b + 1) * (1 + L) * pd), b * L * pd);
  return pred;
}

/** MAE decoder (forward_decoder, blocks `decoder_blocks.{i}`): latent (B, 1 + keep, D) -> pred (B, L, p*p*3). */
export function maeDecoderCpu(P: ParamGetter, c: CpuMimDims, latent: Float32Array, B: number, masking: Masking): Float32Array {
  const Dd = c.decoderWidth;
  const L = masking.L;
  const x = decoderInput(P, c, latent, B, masking);
  for (let b = 0; b < B; b++) {
    const xb = x.subarray(b * (1 + L) * Dd, (b + 1) * (1 + L) * Dd);
    for (let i = 0; i < c.decoderDepth; i++) vitBlock(P, `decoder_blocks.${i}`, xb, 1 + L, Dd, c.decoderHeads, Dd * c.mlpRatio, c.lnEps);
  }
  return decoderHead(P, c, x, B, L);
}

/**
 * CroCo decoder (forward_decoder_croco, blocks `decoder_blocks_croco.{i}`): view 1's latent
 * (B, 1 + keep, D) with its masking, view 2's unmasked latent (B, 1 + L, D), which goes through the
 * same decoder_embed + decoder_pos_embed and is the (per-block norm_y'd) cross-attention memory.
 */
export function crocoDecoderCpu(
  P: ParamGetter,
  c: CpuMimDims,
  latent1: Float32Array,
  B: number,
  masking: Masking,
  latent2: Float32Array,
): Float32Array {
  const D = c.width;
  const Dd = c.decoderWidth;
  const L = masking.L;
  const x = decoderInput(P, c, latent1, B, masking);
  if (latent2.length !== B * (1 + L) * D)
    throw new Error(`crocoDecoderCpu: view-2 latent has ${latent2.length} floats, expected (${B}, ${1 + L}, ${D})`);
  const y = linear(latent2, B * (1 + L), D, P("decoder_embed.weight"), P("decoder_embed.bias"), Dd);
  const pos = P("decoder_pos_embed");
  for (let b = 0; b < B; b++) for (let i = 0; i < (1 + L) * Dd; i++) y[b * (1 + L) * Dd + i] += pos[i];
  for (let b = 0; b < B; b++) {
    const xb = x.subarray(b * (1 + L) * Dd, (b + 1) * (1 + L) * Dd);
    const yb = y.subarray(b * (1 + L) * Dd, (b + 1) * (1 + L) * Dd);
    for (let i = 0; i < c.decoderDepth; i++)
      crocoBlock(P, `decoder_blocks_croco.${i}`, xb, 1 + L, yb, 1 + L, Dd, c.decoderHeads, Dd * c.mlpRatio, c.lnEps);
  }
  return decoderHead(P, c, x, B, L);
}

export interface MimForwardCpu {
  loss: number;
  /** (B, L, p*p*3) */
  pred: Float32Array;
  /** (B, L, p*p*3) */
  target: Float32Array;
  /** (B, 1 + keep, D) view 1 (MAE: the only view). */
  latent1: Float32Array;
  /** (B, 1 + L, D) view 2 (CroCo only). */
  latent2: Float32Array | null;
}

/**
 * Whole forward + loss. CroCo: view1 (B, 3, H, W) masked by `masking`, view2 encoded unmasked by the
 * same encoder, loss on view 1's removed patches. MAE: view2 must be null.
 */
export function mimForwardCpu(
  P: ParamGetter,
  c: CpuMimDims,
  view1: Float32Array,
  view2: Float32Array | null,
  B: number,
  masking: Masking,
): MimForwardCpu {
  const p = c.patchSize;
  const L = (c.imgSize / p) ** 2;
  if (masking.L !== L || masking.batch !== B)
    throw new Error(`mimForwardCpu: masking is for (${masking.batch}, ${masking.L}), model needs (${B}, ${L})`);
  const { latent: latent1 } = encoderCpu(P, c, view1, B, masking);
  let pred: Float32Array;
  let latent2: Float32Array | null = null;
  if (c.objective === "croco") {
    if (!view2) throw new Error("mimForwardCpu: the CroCo objective needs view 2");
    latent2 = encoderCpu(P, c, view2, B, null).latent;
    pred = crocoDecoderCpu(P, c, latent1, B, masking, latent2);
  } else {
    if (view2) throw new Error("mimForwardCpu: the MAE objective takes one view");
    pred = maeDecoderCpu(P, c, latent1, B, masking);
  }
  // MAE's loss (norm_pix_loss: each target patch normalised by its mean and unbiased variance).
  const mse = maskedMse(pred, patchifyCpu(view1, B, c.imgSize, p), masking.mask, B * L, p * p * 3, c.normPixLoss);
  return { loss: mse.loss, pred, target: Float32Array.from(mse.tn), latent1, latent2 };
}
