// Parameter names, shapes and one flat Float32Array layout for a model config, with MAE's init.
//
// Names and shapes are those of MIMIC's PyTorch model (model/models_multiviewmae.py, built on MAE
// and timm) so checkpoints load both ways (docs/training.md, "Checkpoints"): Linear weight is
// (out, in), patch_embed.proj.weight is the conv kernel (D, 3, p, p). The table is in PyTorch's
// state_dict order (the module's own tensors first, then submodules in registration order).
//
// This is the one parameter store: `ParamStore.data` is one flat Float32Array in paramLayout(c)
// (src/nn/layout.ts: offsets multiples of PARAM_ALIGN floats, in table order). The GPU side
// (src/nn/params.ts GpuParams) takes that same layout object, so the array uploads as is; weight
// decay follows the one rule (src/nn/layout.ts weightDecays, timm's add_weight_decay as MAE's
// pretraining calls it).

import { createHash } from "node:crypto";
import {
  FlatParams,
  type ParamLayout as GenericLayout,
  type LayoutEntry,
  layoutOf as layoutOfSpecs,
  PARAM_ALIGN,
  type TensorSpec,
  tensorSpec,
} from "../nn/layout.js";
import { Pcg32 } from "../prng.js";
import { gridSize, type ModelConfig, patchDim } from "./config.js";

/** How a tensor is initialised (MAE's initialize_weights). */
export type InitKind =
  | "xavier" // nn.Linear weight (out, in): xavier_uniform, fan_in = in, fan_out = out
  | "patch" // patch_embed.proj.weight (D, 3, p, p): xavier_uniform of the (D, 3*p*p) view
  | "conv_bias" // patch_embed.proj.bias: PyTorch's Conv2d default, uniform(+-1/sqrt(3*p*p)) (MAE keeps it)
  | "zeros" // Linear biases, LayerNorm biases
  | "ones" // LayerNorm weights
  | "token" // cls_token, mask_token: normal(0, 0.02)
  | "pos_enc" // pos_embed: fixed 2D sin-cos for the encoder width
  | "pos_dec"; // decoder_pos_embed: fixed 2D sin-cos for the decoder width

/** A row of the table: name, shape, optimizer flags (src/nn/layout.ts TensorSpec) and init. */
export interface ParamSpec extends TensorSpec {
  init: InitKind;
}

/** A row with the one weight-decay rule (src/nn/layout.ts tensorSpec); frozen tensors: trainable false. */
function spec(name: string, shape: number[], init: InitKind, trainable = true): ParamSpec {
  return { ...tensorSpec(name, shape, trainable), init };
}

/** A tensor of the table with its place in the flat array (offset a multiple of PARAM_ALIGN). */
export type ParamEntry = ParamSpec & LayoutEntry;

export type ParamLayout = GenericLayout<ParamEntry>;

export { PARAM_ALIGN };

function linear(out: ParamSpec[], name: string, inDim: number, outDim: number): void {
  out.push(spec(`${name}.weight`, [outDim, inDim], "xavier"));
  out.push(spec(`${name}.bias`, [outDim], "zeros"));
}

function layerNorm(out: ParamSpec[], name: string, dim: number): void {
  out.push(spec(`${name}.weight`, [dim], "ones"));
  out.push(spec(`${name}.bias`, [dim], "zeros"));
}

/** timm Block (pre-norm): norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2 (src/nn/block.ts Block's names). */
export function vitBlock(out: ParamSpec[], name: string, dim: number, hidden: number): void {
  layerNorm(out, `${name}.norm1`, dim);
  linear(out, `${name}.attn.qkv`, dim, 3 * dim);
  linear(out, `${name}.attn.proj`, dim, dim);
  layerNorm(out, `${name}.norm2`, dim);
  linear(out, `${name}.mlp.fc1`, dim, hidden);
  linear(out, `${name}.mlp.fc2`, hidden, dim);
}

/** CroCo DecoderBlock (norm_mem=True), in registration order: norm1, attn, cross_attn, norm2, norm3, mlp, norm_y (src/nn/block.ts CrossBlock's names). */
export function crocoBlock(out: ParamSpec[], name: string, dim: number, hidden: number): void {
  layerNorm(out, `${name}.norm1`, dim);
  linear(out, `${name}.attn.qkv`, dim, 3 * dim);
  linear(out, `${name}.attn.proj`, dim, dim);
  linear(out, `${name}.cross_attn.projq`, dim, dim);
  linear(out, `${name}.cross_attn.projk`, dim, dim);
  linear(out, `${name}.cross_attn.projv`, dim, dim);
  linear(out, `${name}.cross_attn.proj`, dim, dim);
  layerNorm(out, `${name}.norm2`, dim);
  layerNorm(out, `${name}.norm3`, dim);
  linear(out, `${name}.mlp.fc1`, dim, hidden);
  linear(out, `${name}.mlp.fc2`, hidden, dim);
  layerNorm(out, `${name}.norm_y`, dim);
}

/** The decoder block prefix for an objective: decoder_blocks_croco (CroCo) or decoder_blocks (MAE). */
export function decoderPrefix(objective: ModelConfig["objective"]): string {
  return objective === "croco" ? "decoder_blocks_croco" : "decoder_blocks";
}

/** (name, shape, init, flags) of every tensor of the model, in PyTorch state_dict order. */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const D = c.width;
  const Dd = c.decoderWidth;
  const L = gridSize(c) ** 2;
  const p = c.patchSize;
  const out: ParamSpec[] = [];
  // The module's own tensors.
  out.push(spec("cls_token", [1, 1, D], "token"));
  out.push(spec("pos_embed", [1, 1 + L, D], "pos_enc", false));
  out.push(spec("mask_token", [1, 1, Dd], "token"));
  out.push(spec("decoder_pos_embed", [1, 1 + L, Dd], "pos_dec", false));
  // Encoder.
  out.push(spec("patch_embed.proj.weight", [D, c.inChans, p, p], "patch"));
  out.push(spec("patch_embed.proj.bias", [D], "conv_bias"));
  for (let i = 0; i < c.depth; i++) vitBlock(out, `blocks.${i}`, D, D * c.mlpRatio);
  layerNorm(out, "norm", D);
  // Decoder.
  linear(out, "decoder_embed", D, Dd);
  const prefix = decoderPrefix(c.objective);
  for (let i = 0; i < c.decoderDepth; i++) {
    if (c.objective === "croco") crocoBlock(out, `${prefix}.${i}`, Dd, Dd * c.mlpRatio);
    else vitBlock(out, `${prefix}.${i}`, Dd, Dd * c.mlpRatio);
  }
  layerNorm(out, "decoder_norm", Dd);
  linear(out, "decoder_pred", Dd, patchDim(c));
  return out;
}

/** (name, shape) list for a config, in state_dict order. */
export function paramShapes(c: ModelConfig): [string, number[]][] {
  return paramSpecs(c).map((s) => [s.name, s.shape]);
}

/** The flat layout of any list of tensors (the one rule, src/nn/layout.ts): aligned offsets in list order. */
export function layoutOf(specs: ParamSpec[]): ParamLayout {
  return layoutOfSpecs(specs);
}

/** The flat layout: every tensor's offset (aligned to PARAM_ALIGN floats) in one Float32Array. */
export function paramLayout(c: ModelConfig): ParamLayout {
  return layoutOf(paramSpecs(c));
}

/** A model's parameters: one flat array (the layout of paramLayout(config)) and named views into it. */
export class ParamStore extends FlatParams<ParamEntry> {
  constructor(
    readonly config: ModelConfig,
    data?: Float32Array,
  ) {
    super(paramLayout(config), data, `model '${config.name}' (${config.objective})`);
  }

  /** A deep copy. */
  clone(): ParamStore {
    return new ParamStore(this.config, this.data.slice());
  }
}

/**
 * MAE's fixed 2D sin-cos position embedding (util/pos_embed.py get_2d_sincos_pos_embed with
 * cls_token=True): row 0 (cls) is zeros; for patch n = r * G + c, the first dim/2 channels encode
 * the column c and the last dim/2 the row r, each as [sin(pos * w_k) for k, cos(pos * w_k) for k]
 * with w_k = 10000^(-k / (dim/4)), k < dim/4. Computed in float64, rounded to float32.
 * Returns (1 + G*G, dim).
 */
export function sincosPosEmbed2d(dim: number, grid: number): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sin-cos position embedding needs dim divisible by 4 (got ${dim})`);
  const quarter = dim / 4;
  const out = new Float32Array((1 + grid * grid) * dim);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const row = out.subarray((1 + r * grid + c) * dim, (2 + r * grid + c) * dim);
      for (let k = 0; k < quarter; k++) {
        const w = 1 / 10000 ** (k / quarter);
        row[k] = Math.sin(c * w);
        row[quarter + k] = Math.cos(c * w);
        row[2 * quarter + k] = Math.sin(r * w);
        row[3 * quarter + k] = Math.cos(r * w);
      }
    }
  }
  return out;
}

/** Standard normal from two PCG32 floats (Box-Muller, cosine branch; u1 in (0, 1]). */
export function boxMuller(rng: Pcg32): number {
  const u1 = 1 - rng.nextFloat();
  const u2 = rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Initialise as MAE does, seeded: xavier_uniform for every Linear weight and the patch embedding
 * (as a (D, 3*p*p) matrix), zero biases, LayerNorm 1/0, normal(0.02) cls/mask tokens, fixed sin-cos
 * position embeddings, the conv bias at PyTorch's default. Tensors draw from one Pcg32(seed, 0x1417)
 * stream in state_dict order, so the result depends only on (config, seed).
 */
export function initParams(c: ModelConfig, seed: number): ParamStore {
  const store = new ParamStore(c);
  const rng = new Pcg32(seed, 0x1417);
  const G = gridSize(c);
  for (const e of store.layout.entries) {
    const v = store.get(e.name);
    switch (e.init) {
      case "xavier":
      case "patch": {
        const fanOut = e.shape[0];
        const fanIn = e.size / fanOut;
        const bound = Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < v.length; i++) v[i] = (2 * rng.nextFloat() - 1) * bound;
        break;
      }
      case "conv_bias": {
        const bound = 1 / Math.sqrt(patchDim(c));
        for (let i = 0; i < v.length; i++) v[i] = (2 * rng.nextFloat() - 1) * bound;
        break;
      }
      case "token":
        for (let i = 0; i < v.length; i++) v[i] = 0.02 * boxMuller(rng);
        break;
      case "ones":
        v.fill(1);
        break;
      case "zeros":
        v.fill(0);
        break;
      case "pos_enc":
        v.set(sincosPosEmbed2d(c.width, G));
        break;
      case "pos_dec":
        v.set(sincosPosEmbed2d(c.decoderWidth, G));
        break;
    }
  }
  return store;
}

/** Parameter count of an architecture (no padding), e.g. for reports. */
export function countParams(c: ModelConfig): number {
  return paramLayout(c).count;
}

/** Encoder-only tensor names (what a probe needs from a checkpoint). */
export function isEncoderParam(name: string): boolean {
  return (
    name === "cls_token" ||
    name === "pos_embed" ||
    name.startsWith("patch_embed.") ||
    name.startsWith("blocks.") ||
    name.startsWith("norm.")
  );
}

/** Short hash of the encoder tensors (so the probe's feature caches follow the weights, not the file name). */
export function encoderHash(params: ParamStore): string {
  const h = createHash("sha256");
  for (const [name, v] of params.tensors())
    if (isEncoderParam(name)) h.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return h.digest("hex").slice(0, 12);
}
