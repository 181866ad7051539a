// A head trainer on the CPU: the head forward/backward of the float64 twin (src/ref/probe/heads.ts)
// in float32, the probe losses (losses.ts) and the CPU AdamW (src/nn/adamw_cpu.ts). It is the
// oracle for the GPU trainer (same batches, same update) and is fast enough for tiny probes
// (tests, smoke runs); real probes run the GPU engine behind the same interface.

import { adamwStep } from "../nn/adamw_cpu.js";
import { linearBackward, linearForward } from "../nn/cpu.js";
import { type AdamWConfig, adamwPresets } from "../nn/optim_config.js";
import {
  gelu,
  geluGrad,
  type HeadConfig,
  type HeadDims,
  type HeadParams,
  type HeadWeights,
  headDims,
  headParamSpecs,
  initHeadParams,
  tokenOutputs,
  tokensToMap,
  tokensToMapBackward,
} from "./heads.js";
import { crossEntropyBackward, crossEntropyForward, SILOG_LAMBDA, siLogBackward, siLogForward } from "./losses.js";

/** Targets of a batch: depth (B, H*W) metres (0 = no data) or classes (B, H*W) 0..K-1, 255 = ignore. */
export type ProbeTargets =
  | { kind: "depth"; depth: Float32Array }
  /** weights: per-class loss weights (probe config classWeights), absent = every pixel counts 1 */
  | { kind: "seg"; classes: Uint8Array; weights?: Float64Array };

/** What the probe loop needs from a head trainer (CPU here, GPU in the training engine). */
export interface HeadTrainer {
  readonly config: HeadConfig;
  /** One optimisation step on tokens (B, L, D) and targets at (B, H, W); returns the batch loss. */
  step(tokens: Float32Array, targets: ProbeTargets, B: number, lr: number): Promise<number>;
  /** Head output (B, H, W, C): log depth, or class logits. */
  predict(tokens: Float32Array, B: number): Promise<Float32Array>;
  /** As step, also returning dL/dtokens (fine-tuning backpropagates it into the encoder). */
  stepWithInputGrad?(
    tokens: Float32Array,
    targets: ProbeTargets,
    B: number,
    lr: number,
    wantInputGrad: boolean,
  ): { loss: number; dTokens: Float32Array | null };
}

/** The head optimiser's settings: AdamW (src/nn/adamw_cpu.ts) without clipping; lr comes per step. */
export type HeadAdamW = Pick<AdamWConfig, "beta1" | "beta2" | "eps" | "weightDecay">;

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
  const f = crossEntropyForward(out, targets.classes, B * pixels, classes, 255, targets.weights ?? null);
  crossEntropyBackward(f.acts, 1, dout);
  return { loss: f.loss, dout };
}

/** Head forward in float32 (see src/ref/probe/heads.ts headForward): tokens (B, L, D) -> (B, H, W, C). */
export function headForwardF32(
  tokens: Float32Array,
  w: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  d: HeadDims,
): { out: Float32Array; pre: Float32Array | null; act: Float32Array | null } {
  const M = d.B * d.gh * d.gw;
  const P = tokenOutputs(d);
  if (tokens.length !== M * d.D)
    throw new Error(`head forward: tokens has ${tokens.length} values, expected (B, L, D) = (${d.B}, ${d.gh * d.gw}, ${d.D})`);
  let pre: Float32Array | null = null;
  let act: Float32Array | null = null;
  let y: Float32Array;
  if (d.hidden === 0) y = linearForward(tokens, w.w1, w.b1, M, d.D, P, Float32Array);
  else {
    pre = linearForward(tokens, w.w1, w.b1, M, d.D, d.hidden, Float32Array);
    act = pre.map(gelu);
    y = linearForward(act, w.w2!, w.b2!, M, d.hidden, P, Float32Array);
  }
  return { out: Float32Array.from(tokensToMap(y, d)), pre, act };
}

/**
 * Head backward in float32: grads (flat views) += dL/dweights for dout (B, H, W, C). With
 * wantInputGrad, also returns dL/dtokens (B, L, D) (fine-tuning backpropagates it into the encoder).
 */
export function headBackwardF32(
  tokens: Float32Array,
  fwd: { pre: Float32Array | null; act: Float32Array | null },
  w: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  dout: ArrayLike<number>,
  g: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  d: HeadDims,
  wantInputGrad = false,
): Float32Array | null {
  const M = d.B * d.gh * d.gw;
  const P = tokenOutputs(d);
  const dy = new Float32Array(M * P);
  tokensToMapBackward(dout, dy, d);
  if (d.hidden === 0) return linearBackward(tokens, w.w1, dy, g.w1, g.b1, M, d.D, P, wantInputGrad, Float32Array);
  const dact = linearBackward(fwd.act!, w.w2!, dy, g.w2!, g.b2!, M, d.hidden, P, true, Float32Array)!;
  for (let i = 0; i < dact.length; i++) dact[i] *= geluGrad(fwd.pre![i]);
  return linearBackward(tokens, w.w1, dact, g.w1, g.b1, M, d.D, d.hidden, wantInputGrad, Float32Array);
}

export class CpuHeadTrainer implements HeadTrainer {
  readonly params: HeadParams;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** AdamW's per-element mask: 1 = decayed (weights), 0 = not (biases, padding). */
  private readonly decay: Float32Array;
  private t = 0;

  constructor(
    readonly config: HeadConfig,
    seed: number,
    outputBias = 0,
    readonly adamw: HeadAdamW = adamwPresets.probe,
  ) {
    this.params = initHeadParams(config, seed, outputBias);
    this.m = new Float32Array(this.params.data.length);
    this.v = new Float32Array(this.params.data.length);
    this.decay = new Float32Array(this.params.data.length);
    for (const spec of headParamSpecs(config)) {
      const e = this.params.layout.byName.get(spec.name)!;
      this.decay.fill(spec.decay ? 1 : 0, e.offset, e.offset + e.size);
    }
  }

  private views(): { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array } {
    return this.params.weights() as HeadWeights as { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array };
  }

  async predict(tokens: Float32Array, B: number): Promise<Float32Array> {
    return headForwardF32(tokens, this.views(), headDims(this.config, B)).out;
  }

  async step(tokens: Float32Array, targets: ProbeTargets, B: number, lr: number): Promise<number> {
    return this.stepWithInputGrad(tokens, targets, B, lr, false).loss;
  }

  /** One step, as `step`; with wantInputGrad also dL/dtokens (B, L, D) at the weights before the update. */
  stepWithInputGrad(
    tokens: Float32Array,
    targets: ProbeTargets,
    B: number,
    lr: number,
    wantInputGrad = true,
  ): { loss: number; dTokens: Float32Array | null } {
    const dims = headDims(this.config, B);
    const w = this.views();
    const fwd = headForwardF32(tokens, w, dims);
    const pixels = dims.gh * dims.p * dims.gw * dims.p;
    const { loss, dout } = probeLoss(fwd.out, targets, B, pixels, dims.C);
    const g = this.params.zeroGrads();
    const dTokens = headBackwardF32(tokens, fwd, w, dout, g.grads as typeof w, dims, wantInputGrad);
    this.t++;
    adamwStep(this.params.data, g.data, this.m, this.v, this.decay, { ...this.adamw, lr, maxGradNorm: 0 }, this.t);
    return { loss, dTokens };
  }
}
