// Probe heads on a frozen encoder: configuration, dims, parameter table and init, and the layout
// maths the CPU trainer and the float64 twins share (exact GELU, pixel shuffle). The head's forward
// and backward: src/probe/cpu_trainer.ts (float32) and src/ref/probe/heads.ts (float64, the oracle).
//
// A head turns the encoder's patch tokens (B, L, D) (L = gh * gw, cls token dropped) into a dense
// map (B, gh*p, gw*p, C) channel-last, in one of two ways:
//   pixel shuffle (upsample = false): each token predicts its own p x p pixels;
//   upsample = true: each token predicts C values at its patch centre, and the (gh, gw, C) map is
//     upsampled bilinearly by p to pixels (PyTorch's F.interpolate, align_corners=False): DINOv2's
//     linear protocol. A token cannot paint sub-patch detail from its patch's pixels, so the head
//     reads what the features know about the patch, and it has p*p times fewer weights.
//   "linear": one Linear D -> p*p*C (shuffle) or C (upsample) per token (the linear probe).
//   "mlp":    Linear D -> hidden, exact GELU, Linear hidden -> p*p*C per token.
// Depth: C = 1, the output is log depth (metres = exp). Segmentation: C = K logits for classes
// 0..K-1 (stored label l = class l - 1, 0 = ignore; see metrics.ts reduceZeroLabel).
//
// Parameters follow the models' conventions (src/models/params.ts): PyTorch names and shapes
// (Linear weight (out, in)), one flat Float32Array with every tensor at a PARAM_ALIGN-aligned
// offset, xavier_uniform weights and zero biases (MAE's init), seeded with PCG32.

import { layoutOf, type ParamEntry, type ParamLayout, type ParamSpec } from "../models/params.js";
import { gelu, geluGrad } from "../nn/cpu.js";
import { FlatParams } from "../nn/layout.js";
import { Pcg32 } from "../prng.js";
import type { ProbeTask } from "./datasets.js";

type Arr = ArrayLike<number>;
type Grad = Float32Array | Float64Array;

export interface HeadDims {
  B: number;
  /** token grid rows, cols */
  gh: number;
  gw: number;
  /** token width */
  D: number;
  /** patch size: each token predicts p x p pixels */
  p: number;
  /** output channels */
  C: number;
  /** mlp hidden width; 0 = linear head */
  hidden: number;
  /** true: C values per token, upsampled bilinearly by p; false: p*p*C per token, pixel shuffle */
  upsample: boolean;
}

/** linear: w1 (P, D), b1 (P) with P = p*p*C, or C when upsampling; mlp: w1 (hidden, D), b1 (hidden), w2 (p*p*C, hidden), b2 (p*p*C) */
export interface HeadWeights {
  w1: Arr;
  b1: Arr;
  w2?: Arr;
  b2?: Arr;
}

export interface HeadGrads {
  w1: Grad;
  b1: Grad;
  w2?: Grad;
  b2?: Grad;
}

/** Exact GELU and its derivative: the CPU layer library's (src/nn/cpu.ts). */
export { gelu, geluGrad };

/** (B, gh*gw, p*p*C) per-token blocks -> (B, gh*p, gw*p, C) map. */
export function pixelShuffleForward(x: Arr, B: number, gh: number, gw: number, p: number, C: number): Float64Array {
  const W = gw * p;
  const out = new Float64Array(B * gh * p * W * C);
  for (let b = 0; b < B; b++)
    for (let ty = 0; ty < gh; ty++)
      for (let tx = 0; tx < gw; tx++)
        for (let py = 0; py < p; py++)
          for (let px = 0; px < p; px++)
            for (let c = 0; c < C; c++)
              out[((b * gh * p + ty * p + py) * W + tx * p + px) * C + c] =
                x[((b * gh + ty) * gw + tx) * p * p * C + (py * p + px) * C + c];
  return out;
}

/** Gradient of pixelShuffleForward: dx (B, gh*gw, p*p*C) += the blocks of dy (B, gh*p, gw*p, C). */
export function pixelShuffleBackward(dy: Arr, dx: Grad, B: number, gh: number, gw: number, p: number, C: number): void {
  const W = gw * p;
  for (let b = 0; b < B; b++)
    for (let ty = 0; ty < gh; ty++)
      for (let tx = 0; tx < gw; tx++)
        for (let py = 0; py < p; py++)
          for (let px = 0; px < p; px++)
            for (let c = 0; c < C; c++)
              dx[((b * gh + ty) * gw + tx) * p * p * C + (py * p + px) * C + c] +=
                dy[((b * gh * p + ty * p + py) * W + tx * p + px) * C + c];
}

/**
 * Source taps of bilinear upsampling by an integer factor p with half-pixel centres (PyTorch's
 * F.interpolate(mode="bilinear", align_corners=False)): output index o of n*p reads input i0 with
 * weight 1 - t and i1 with weight t, where s = max(0, (o + 0.5) / p - 0.5), i0 = floor(s),
 * i1 = min(i0 + 1, n - 1), t = s - i0.
 */
export function bilinearTaps(n: number, p: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const N = n * p;
  const i0 = new Int32Array(N);
  const i1 = new Int32Array(N);
  const t = new Float64Array(N);
  for (let o = 0; o < N; o++) {
    const s = Math.max(0, (o + 0.5) / p - 0.5);
    const a = Math.min(Math.floor(s), n - 1);
    i0[o] = a;
    i1[o] = Math.min(a + 1, n - 1);
    t[o] = s - a;
  }
  return { i0, i1, t };
}

/**
 * For each output pixel of a (gh*p, gw*p) map, its four source tokens (row-major indices into the
 * (gh, gw) grid: top-left, top-right, bottom-left, bottom-right) and their bilinear weights.
 */
function bilinearPlan(gh: number, gw: number, p: number): { src: Int32Array; w: Float64Array } {
  const ty = bilinearTaps(gh, p);
  const tx = bilinearTaps(gw, p);
  const HW = gh * p * gw * p;
  const src = new Int32Array(4 * HW);
  const w = new Float64Array(4 * HW);
  for (let y = 0, o = 0; y < gh * p; y++)
    for (let x = 0; x < gw * p; x++, o += 4) {
      const [wy, wx] = [ty.t[y], tx.t[x]];
      src.set([ty.i0[y] * gw + tx.i0[x], ty.i0[y] * gw + tx.i1[x], ty.i1[y] * gw + tx.i0[x], ty.i1[y] * gw + tx.i1[x]], o);
      w.set([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx], o);
    }
  return { src, w };
}

/** (B, gh, gw, C) per-token values -> (B, gh*p, gw*p, C) map, bilinear (see bilinearTaps). */
export function bilinearUpsampleForward(x: Arr, B: number, gh: number, gw: number, p: number, C: number): Float64Array {
  const { src, w } = bilinearPlan(gh, gw, p);
  const HW = src.length / 4;
  const out = new Float64Array(B * HW * C);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < HW; o++) {
      const q = 4 * o;
      const base = b * gh * gw;
      const s0 = (base + src[q]) * C;
      const s1 = (base + src[q + 1]) * C;
      const s2 = (base + src[q + 2]) * C;
      const s3 = (base + src[q + 3]) * C;
      const at = (b * HW + o) * C;
      for (let c = 0; c < C; c++) out[at + c] = w[q] * x[s0 + c] + w[q + 1] * x[s1 + c] + w[q + 2] * x[s2 + c] + w[q + 3] * x[s3 + c];
    }
  return out;
}

/** Gradient of bilinearUpsampleForward: dx (B, gh, gw, C) += the adjoint of the upsampling applied to dy. */
export function bilinearUpsampleBackward(dy: Arr, dx: Grad, B: number, gh: number, gw: number, p: number, C: number): void {
  const { src, w } = bilinearPlan(gh, gw, p);
  const HW = src.length / 4;
  for (let b = 0; b < B; b++)
    for (let o = 0; o < HW; o++)
      for (let k = 0; k < 4; k++) {
        const to = (b * gh * gw + src[4 * o + k]) * C;
        const wk = w[4 * o + k];
        const at = (b * HW + o) * C;
        for (let c = 0; c < C; c++) dx[to + c] += wk * dy[at + c];
      }
}

/** Per-token outputs -> the dense map: pixel shuffle or bilinear upsampling, as dims say. */
export function tokensToMap(y: Arr, d: HeadDims): Float64Array {
  return d.upsample ? bilinearUpsampleForward(y, d.B, d.gh, d.gw, d.p, d.C) : pixelShuffleForward(y, d.B, d.gh, d.gw, d.p, d.C);
}

/** Gradient of tokensToMap: dy (per-token outputs) += its adjoint applied to dout. */
export function tokensToMapBackward(dout: Arr, dy: Grad, d: HeadDims): void {
  if (d.upsample) bilinearUpsampleBackward(dout, dy, d.B, d.gh, d.gw, d.p, d.C);
  else pixelShuffleBackward(dout, dy, d.B, d.gh, d.gw, d.p, d.C);
}

/** Outputs per token: p*p*C (pixel shuffle) or C (upsampled). */
export const tokenOutputs = (d: Pick<HeadDims, "p" | "C" | "upsample">): number => (d.upsample ? d.C : d.p * d.p * d.C);

export type HeadKind = "linear" | "mlp";

export interface HeadConfig {
  kind: HeadKind;
  task: ProbeTask;
  /** encoder token width D */
  embedDim: number;
  /** encoder patch size p: a token predicts p x p pixels */
  patchSize: number;
  /** token grid rows and cols (image height / p, width / p) */
  gridH: number;
  gridW: number;
  /** output channels: 1 for depth, K classes for segmentation */
  outChannels: number;
  /** mlp hidden width (ignored by "linear") */
  hidden: number;
  /** per-token values upsampled bilinearly (DINOv2's linear probe) instead of a pixel shuffle */
  upsample: boolean;
}

/** Named head presets; the encoder and dataset fill in the rest (makeHeadConfig). */
export const headPresets = {
  /** the linear probe: one Linear per token, p x p pixels each (pixel shuffle) */
  linear: { kind: "linear", hidden: 0, upsample: false },
  /** DINOv2's linear probe: one Linear per token to C values, upsampled bilinearly to pixels */
  upsample: { kind: "linear", hidden: 0, upsample: true },
  /** a small MLP per token */
  mlp: { kind: "mlp", hidden: 256, upsample: false },
} as const satisfies Record<string, Pick<HeadConfig, "kind" | "hidden" | "upsample">>;

export type HeadPresetName = keyof typeof headPresets;

/** A full head config from a preset, the encoder's geometry and the task. */
export function makeHeadConfig(
  preset: HeadPresetName | (Pick<HeadConfig, "kind" | "hidden"> & { upsample?: boolean }),
  enc: { embedDim: number; patchSize: number; imageHeight: number; imageWidth: number },
  task: ProbeTask,
  numClasses?: number | null,
): HeadConfig {
  const p = typeof preset === "string" ? headPresets[preset] : preset;
  if (!p) throw new Error(`unknown head preset '${preset}'; use one of ${Object.keys(headPresets).join(", ")}`);
  if (enc.imageHeight % enc.patchSize || enc.imageWidth % enc.patchSize)
    throw new Error(`probe input ${enc.imageWidth}x${enc.imageHeight} is not a multiple of the patch size ${enc.patchSize}`);
  if (task === "seg" && !(numClasses && numClasses > 0))
    throw new Error("a segmentation head needs numClasses (from classes.json or the dataset)");
  const cfg: HeadConfig = {
    kind: p.kind,
    task,
    embedDim: enc.embedDim,
    patchSize: enc.patchSize,
    gridH: enc.imageHeight / enc.patchSize,
    gridW: enc.imageWidth / enc.patchSize,
    outChannels: task === "depth" ? 1 : numClasses!,
    hidden: p.kind === "mlp" ? p.hidden : 0,
    upsample: p.upsample ?? false,
  };
  validateHeadConfig(cfg);
  return cfg;
}

export function validateHeadConfig(c: HeadConfig): void {
  for (const k of ["embedDim", "patchSize", "gridH", "gridW", "outChannels"] as const)
    if (!(Number.isInteger(c[k]) && c[k] > 0)) throw new Error(`head config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.kind === "mlp" && !(Number.isInteger(c.hidden) && c.hidden > 0))
    throw new Error(`head config: an mlp head needs hidden > 0, got ${c.hidden}`);
  if (c.task === "depth" && c.outChannels !== 1) throw new Error(`head config: a depth head has 1 output channel, got ${c.outChannels}`);
}

/** The reference/GPU dims of a config for a batch of B images. */
export function headDims(c: HeadConfig, B: number): HeadDims {
  return {
    B,
    gh: c.gridH,
    gw: c.gridW,
    D: c.embedDim,
    p: c.patchSize,
    C: c.outChannels,
    hidden: c.kind === "mlp" ? c.hidden : 0,
    upsample: c.upsample ?? false,
  };
}

/** Output shape (B, H, W, C) for a batch of B. */
export function headOutputShape(c: HeadConfig, B: number): [number, number, number, number] {
  return [B, c.gridH * c.patchSize, c.gridW * c.patchSize, c.outChannels];
}

/** Parameter table in state_dict order: head.weight/bias, or head.fc1.* and head.fc2.*. */
export function headParamSpecs(c: HeadConfig): ParamSpec[] {
  const out = tokenOutputs({ p: c.patchSize, C: c.outChannels, upsample: c.upsample ?? false });
  const lin = (name: string, inDim: number, outDim: number): ParamSpec[] => [
    { name: `${name}.weight`, shape: [outDim, inDim], init: "xavier", trainable: true, decay: true },
    { name: `${name}.bias`, shape: [outDim], init: "zeros", trainable: true, decay: false },
  ];
  return c.kind === "linear" ? lin("head", c.embedDim, out) : [...lin("head.fc1", c.embedDim, c.hidden), ...lin("head.fc2", c.hidden, out)];
}

/** The flat layout of a head's parameters (same rule as the models', src/nn/layout.ts); checks the config. */
export function headLayout(c: HeadConfig): ParamLayout {
  validateHeadConfig(c);
  return layoutOf(headParamSpecs(c));
}

/** A head's parameters: one flat array (what the GPU uploads) and named views. */
export class HeadParams extends FlatParams<ParamEntry> {
  constructor(
    readonly config: HeadConfig,
    data?: Float32Array,
  ) {
    super(headLayout(config), data, `a ${config.kind} head`);
  }

  /** The views the reference forward/backward take. */
  weights(): HeadWeights {
    return this.config.kind === "linear"
      ? { w1: this.get("head.weight"), b1: this.get("head.bias") }
      : { w1: this.get("head.fc1.weight"), b1: this.get("head.fc1.bias"), w2: this.get("head.fc2.weight"), b2: this.get("head.fc2.bias") };
  }

  /** Zeroed gradients in the same flat layout, with the views headBackward takes. */
  zeroGrads(): { data: Float32Array; grads: HeadGrads } {
    const g = new HeadParams(this.config);
    const w = g.weights();
    return {
      data: g.data,
      grads: {
        w1: w.w1 as Float32Array,
        b1: w.b1 as Float32Array,
        w2: w.w2 as Float32Array | undefined,
        b2: w.b2 as Float32Array | undefined,
      },
    };
  }
}

/**
 * MAE-style init, seeded: xavier_uniform weights, zero biases, from one Pcg32(seed, 0x4ead) stream
 * in table order. outputBias sets the last layer's bias (e.g. ln of the train set's median depth,
 * so a depth head starts at the right scale).
 */
export function initHeadParams(c: HeadConfig, seed: number, outputBias = 0): HeadParams {
  const params = new HeadParams(c);
  const rng = new Pcg32(seed, 0x4ead);
  const specs = headParamSpecs(c);
  for (const s of specs) {
    const v = params.get(s.name);
    if (s.init === "xavier") {
      const bound = Math.sqrt(6 / (s.shape[0] + s.shape[1]));
      for (let i = 0; i < v.length; i++) v[i] = (2 * rng.nextFloat() - 1) * bound;
    } else v.fill(0);
  }
  params.get(specs[specs.length - 1].name).fill(outputBias);
  return params;
}
