// Reconstructions: run a MIM model on view 1 (+ view 2 for CroCo) with a seeded or explicit mask
// and draw masked input / prediction / target (/ view 2) side by side, as `mimic train` does at each
// checkpoint and `mimic reconstruct` does for a checkpoint. The forward is pluggable: the CPU
// reference (`cpuForward`) now, the GPU model once the engine lands.

import type { RgbImage } from "../image/io.js";
import { writePng } from "../image/io.js";
import { gridSize, type ModelConfig, numPatches, patchDim } from "../models/config.js";
import { explicitMasking, type Masking, maskedIndices, randomMasking } from "../models/masking.js";
import { mimForwardCpu, patchifyCpu, unpatchifyCpu } from "../models/mim_cpu.js";
import type { ParamStore } from "../models/params.js";
import { denormalizeRgb, loadImage } from "./data.js";

/** A forward pass + loss: views (B, 3, H, W) normalised, masking for view 1 -> loss and pred (B, L, p*p*3). */
export type MimForward = (
  params: ParamStore,
  config: ModelConfig,
  view1: Float32Array,
  view2: Float32Array | null,
  B: number,
  masking: Masking,
) => Promise<{ loss: number; pred: Float32Array }>;

/** The CPU reference forward (src/models/mim_cpu.ts): exact, slow; fine for nano/tiny single images. */
export const cpuForward: MimForward = async (params, config, view1, view2, B, masking) => {
  const r = mimForwardCpu((n) => params.get(n), config, view1, view2, B, masking);
  return { loss: r.loss, pred: r.pred };
};

/**
 * Seeded masking for training step `step` of a run: randomMasking(B, L, ratio, seed ^ 0x9e3779b9,
 * step * B), i.e. sample b of step s draws its noise from Pcg32(seed ^ 0x9e3779b9, s * B + b), a
 * seed apart from the data loader's streams. Resuming at step s reproduces the masks.
 */
export function stepMasking(config: ModelConfig, B: number, seed: number, step: number): Masking {
  return randomMasking(B, numPatches(config), config.maskRatio, (seed ^ 0x9e3779b9) >>> 0, step * B);
}

/**
 * Side-by-side panels of sample b, each S x S, 2 px white gaps: masked input (removed patches at
 * the ImageNet mean colour), prediction (predicted removed patches pasted on the visible input, as
 * MAE's demo; with normPixLoss the prediction is un-normalised with the target patch's mean/std),
 * target, and view 2 when given. Inputs are ImageNet-normalised (B, 3, S, S); pred (B, L, p*p*3).
 */
export function reconstructionPanels(
  config: ModelConfig,
  view1: Float32Array,
  pred: Float32Array,
  mask: Float32Array,
  b = 0,
  view2: Float32Array | null = null,
): RgbImage {
  const S = config.imgSize;
  const p = config.patchSize;
  const L = numPatches(config);
  const pd = patchDim(config);
  const per = 3 * S * S;
  const img = view1.subarray(b * per, (b + 1) * per);
  const target = patchifyCpu(img, 1, S, p); // (L, pd)
  const predB = pred.slice(b * L * pd, (b + 1) * L * pd);
  if (config.normPixLoss) {
    for (let n = 0; n < L; n++) {
      let mean = 0;
      for (let i = 0; i < pd; i++) mean += target[n * pd + i];
      mean /= pd;
      let v = 0;
      for (let i = 0; i < pd; i++) v += (target[n * pd + i] - mean) ** 2;
      const std = Math.sqrt(v / (pd - 1) + 1e-6);
      for (let i = 0; i < pd; i++) predB[n * pd + i] = predB[n * pd + i] * std + mean;
    }
  }
  const masked = target.slice();
  const pasted = target.slice();
  for (let n = 0; n < L; n++) {
    if (mask[b * L + n] !== 1) continue;
    masked.fill(0, n * pd, (n + 1) * pd);
    pasted.set(predB.subarray(n * pd, (n + 1) * pd), n * pd);
  }
  const panels = [unpatchifyCpu(masked, 1, S, p), unpatchifyCpu(pasted, 1, S, p), img];
  if (view2) panels.push(view2.subarray(b * per, (b + 1) * per));
  const gap = 2;
  const W = panels.length * S + (panels.length - 1) * gap;
  const rgb = new Uint8Array(W * S * 3).fill(255);
  panels.forEach((chw, k) => {
    const px = denormalizeRgb(chw, S);
    for (let y = 0; y < S; y++) rgb.set(px.subarray(y * S * 3, (y + 1) * S * 3), (y * W + k * (S + gap)) * 3);
  });
  return { width: W, height: S, rgb };
}

export interface ReconstructOptions {
  params: ParamStore;
  /** View 1 image file (resized to the model's input size). */
  view1: string;
  /** View 2 image file (CroCo objective). */
  view2?: string;
  /** Masked patch indices (row-major from the top left); a seeded random mask when absent. */
  mask?: number[];
  /** Seed of the random mask (default 0). */
  seed?: number;
  /** Where to write the PNG (optional). */
  out?: string;
  forward?: MimForward;
}

export interface ReconstructResult {
  loss: number;
  /** Masked patch indices, ascending. */
  masked: number[];
  image: RgbImage;
}

/** Run the model on one image (pair) and draw the reconstruction. */
export async function reconstruct(o: ReconstructOptions): Promise<ReconstructResult> {
  const config = o.params.config;
  if (config.objective === "croco" && !o.view2) throw new Error("the CroCo objective needs a second view (--view2)");
  if (config.objective === "mae" && o.view2) throw new Error("the MAE objective takes one view; drop --view2 or use a CroCo checkpoint");
  const S = config.imgSize;
  const view1 = await loadImage(o.view1, S);
  const view2 = o.view2 ? await loadImage(o.view2, S) : null;
  const L = gridSize(config) ** 2;
  const masking = o.mask ? explicitMasking(1, L, o.mask) : randomMasking(1, L, config.maskRatio, o.seed ?? 0);
  const { loss, pred } = await (o.forward ?? cpuForward)(o.params, config, view1, view2, 1, masking);
  const image = reconstructionPanels(config, view1, pred, masking.mask, 0, view2);
  if (o.out) await writePng(o.out, image.width, image.height, image.rgb, 3);
  return { loss, masked: maskedIndices(masking, 0), image };
}
