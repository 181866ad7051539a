// A pre-norm transformer block (timm's Block, used by ViT / MAE / CroCo encoders):
//   x1 = x + proj(attn(qkv(norm1(x))));   out = x1 + fc2(gelu(fc1(norm2(x1))))
// built from the engine's calls, with explicit forward and backward. Parameter names match timm:
//   {prefix}.norm1.{weight,bias} (D), {prefix}.attn.qkv.{weight (3D, D), bias (3D)},
//   {prefix}.attn.proj.{weight (D, D), bias}, {prefix}.norm2.*, {prefix}.mlp.fc1.{weight (Hd, D),
//   bias}, {prefix}.mlp.fc2.{weight (D, Hd), bias}.
// Twin: src/ref/nn/block.ts (blockForward / blockBackward).
import type { Gpu } from "../gpu/device.js";
import { type AttnBuffers, attentionBackward, attentionForward, attnBuffers, qkvViews, tokens } from "./attention.js";
import { type Call, type Tensor, tensor } from "./core.js";
import { addCall, geluBackward, geluForward, layernormBackward, layernormForward, scaleCall } from "./layers.js";
import { type LinearParams, linearBackward, linearForward } from "./matmul.js";
import type { ParamStore } from "./params.js";

export interface BlockConfig {
  /** Embedding width. */
  D: number;
  /** Attention heads (D % H == 0). */
  H: number;
  /** MLP hidden width = mlpRatio * D (ViT: 4). */
  mlpRatio: number;
  /** LayerNorm eps (ViT/MAE: 1e-6). */
  eps?: number;
}

/** Register a block's parameters (timm names) in a ParamStore. */
export function addBlockParams(ps: ParamStore, prefix: string, c: BlockConfig): void {
  const { D } = c;
  const Hd = c.mlpRatio * D;
  ps.add(`${prefix}.norm1.weight`, [D]);
  ps.add(`${prefix}.norm1.bias`, [D]);
  ps.add(`${prefix}.attn.qkv.weight`, [3 * D, D]);
  ps.add(`${prefix}.attn.qkv.bias`, [3 * D]);
  ps.add(`${prefix}.attn.proj.weight`, [D, D]);
  ps.add(`${prefix}.attn.proj.bias`, [D]);
  ps.add(`${prefix}.norm2.weight`, [D]);
  ps.add(`${prefix}.norm2.bias`, [D]);
  ps.add(`${prefix}.mlp.fc1.weight`, [Hd, D]);
  ps.add(`${prefix}.mlp.fc1.bias`, [Hd]);
  ps.add(`${prefix}.mlp.fc2.weight`, [D, Hd]);
  ps.add(`${prefix}.mlp.fc2.bias`, [D]);
}

/** Linear params (views) of `name` in a ParamStore, with a W^T scratch. */
export function linearParams(ps: ParamStore, name: string, wT: Tensor, bias = true): LinearParams {
  return {
    w: ps.param(`${name}.weight`),
    b: bias ? ps.param(`${name}.bias`) : null,
    dw: ps.grad(`${name}.weight`),
    db: bias ? ps.grad(`${name}.bias`) : null,
    wT,
  };
}

/** Gradient scratch shared by all blocks of one shape (the backward runs one block at a time). */
export interface BlockScratch {
  wT: Tensor; // >= max(in * out) of the block's Linears
  dx1: Tensor; // (N, D)
  dln: Tensor; // (N, D)
  dattn: Tensor; // (N, D)
  dqkv: Tensor; // (N, 3D)
  dg: Tensor; // (N, Hd)
  dh: Tensor; // (N, Hd)
}

export function blockScratch(gpu: Gpu, c: BlockConfig, N: number, label = "block scratch"): BlockScratch {
  const { D } = c;
  const Hd = c.mlpRatio * D;
  const t = (n: string, shape: number[]) => tensor(gpu, `${label} ${n}`, shape);
  return {
    wT: t("wT", [Math.max(3 * D * D, Hd * D)]),
    dx1: t("dx1", [N, D]),
    dln: t("dln", [N, D]),
    dattn: t("dattn", [N, D]),
    dqkv: t("dqkv", [N, 3 * D]),
    dg: t("dg", [N, Hd]),
    dh: t("dh", [N, Hd]),
  };
}

/** One block's saved activations (allocated once for batch B, tokens L). */
export class Block {
  readonly N: number;
  readonly Hd: number;
  readonly ln1: Tensor; // (N, D)
  readonly mean1: Tensor; // (N)
  readonly rstd1: Tensor; // (N)
  readonly qkv: Tensor; // (N, 3D)
  readonly attn: Tensor; // (N, D) merged heads
  readonly proj: Tensor; // (N, D)
  readonly x1: Tensor; // (N, D)
  readonly ln2: Tensor;
  readonly mean2: Tensor;
  readonly rstd2: Tensor;
  readonly h: Tensor; // (N, Hd) fc1 out
  readonly g: Tensor; // (N, Hd) gelu out
  readonly mlp: Tensor; // (N, D) fc2 out
  readonly out: Tensor; // (N, D)
  readonly bufs: AttnBuffers;

  constructor(
    private gpu: Gpu,
    private ps: ParamStore,
    readonly prefix: string,
    readonly c: BlockConfig,
    readonly B: number,
    readonly L: number,
    private scratch: BlockScratch,
  ) {
    const { D } = c;
    if (D % c.H) throw new Error(`block ${prefix}: D=${D} is not divisible by H=${c.H}`);
    this.N = B * L;
    this.Hd = c.mlpRatio * D;
    const t = (n: string, shape: number[]) => tensor(gpu, `${prefix}.${n}`, shape);
    const N = this.N;
    this.ln1 = t("ln1", [N, D]);
    this.mean1 = t("mean1", [N]);
    this.rstd1 = t("rstd1", [N]);
    this.qkv = t("qkv", [N, 3 * D]);
    this.attn = t("attn", [N, D]);
    this.proj = t("proj", [N, D]);
    this.x1 = t("x1", [N, D]);
    this.ln2 = t("ln2", [N, D]);
    this.mean2 = t("mean2", [N]);
    this.rstd2 = t("rstd2", [N]);
    this.h = t("h", [N, this.Hd]);
    this.g = t("g", [N, this.Hd]);
    this.mlp = t("mlp", [N, D]);
    this.out = t("out", [N, D]);
    this.bufs = attnBuffers(gpu, { B, H: c.H, Lq: L, Lk: L, dh: D / c.H }, `${prefix}.attn`);
  }

  private lin(name: string): LinearParams {
    return linearParams(this.ps, `${this.prefix}.${name}`, this.scratch.wT);
  }

  private get shape() {
    return { B: this.B, H: this.c.H, Lq: this.L, Lk: this.L, dh: this.c.D / this.c.H };
  }

  /** Forward calls for input x (N, D) -> this.out. Build once, record every step. */
  forward(x: Tensor): Call[] {
    const { gpu, ps, prefix: p, N } = this;
    const { D } = this.c;
    const eps = this.c.eps ?? 1e-6;
    const v = qkvViews(this.qkv, this.B, this.L, D);
    return [
      layernormForward(gpu, {
        x,
        w: ps.param(`${p}.norm1.weight`),
        b: ps.param(`${p}.norm1.bias`),
        y: this.ln1,
        mean: this.mean1,
        rstd: this.rstd1,
        N,
        C: D,
        eps,
      }),
      ...linearForward(gpu, this.lin("attn.qkv"), this.ln1, this.qkv, N, D, 3 * D),
      ...attentionForward(gpu, this.shape, v.q, v.k, v.v, tokens(this.attn, this.L, D), this.bufs),
      ...linearForward(gpu, this.lin("attn.proj"), this.attn, this.proj, N, D, D),
      addCall(gpu, x, this.proj, this.x1, N * D),
      layernormForward(gpu, {
        x: this.x1,
        w: ps.param(`${p}.norm2.weight`),
        b: ps.param(`${p}.norm2.bias`),
        y: this.ln2,
        mean: this.mean2,
        rstd: this.rstd2,
        N,
        C: D,
        eps,
      }),
      ...linearForward(gpu, this.lin("mlp.fc1"), this.ln2, this.h, N, D, this.Hd),
      geluForward(gpu, this.h, this.g, N * this.Hd),
      ...linearForward(gpu, this.lin("mlp.fc2"), this.g, this.mlp, N, this.Hd, D),
      addCall(gpu, this.x1, this.mlp, this.out, N * D),
    ];
  }

  /**
   * Backward calls: parameter gradients accumulate into the ParamStore's grads; dx (N, D) gets the
   * input gradient (overwritten). x must be the tensor given to forward.
   */
  backward(x: Tensor, dout: Tensor, dx: Tensor): Call[] {
    const { gpu, ps, prefix: p, N, scratch: s } = this;
    const { D } = this.c;
    const Hd = this.Hd;
    const v = qkvViews(this.qkv, this.B, this.L, D);
    const dv = qkvViews(s.dqkv, this.B, this.L, D);
    return [
      // MLP branch: out = x1 + fc2(gelu(fc1(ln2(x1))))
      ...linearBackward(gpu, this.lin("mlp.fc2"), this.g, dout, s.dg, N, Hd, D),
      geluBackward(gpu, this.h, s.dg, s.dh, N * Hd),
      ...linearBackward(gpu, this.lin("mlp.fc1"), this.ln2, s.dh, s.dln, N, D, Hd),
      scaleCall(gpu, dout, s.dx1, N * D, 1),
      ...layernormBackward(gpu, {
        x: this.x1,
        dy: s.dln,
        w: ps.param(`${p}.norm2.weight`),
        mean: this.mean2,
        rstd: this.rstd2,
        dx: s.dx1,
        dw: ps.grad(`${p}.norm2.weight`),
        db: ps.grad(`${p}.norm2.bias`),
        N,
        C: D,
        accumulate: true,
      }),
      // Attention branch: x1 = x + proj(attn(qkv(ln1(x))))
      ...linearBackward(gpu, this.lin("attn.proj"), this.attn, s.dx1, s.dattn, N, D, D),
      ...attentionBackward(gpu, this.shape, v.q, v.k, v.v, tokens(s.dattn, this.L, D), dv.q, dv.k, dv.v, this.bufs),
      ...linearBackward(gpu, this.lin("attn.qkv"), this.ln1, s.dqkv, s.dln, N, D, 3 * D),
      scaleCall(gpu, s.dx1, dx, N * D, 1),
      ...layernormBackward(gpu, {
        x,
        dy: s.dln,
        w: ps.param(`${p}.norm1.weight`),
        mean: this.mean1,
        rstd: this.rstd1,
        dx,
        dw: ps.grad(`${p}.norm1.weight`),
        db: ps.grad(`${p}.norm1.bias`),
        N,
        C: D,
        accumulate: true,
      }),
    ];
  }
}
