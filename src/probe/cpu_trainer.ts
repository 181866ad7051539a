// A head trainer on the CPU: the head forward/backward of the float64 twin (src/ref/probe/heads.ts)
// in float32, the probe losses (losses.ts) and the CPU AdamW (src/nn/adamw_cpu.ts). It is the
// oracle for the GPU trainer (same batches, same update) and is fast enough for tiny probes
// (tests, smoke runs); real probes run the GPU engine behind the same interface.

import { adamwStep } from "../nn/adamw_cpu.js";
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
  pixelShuffleBackward,
  pixelShuffleForward,
} from "./heads.js";
import { crossEntropyBackward, crossEntropyForward, SILOG_LAMBDA, siLogBackward, siLogForward } from "./losses.js";

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
  const f = crossEntropyForward(out, targets.classes, B * pixels, classes, 255);
  crossEntropyBackward(f.acts, 1, dout);
  return { loss: f.loss, dout };
}

// Float32 matmuls with contiguous inner loops (4 accumulators): the same math as the reference
// heads (src/ref/probe/heads.ts, float64, the oracle) at several times its speed.

/** C (M, N) = A (M, K) @ B^T, B (N, K): dot products over contiguous K, 4 columns at a time. */
function gemmNT(A: Float32Array, B: Float32Array, M: number, K: number, N: number): Float32Array {
  const C = new Float32Array(M * N);
  const n4 = N - (N % 4);
  for (let m = 0; m < M; m++) {
    const ao = m * K;
    let n = 0;
    for (; n < n4; n += 4) {
      const b0 = n * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < K; k++) {
        const a = A[ao + k];
        s0 += a * B[b0 + k];
        s1 += a * B[b1 + k];
        s2 += a * B[b2 + k];
        s3 += a * B[b3 + k];
      }
      const co = m * N + n;
      C[co] = s0;
      C[co + 1] = s1;
      C[co + 2] = s2;
      C[co + 3] = s3;
    }
    for (; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[ao + k] * B[n * K + k];
      C[m * N + n] = s;
    }
  }
  return C;
}

/** (cols, rows) = (rows, cols)^T */
function transposeF32(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
  return t;
}

/** y (M, N) = x (M, K) @ W^T + b, W (N, K). */
function linearF32(x: Float32Array, w: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  const y = gemmNT(x, w, M, K, N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[m * N + n] += b[n];
  return y;
}

/** dW (N, K) += dy^T x, db += colsum(dy); returns dx = dy @ W (M, K) when wanted. */
function linearBackF32(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  db: Float32Array,
  M: number,
  K: number,
  N: number,
  wantDx: boolean,
): Float32Array | null {
  const dyT = transposeF32(dy, M, N); // (N, M)
  const gw = gemmNT(dyT, transposeF32(x, M, K), N, M, K); // (N, K)
  for (let i = 0; i < gw.length; i++) dw[i] += gw[i];
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += dyT[n * M + m];
    db[n] += s;
  }
  return wantDx ? gemmNT(dy, transposeF32(w, N, K), M, N, K) : null;
}

/** Head forward in float32 (see src/ref/probe/heads.ts headForward): tokens (B, L, D) -> (B, H, W, C). */
export function headForwardF32(
  tokens: Float32Array,
  w: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  d: HeadDims,
): { out: Float32Array; pre: Float32Array | null; act: Float32Array | null } {
  const M = d.B * d.gh * d.gw;
  const P = d.p * d.p * d.C;
  if (tokens.length !== M * d.D)
    throw new Error(`head forward: tokens has ${tokens.length} values, expected (B, L, D) = (${d.B}, ${d.gh * d.gw}, ${d.D})`);
  let pre: Float32Array | null = null;
  let act: Float32Array | null = null;
  let y: Float32Array;
  if (d.hidden === 0) y = linearF32(tokens, w.w1, w.b1, M, d.D, P);
  else {
    pre = linearF32(tokens, w.w1, w.b1, M, d.D, d.hidden);
    act = pre.map(gelu);
    y = linearF32(act, w.w2!, w.b2!, M, d.hidden, P);
  }
  return { out: Float32Array.from(pixelShuffleForward(y, d.B, d.gh, d.gw, d.p, d.C)), pre, act };
}

/** Head backward in float32: grads (flat views) += dL/dweights for dout (B, H, W, C). */
export function headBackwardF32(
  tokens: Float32Array,
  fwd: { pre: Float32Array | null; act: Float32Array | null },
  w: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  dout: ArrayLike<number>,
  g: { w1: Float32Array; b1: Float32Array; w2?: Float32Array; b2?: Float32Array },
  d: HeadDims,
): void {
  const M = d.B * d.gh * d.gw;
  const P = d.p * d.p * d.C;
  const dy = new Float32Array(M * P);
  pixelShuffleBackward(dout, dy, d.B, d.gh, d.gw, d.p, d.C);
  if (d.hidden === 0) {
    linearBackF32(tokens, w.w1, dy, g.w1, g.b1, M, d.D, P, false);
    return;
  }
  const dact = linearBackF32(fwd.act!, w.w2!, dy, g.w2!, g.b2!, M, d.hidden, P, true)!;
  for (let i = 0; i < dact.length; i++) dact[i] *= geluGrad(fwd.pre![i]);
  linearBackF32(tokens, w.w1, dact, g.w1, g.b1, M, d.D, d.hidden, false);
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
    const dims = headDims(this.config, B);
    const w = this.views();
    const fwd = headForwardF32(tokens, w, dims);
    const pixels = dims.gh * dims.p * dims.gw * dims.p;
    const { loss, dout } = probeLoss(fwd.out, targets, B, pixels, dims.C);
    const g = this.params.zeroGrads();
    headBackwardF32(tokens, fwd, w, dout, g.grads as typeof w, dims);
    this.t++;
    adamwStep(this.params.data, g.data, this.m, this.v, this.decay, { ...this.adamw, lr, maxGradNorm: 0 }, this.t);
    return loss;
  }
}
