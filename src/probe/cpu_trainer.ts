// A head trainer on the CPU: the reference forward/backward (src/ref/probe/heads.ts, losses.ts)
// with AdamW. It is the oracle for the GPU trainer (same batches, same update) and is fast enough
// for tiny probes (tests, smoke runs); real probes run the GPU engine behind the same interface.

import { headBackward, headForward } from "../ref/probe/heads.js";
import { crossEntropyBackward, crossEntropyForward, SILOG_LAMBDA, siLogBackward, siLogForward } from "../ref/probe/losses.js";
import { type HeadConfig, type HeadParams, headDims, headParamSpecs, initHeadParams } from "./heads.js";

/** Targets of a batch: depth (B, H*W) metres (0 = no data) or classes (B, H*W) 0..K-1, 255 = ignore. */
export type ProbeTargets = { kind: "depth"; depth: Float32Array } | { kind: "seg"; classes: Uint8Array };

/** What the probe loop needs from a head trainer (CPU here, GPU in the training engine). */
export interface HeadTrainer {
  readonly config: HeadConfig;
  /** One optimisation step on tokens (B, L, D) and targets at (B, H, W); returns the batch loss. */
  step(tokens: Float32Array, targets: ProbeTargets, B: number, lr: number): Promise<number>;
  /** Head output (B, H, W, C): log depth, or class logits. */
  predict(tokens: Float32Array, B: number): Promise<Float32Array>;
}

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay, applied to tensors whose spec says decay (weights, not biases) */
  weightDecay: number;
}

export const adamwDefaults: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 };

/** The loss of a head output against targets, and its gradient (dout, same layout as out). */
export function probeLoss(
  out: ArrayLike<number>,
  targets: ProbeTargets,
  B: number,
  pixels: number,
  classes: number,
): { loss: number; dout: Float64Array } {
  const dout = new Float64Array(out.length);
  if (targets.kind === "depth") {
    const f = siLogForward(out, targets.depth, B, pixels, SILOG_LAMBDA);
    siLogBackward(f.acts, 1, dout);
    return { loss: f.loss, dout };
  }
  const f = crossEntropyForward(out, targets.classes, B * pixels, classes, 255);
  crossEntropyBackward(f.acts, 1, dout);
  return { loss: f.loss, dout };
}

export class CpuHeadTrainer implements HeadTrainer {
  readonly params: HeadParams;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(
    readonly config: HeadConfig,
    seed: number,
    outputBias = 0,
    readonly adamw: AdamWConfig = adamwDefaults,
  ) {
    this.params = initHeadParams(config, seed, outputBias);
    this.m = new Float32Array(this.params.data.length);
    this.v = new Float32Array(this.params.data.length);
  }

  async predict(tokens: Float32Array, B: number): Promise<Float32Array> {
    return Float32Array.from(headForward(tokens, this.params.weights(), headDims(this.config, B)).out);
  }

  async step(tokens: Float32Array, targets: ProbeTargets, B: number, lr: number): Promise<number> {
    const dims = headDims(this.config, B);
    const { out, acts } = headForward(tokens, this.params.weights(), dims);
    const pixels = dims.gh * dims.p * dims.gw * dims.p;
    const { loss, dout } = probeLoss(out, targets, B, pixels, dims.C);
    const g = this.params.zeroGrads();
    headBackward(acts, this.params.weights(), dout, g.grads);
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.adamw;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const p = this.params.data;
    for (const spec of headParamSpecs(this.config)) {
      const e = this.params.layout.byName.get(spec.name)!;
      const wd = spec.decay ? weightDecay : 0;
      for (let i = e.offset; i < e.offset + e.size; i++) {
        const gi = g.data[i];
        this.m[i] = beta1 * this.m[i] + (1 - beta1) * gi;
        this.v[i] = beta2 * this.v[i] + (1 - beta2) * gi * gi;
        p[i] -= lr * (this.m[i] / c1 / (Math.sqrt(this.v[i] / c2) + eps) + wd * p[i]);
      }
    }
    return loss;
  }
}
