// A pre-norm transformer block (timm's Block, used by ViT / MAE / CroCo encoders):
//   x1 = x + proj(attn(qkv(norm1(x))));   out = x1 + fc2(gelu(fc1(norm2(x1))))
// built from the engine's calls, with explicit forward and backward. Parameter names match timm:
//   {prefix}.norm1.{weight,bias} (D), {prefix}.attn.qkv.{weight (3D, D), bias (3D)},
//   {prefix}.attn.proj.{weight (D, D), bias}, {prefix}.norm2.*, {prefix}.mlp.fc1.{weight (Hd, D),
//   bias}, {prefix}.mlp.fc2.{weight (D, Hd), bias}.
// Twin: src/ref/nn/block.ts (blockForward / blockBackward). The parameter table: src/models/params.ts vitBlock.
import type { Gpu } from "../gpu/device.js";
import { type AttnBuffers, attentionBackward, attentionForward, attnBuffers, qkvViews, tokens } from "./attention.js";
import { type Call, type Tensor, tensor } from "./core.js";
import { addCall, geluBackward, geluForward, layernormBackward, layernormForward, scaleCall } from "./layers.js";
import { type LinearParams, linearBackward, linearForward } from "./matmul.js";
import type { GpuParams } from "./params.js";

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

/** Linear params (views) of `name` in a GpuParams, with a W^T scratch. */
export function linearParams(ps: GpuParams, name: string, wT: Tensor, bias = true): LinearParams {
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
    private ps: GpuParams,
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
   * Backward calls: parameter gradients accumulate into the GpuParams's grads; dx (N, D) gets the
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

/** Extra gradient scratch of a cross block (on top of BlockScratch, shared by all cross blocks). */
export interface CrossScratch {
  dx2: Tensor; // (N, D)
  dq: Tensor; // (N, D)
  dk: Tensor; // (B * Ly, D)
  dv: Tensor; // (B * Ly, D)
  dlny: Tensor; // (B * Ly, D)
}

export function crossScratch(gpu: Gpu, c: BlockConfig, N: number, Ny: number, label = "cross scratch"): CrossScratch {
  const t = (n: string, rows: number) => tensor(gpu, `${label} ${n}`, [rows, c.D]);
  return { dx2: t("dx2", N), dq: t("dq", N), dk: t("dk", Ny), dv: t("dv", Ny), dlny: t("dlny", Ny) };
}

/**
 * CroCo's decoder block (MIMIC's `decoder_blocks_croco.{i}`), pre-norm with cross-attention to
 * the other view's tokens y (B, Ly, D):
 *   x1 = x + attn.proj(selfattn(attn.qkv(norm1(x))))
 *   x2 = x1 + cross_attn.proj(crossattn(q = projq(norm2(x1)), k = projk(norm_y(y)), v = projv(norm_y(y))))
 *   out = x2 + mlp.fc2(gelu(mlp.fc1(norm3(x2))))
 * Names: {prefix}.{norm1, attn.qkv, attn.proj, cross_attn.projq, cross_attn.projk,
 * cross_attn.projv, cross_attn.proj, norm2, norm3, norm_y, mlp.fc1, mlp.fc2}.{weight, bias}.
 * Twin: src/ref/nn/block.ts crossBlockForward / crossBlockBackward. The parameter table:
 * src/models/params.ts crocoBlock.
 */
export class CrossBlock {
  readonly N: number;
  readonly Ny: number;
  readonly Hd: number;
  private acts: Record<string, Tensor> = {};
  readonly selfBufs: AttnBuffers;
  readonly crossBufs: AttnBuffers;

  constructor(
    private gpu: Gpu,
    private ps: GpuParams,
    readonly prefix: string,
    readonly c: BlockConfig,
    readonly B: number,
    readonly Lx: number,
    readonly Ly: number,
    private scratch: BlockScratch,
    private cross: CrossScratch,
  ) {
    const { D } = c;
    if (D % c.H) throw new Error(`cross block ${prefix}: D=${D} is not divisible by H=${c.H}`);
    this.N = B * Lx;
    this.Ny = B * Ly;
    this.Hd = c.mlpRatio * D;
    const shapes: Record<string, number[]> = {
      ln1: [this.N, D],
      mean1: [this.N],
      rstd1: [this.N],
      qkv: [this.N, 3 * D],
      attn: [this.N, D],
      proj: [this.N, D],
      x1: [this.N, D],
      lny: [this.Ny, D],
      meany: [this.Ny],
      rstdy: [this.Ny],
      ln2: [this.N, D],
      mean2: [this.N],
      rstd2: [this.N],
      q: [this.N, D],
      k: [this.Ny, D],
      v: [this.Ny, D],
      xattn: [this.N, D],
      xproj: [this.N, D],
      x2: [this.N, D],
      ln3: [this.N, D],
      mean3: [this.N],
      rstd3: [this.N],
      h: [this.N, this.Hd],
      g: [this.N, this.Hd],
      mlp: [this.N, D],
      out: [this.N, D],
    };
    for (const [n, s] of Object.entries(shapes)) this.acts[n] = tensor(gpu, `${prefix}.${n}`, s);
    const dh = D / c.H;
    this.selfBufs = attnBuffers(gpu, { B, H: c.H, Lq: Lx, Lk: Lx, dh }, `${prefix}.attn`);
    this.crossBufs = attnBuffers(gpu, { B, H: c.H, Lq: Lx, Lk: Ly, dh }, `${prefix}.cross_attn`);
  }

  /** The block output (N, D). */
  get out(): Tensor {
    return this.acts.out;
  }

  /** A saved activation by name (ln1, qkv, attn, x1, lny, q, k, v, xattn, x2, h, g, out, ...). */
  act(name: string): Tensor {
    const t = this.acts[name];
    if (!t) throw new Error(`cross block ${this.prefix}: no activation '${name}'`);
    return t;
  }

  private lin(name: string): LinearParams {
    return linearParams(this.ps, `${this.prefix}.${name}`, this.scratch.wT);
  }

  private ln(name: string) {
    return { w: this.ps.param(`${this.prefix}.${name}.weight`), b: this.ps.param(`${this.prefix}.${name}.bias`) };
  }

  private lnGrad(name: string) {
    return { dw: this.ps.grad(`${this.prefix}.${name}.weight`), db: this.ps.grad(`${this.prefix}.${name}.bias`) };
  }

  /** Forward calls: x (N, D) queries, y (B * Ly, D) the other view's tokens -> this.out. */
  forward(x: Tensor, y: Tensor): Call[] {
    const { gpu, N, Ny, Hd, B, Lx, Ly } = this;
    const { D, H } = this.c;
    const a = this.acts;
    const eps = this.c.eps ?? 1e-6;
    const dh = D / H;
    const sv = qkvViews(a.qkv, B, Lx, D);
    return [
      layernormForward(gpu, { x, ...this.ln("norm1"), y: a.ln1, mean: a.mean1, rstd: a.rstd1, N, C: D, eps }),
      ...linearForward(gpu, this.lin("attn.qkv"), a.ln1, a.qkv, N, D, 3 * D),
      ...attentionForward(gpu, { B, H, Lq: Lx, Lk: Lx, dh }, sv.q, sv.k, sv.v, tokens(a.attn, Lx, D), this.selfBufs),
      ...linearForward(gpu, this.lin("attn.proj"), a.attn, a.proj, N, D, D),
      addCall(gpu, x, a.proj, a.x1, N * D),
      layernormForward(gpu, { x: y, ...this.ln("norm_y"), y: a.lny, mean: a.meany, rstd: a.rstdy, N: Ny, C: D, eps }),
      layernormForward(gpu, { x: a.x1, ...this.ln("norm2"), y: a.ln2, mean: a.mean2, rstd: a.rstd2, N, C: D, eps }),
      ...linearForward(gpu, this.lin("cross_attn.projq"), a.ln2, a.q, N, D, D),
      ...linearForward(gpu, this.lin("cross_attn.projk"), a.lny, a.k, Ny, D, D),
      ...linearForward(gpu, this.lin("cross_attn.projv"), a.lny, a.v, Ny, D, D),
      ...attentionForward(
        gpu,
        { B, H, Lq: Lx, Lk: Ly, dh },
        tokens(a.q, Lx, D),
        tokens(a.k, Ly, D),
        tokens(a.v, Ly, D),
        tokens(a.xattn, Lx, D),
        this.crossBufs,
      ),
      ...linearForward(gpu, this.lin("cross_attn.proj"), a.xattn, a.xproj, N, D, D),
      addCall(gpu, a.x1, a.xproj, a.x2, N * D),
      layernormForward(gpu, { x: a.x2, ...this.ln("norm3"), y: a.ln3, mean: a.mean3, rstd: a.rstd3, N, C: D, eps }),
      ...linearForward(gpu, this.lin("mlp.fc1"), a.ln3, a.h, N, D, Hd),
      geluForward(gpu, a.h, a.g, N * Hd),
      ...linearForward(gpu, this.lin("mlp.fc2"), a.g, a.mlp, N, Hd, D),
      addCall(gpu, a.x2, a.mlp, a.out, N * D),
    ];
  }

  /**
   * Backward calls: parameter gradients accumulate; dx (N, D) is overwritten with the query-side
   * input gradient; dy (B * Ly, D) is ACCUMULATED (y feeds every decoder block).
   */
  backward(x: Tensor, y: Tensor, dout: Tensor, dx: Tensor, dy: Tensor): Call[] {
    const { gpu, N, Ny, Hd, B, Lx, Ly, scratch: s, cross: cs } = this;
    const { D, H } = this.c;
    const a = this.acts;
    const dh = D / H;
    const sv = qkvViews(a.qkv, B, Lx, D);
    const dsv = qkvViews(s.dqkv, B, Lx, D);
    const lnb = (name: string, xin: Tensor, dyIn: Tensor, mean: Tensor, rstd: Tensor, dxOut: Tensor, rows: number) =>
      layernormBackward(gpu, {
        x: xin,
        dy: dyIn,
        w: this.ln(name).w,
        mean,
        rstd,
        dx: dxOut,
        ...this.lnGrad(name),
        N: rows,
        C: D,
        accumulate: true,
      });
    return [
      // MLP branch
      ...linearBackward(gpu, this.lin("mlp.fc2"), a.g, dout, s.dg, N, Hd, D),
      geluBackward(gpu, a.h, s.dg, s.dh, N * Hd),
      ...linearBackward(gpu, this.lin("mlp.fc1"), a.ln3, s.dh, s.dln, N, D, Hd),
      scaleCall(gpu, dout, cs.dx2, N * D, 1),
      ...lnb("norm3", a.x2, s.dln, a.mean3, a.rstd3, cs.dx2, N),
      // Cross-attention branch
      ...linearBackward(gpu, this.lin("cross_attn.proj"), a.xattn, cs.dx2, s.dattn, N, D, D),
      ...attentionBackward(
        gpu,
        { B, H, Lq: Lx, Lk: Ly, dh },
        tokens(a.q, Lx, D),
        tokens(a.k, Ly, D),
        tokens(a.v, Ly, D),
        tokens(s.dattn, Lx, D),
        tokens(cs.dq, Lx, D),
        tokens(cs.dk, Ly, D),
        tokens(cs.dv, Ly, D),
        this.crossBufs,
      ),
      ...linearBackward(gpu, this.lin("cross_attn.projq"), a.ln2, cs.dq, s.dln, N, D, D),
      scaleCall(gpu, cs.dx2, s.dx1, N * D, 1),
      ...lnb("norm2", a.x1, s.dln, a.mean2, a.rstd2, s.dx1, N),
      ...linearBackward(gpu, this.lin("cross_attn.projk"), a.lny, cs.dk, cs.dlny, Ny, D, D),
      ...linearBackward(gpu, this.lin("cross_attn.projv"), a.lny, cs.dv, cs.dlny, Ny, D, D, true),
      ...lnb("norm_y", y, cs.dlny, a.meany, a.rstdy, dy, Ny),
      // Self-attention branch
      ...linearBackward(gpu, this.lin("attn.proj"), a.attn, s.dx1, s.dattn, N, D, D),
      ...attentionBackward(gpu, { B, H, Lq: Lx, Lk: Lx, dh }, sv.q, sv.k, sv.v, tokens(s.dattn, Lx, D), dsv.q, dsv.k, dsv.v, this.selfBufs),
      ...linearBackward(gpu, this.lin("attn.qkv"), a.ln1, s.dqkv, s.dln, N, D, 3 * D),
      scaleCall(gpu, s.dx1, dx, N * D, 1),
      ...lnb("norm1", x, s.dln, a.mean1, a.rstd1, dx, N),
    ];
  }
}
