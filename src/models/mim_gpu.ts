// The MIM models (ViT encoder, MAE decoder, CroCo decoder, masked-patch loss) on the GPU, forward
// AND backward, built from the training engine's calls (src/nn). Oracle: the CPU reference
// src/ref/models/mim.ts (forward) and test/fixtures/mim (PyTorch loss + float64 gradients).
//
// Parameters live in ONE flat buffer (src/nn/params.ts GpuParams) over paramLayout(config), the
// layout of src/models/params.ts's ParamStore.data (uploaded as is). Gradients accumulate (+=) in
// the flat gradient buffer; AdamW (src/nn/optim.ts) steps it. Weight decay follows the table's
// flags (src/nn/layout.ts weightDecays: not on 1-D tensors and biases; cls/mask tokens decay, as
// in MAE's pretraining); the sin-cos position embeddings are frozen (trainable false).
//
// Layouts are batch-major: a sequence tensor (B, T, D) is B*T rows of D. Token assembly uses row
// gathers (shaders/nn/gather_rows.wgsl) with GLOBAL row ids (B = 1 in the kernel's terms):
//   encoder:  ext (B*K + 1, D) = [patch_embed(kept patches) + pos_embed[1 + id]; cls + pos_embed[0]]
//             x0 (B, 1 + K, D) = gather(ext, idsX0)      (row 0 of each sample <- ext's last row)
//   decoder:  e (B*(1+K) + 1, Dd) = [decoder_embed(latent); mask_token]
//             xd (B, 1 + L, Dd) = gather(e, idsDec) + decoder_pos_embed   (MAE's unshuffle)
// Backward of a gather whose ids repeat (the cls / mask-token row) is a gather of the distinct rows
// plus a (1, R) @ (R, D) matmul with a 0/1 selection row for the repeated one.
//
// Everything (activations, ids buffers, bind groups) is allocated once per batch size (`MimPlan`);
// a micro-step is one command encoder: forward, loss, backward; the host reads back the loss only.

import { createBuffer } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { Block, type BlockConfig, type BlockScratch, blockScratch, CrossBlock, crossScratch, linearParams } from "../nn/block.js";
import { type Call, encodeCalls, readTensor, type Tensor, tensor, view, writeTensor } from "../nn/core.js";
import {
  addCall,
  axpyCall,
  fillCall,
  gatherRows,
  layernormBackward,
  layernormForward,
  type MaskedMseArgs,
  maskedMseBackward,
  maskedMseForward,
  patchify,
  scaleCall,
  scatterRows,
} from "../nn/layers.js";
import { withoutDecay } from "../nn/layout.js";
import { type LinearParams, linearBackward, linearForward, matmulCall } from "../nn/matmul.js";
import { GpuParams } from "../nn/params.js";
import { type ModelConfig, numKeep, numPatches, patchDim } from "./config.js";
import type { Masking } from "./masking.js";
import { decoderPrefix, paramLayout } from "./params.js";

/**
 * The model's GPU parameters over the host store's layout (paramLayout(c)); allocate before use.
 * `noDecay` exempts more tensors from weight decay (same offsets), e.g. FINETUNE_NO_DECAY.
 */
export function mimGpuParams(c: ModelConfig, noDecay: readonly string[] = []): GpuParams {
  return new GpuParams(noDecay.length ? withoutDecay(paramLayout(c), noDecay) : paramLayout(c));
}

const u32Buffer = (gpu: Gpu, label: string, n: number) => createBuffer(gpu, label, Math.max(16, n * 4));

/** A Linear whose weight is stored with another shape (patch_embed.proj.weight (D, 3, p, p)). */
function linearAs(ps: GpuParams, name: string, outF: number, inF: number, wT: Tensor): LinearParams {
  const w = ps.param(`${name}.weight`);
  const dw = ps.grad(`${name}.weight`);
  return {
    w: view(w, 0, [outF, inF]),
    b: ps.param(`${name}.bias`),
    dw: view(dw, 0, [outF, inF]),
    db: ps.grad(`${name}.bias`),
    wT,
  };
}

// ---------------------------------------------------------------------------------------------
// Encoder

/**
 * The ViT encoder for one view at batch B with K visible patches per sample (K = L: unmasked):
 * imgs (B, 3, S, S) -> latent (B, 1 + K, D). Owns its activations; shares the model's parameters.
 */
export class GpuEncoder {
  readonly T: number;
  readonly imgs: Tensor; // (B, 3, S, S)
  readonly latent: Tensor; // (B * T, D)
  /** Input gradient of the latent (written by the decoder's backward). */
  readonly dlatent: Tensor; // (B * T, D)
  readonly masked: boolean;
  private xp: Tensor; // (B * L, 3pp) conv-order patches
  private xk: Tensor; // (B * K, 3pp) kept patches (masked only)
  private ext: Tensor; // (B * K + 1, D)
  private posK: Tensor; // (B * K, D)
  private x0: Tensor; // (B * T, D)
  private meanN: Tensor;
  private rstdN: Tensor;
  private blocks: Block[];
  private dA: Tensor;
  private dB: Tensor;
  private demb: Tensor; // (B * K, D)
  private selCls: Tensor; // (1, B * T): 1 at each sample's cls row
  readonly idsPatch: GPUBuffer; // (B * K) u32: b * L + kept patch
  readonly idsPos: GPUBuffer; // (B * K) u32: 1 + kept patch
  private idsX0: GPUBuffer; // (B * T) u32
  private idsBack: GPUBuffer; // (B * K) u32
  private hostIds: Uint32Array;
  private patchLin: LinearParams;

  constructor(
    private gpu: Gpu,
    private ps: GpuParams,
    readonly c: ModelConfig,
    readonly B: number,
    readonly K: number,
    label: string,
  ) {
    const L = numPatches(c);
    const D = c.width;
    const pd = patchDim(c);
    this.masked = K < L;
    this.T = 1 + K;
    const T = this.T;
    const t = (n: string, shape: number[]) => tensor(gpu, `${label} ${n}`, shape);
    this.imgs = t("imgs", [B, 3, c.imgSize, c.imgSize]);
    this.xp = t("patches", [B * L, pd]);
    this.xk = this.masked ? t("kept patches", [B * K, pd]) : this.xp;
    this.ext = t("ext", [B * K + 1, D]);
    this.posK = t("posK", [B * K, D]);
    this.x0 = t("x0", [B * T, D]);
    this.latent = t("latent", [B * T, D]);
    this.dlatent = t("dlatent", [B * T, D]);
    this.meanN = t("norm mean", [B * T]);
    this.rstdN = t("norm rstd", [B * T]);
    this.dA = t("dA", [B * T, D]);
    this.dB = t("dB", [B * T, D]);
    this.demb = t("demb", [B * K, D]);
    this.selCls = t("sel cls", [1, B * T]);
    const bc: BlockConfig = { D, H: c.heads, mlpRatio: c.mlpRatio, eps: c.lnEps };
    const scratch: BlockScratch = blockScratch(gpu, bc, B * T, `${label} block scratch`);
    this.blocks = Array.from({ length: c.depth }, (_, i) => new Block(gpu, ps, `blocks.${i}`, bc, B, T, scratch));
    this.patchLin = linearAs(ps, "patch_embed.proj", D, pd, tensor(gpu, `${label} patch wT`, [pd * D]));
    this.idsPatch = u32Buffer(gpu, `${label} ids patch`, B * K);
    this.idsPos = u32Buffer(gpu, `${label} ids pos`, B * K);
    this.idsX0 = u32Buffer(gpu, `${label} ids x0`, B * T);
    this.idsBack = u32Buffer(gpu, `${label} ids back`, B * K);
    this.hostIds = new Uint32Array(2 * B * K);
    // Mask-independent ids.
    const x0 = new Uint32Array(B * T);
    const back = new Uint32Array(B * K);
    const sel = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      x0[b * T] = B * K;
      sel[b * T] = 1;
      for (let k = 0; k < K; k++) {
        x0[b * T + 1 + k] = b * K + k;
        back[b * K + k] = b * T + 1 + k;
      }
    }
    gpu.device.queue.writeBuffer(this.idsX0, 0, x0);
    gpu.device.queue.writeBuffer(this.idsBack, 0, back);
    writeTensor(gpu, this.selCls, sel);
    if (!this.masked) {
      const all = new Int32Array(B * L);
      for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) all[b * L + i] = i;
      this.setKept(all);
    }
  }

  /** Upload the kept patch ids (B, K) (masking.idsKeep). */
  setKept(idsKeep: Int32Array): void {
    const { B, K } = this;
    const L = numPatches(this.c);
    if (idsKeep.length !== B * K) throw new Error(`encoder: ${idsKeep.length} kept ids for (${B}, ${K})`);
    const h = this.hostIds;
    for (let b = 0; b < B; b++)
      for (let k = 0; k < K; k++) {
        const id = idsKeep[b * K + k];
        h[b * K + k] = b * L + id;
        h[B * K + b * K + k] = 1 + id;
      }
    this.gpu.device.queue.writeBuffer(this.idsPatch, 0, h, 0, B * K);
    this.gpu.device.queue.writeBuffer(this.idsPos, 0, h, B * K, B * K);
  }

  private input(i: number): Tensor {
    return i === 0 ? this.x0 : this.blocks[i - 1].out;
  }

  forward(): Call[] {
    const { gpu, ps, c, B, K, T } = this;
    const L = numPatches(c);
    const D = c.width;
    const pd = patchDim(c);
    const p = c.patchSize;
    const pos = ps.param("pos_embed");
    const calls: Call[] = [patchify(gpu, this.imgs, this.xp, { B, H: c.imgSize, W: c.imgSize, P: p, order: 1 })];
    if (this.masked) calls.push(gatherRows(gpu, this.xp, this.idsPatch, this.xk, { B: 1, Ls: B * L, Lo: B * K, D: pd }));
    const rows = view(this.ext, 0, [B * K, D], `${this.ext.label} rows`);
    calls.push(
      ...linearForward(gpu, this.patchLin, this.xk, rows, B * K, pd, D),
      gatherRows(gpu, pos, this.idsPos, this.posK, { B: 1, Ls: 0, Lo: B * K, D }),
      axpyCall(gpu, this.posK, rows, B * K * D),
      addCall(gpu, ps.param("cls_token"), view(pos, 0, [D]), view(this.ext, B * K * D, [D], "cls row"), D),
      gatherRows(gpu, this.ext, this.idsX0, this.x0, { B: 1, Ls: 0, Lo: B * T, D }),
    );
    for (let i = 0; i < c.depth; i++) calls.push(...this.blocks[i].forward(this.input(i)));
    calls.push(
      layernormForward(gpu, {
        x: this.input(c.depth),
        w: ps.param("norm.weight"),
        b: ps.param("norm.bias"),
        y: this.latent,
        mean: this.meanN,
        rstd: this.rstdN,
        N: B * T,
        C: D,
        eps: c.lnEps,
      }),
    );
    return calls;
  }

  /** Backward from this.dlatent: parameter gradients accumulate (pos_embed is frozen: none). */
  backward(): Call[] {
    const { gpu, ps, c, B, K, T } = this;
    const D = c.width;
    const pd = patchDim(c);
    let d = this.dA;
    let other = this.dB;
    const calls: Call[] = [
      ...layernormBackward(gpu, {
        x: this.input(c.depth),
        dy: this.dlatent,
        w: ps.param("norm.weight"),
        mean: this.meanN,
        rstd: this.rstdN,
        dx: d,
        dw: ps.grad("norm.weight"),
        db: ps.grad("norm.bias"),
        N: B * T,
        C: D,
        accumulate: false,
      }),
    ];
    for (let i = c.depth - 1; i >= 0; i--) {
      calls.push(...this.blocks[i].backward(this.input(i), d, other));
      [d, other] = [other, d];
    }
    calls.push(
      // cls_token: sum of the cls rows' gradients
      matmulCall(gpu, { M: 1, N: D, K: B * T, a: this.selCls, b: d, c: ps.grad("cls_token"), accumulate: true, label: "cls_token grad" }),
      gatherRows(gpu, d, this.idsBack, this.demb, { B: 1, Ls: 0, Lo: B * K, D }),
      ...linearBackward(gpu, this.patchLin, this.xk, this.demb, null, B * K, pd, D),
    );
    return calls;
  }
}

// ---------------------------------------------------------------------------------------------
// Whole model at one batch size

/** All buffers and recorded calls of the model at batch size B (built once, reused every step). */
export class MimPlan {
  readonly L: number;
  readonly K: number;
  readonly enc1: GpuEncoder;
  readonly enc2: GpuEncoder | null;
  /** (B * L, p*p*3) prediction (cls dropped). */
  readonly pred: Tensor;
  /** loss[0] = loss, loss[1] = number of scored patches. */
  readonly loss: Tensor;
  readonly forwardCalls: Call[];
  readonly backwardCalls: Call[];
  private mask: Tensor; // (B * L) 1 = removed
  private selMask: Tensor; // (1, B * (1 + L)) 1 at mask-token rows
  private idsDec: GPUBuffer; // (B * (1 + L)) u32 into e
  private idsDecBack: GPUBuffer; // (B * (1 + K)) u32 into xd
  private idsSeq: GPUBuffer; // (B * L) u32: i (per-sample, for the cls drop)
  private hostDec: Uint32Array;
  private hostDecBack: Uint32Array;
  private hostSel: Float32Array;
  private lossStaging: GPUBuffer;

  constructor(
    private gpu: Gpu,
    ps: GpuParams,
    readonly c: ModelConfig,
    readonly B: number,
    /** Visible patches of view 1 per sample (default: the config's mask ratio). */
    keep?: number,
  ) {
    const L = numPatches(c);
    const K = keep ?? numKeep(L, c.maskRatio);
    if (!(Number.isInteger(K) && K >= 1 && K <= L)) throw new Error(`MimPlan: keep ${K} is outside 1..${L}`);
    this.L = L;
    this.K = K;
    const D = c.width;
    const Dd = c.decoderWidth;
    const pd = patchDim(c);
    const Td = 1 + L;
    const T1 = 1 + K;
    const croco = c.objective === "croco";
    const t = (n: string, shape: number[]) => tensor(gpu, `mim ${n}`, shape);
    this.enc1 = new GpuEncoder(gpu, ps, c, B, K, "enc view1");
    this.enc2 = croco ? new GpuEncoder(gpu, ps, c, B, L, "enc view2") : null;

    const wT = t("decoder wT", [Math.max(D * Dd, Dd * pd)]);
    const embed = linearParams(ps, "decoder_embed", wT);
    const predLin = linearParams(ps, "decoder_pred", wT);
    const e = t("e", [B * T1 + 1, Dd]); // [decoder_embed(latent1); mask_token]
    const dposRep = t("decoder pos (B copies)", [B * Td, Dd]);
    const xd0 = t("xd0", [B * Td, Dd]);
    const y = croco ? t("y", [B * Td, Dd]) : null; // decoder_embed(latent2) + decoder_pos_embed
    const dY = croco ? t("dY", [B * Td, Dd]) : null;
    const xn = t("decoder_norm out", [B * Td, Dd]);
    const meanN = t("decoder_norm mean", [B * Td]);
    const rstdN = t("decoder_norm rstd", [B * Td]);
    const predFull = t("pred full", [B * Td, pd]);
    const dpredFull = t("dpred full", [B * Td, pd]); // cls rows stay 0
    const dxn = t("dxn", [B * Td, Dd]);
    const dA = t("ddec A", [B * Td, Dd]);
    const dB = t("ddec B", [B * Td, Dd]);
    const de = t("de", [B * T1, Dd]);
    this.pred = t("pred", [B * L, pd]);
    const dpred = t("dpred", [B * L, pd]);
    const target = t("target", [B * L, pd]);
    this.mask = t("mask", [B * L]);
    this.selMask = t("sel mask", [1, B * Td]);
    this.loss = t("loss", [4]);
    this.idsDec = u32Buffer(gpu, "ids dec", B * Td);
    this.idsDecBack = u32Buffer(gpu, "ids dec back", B * T1);
    this.idsSeq = u32Buffer(gpu, "ids seq", B * L);
    const dposIds = u32Buffer(gpu, "ids dpos", B * Td);
    this.hostDec = new Uint32Array(B * Td);
    this.hostDecBack = new Uint32Array(B * T1);
    this.hostSel = new Float32Array(B * Td);
    const seq = new Uint32Array(B * L);
    const dposSeq = new Uint32Array(B * Td);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < L; i++) seq[b * L + i] = i;
      for (let i = 0; i < Td; i++) dposSeq[b * Td + i] = i;
    }
    gpu.device.queue.writeBuffer(this.idsSeq, 0, seq);
    gpu.device.queue.writeBuffer(dposIds, 0, dposSeq);
    this.lossStaging = gpu.device.createBuffer({
      label: "mim loss staging",
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });

    const bc: BlockConfig = { D: Dd, H: c.decoderHeads, mlpRatio: c.mlpRatio, eps: c.lnEps };
    const prefix = decoderPrefix(c.objective);
    const N = B * Td;
    const blocks: (Block | CrossBlock)[] = [];
    if (croco) {
      const s = blockScratch(gpu, bc, N, "croco decoder scratch");
      const xs = crossScratch(gpu, bc, N, N, "croco decoder cross scratch");
      for (let i = 0; i < c.decoderDepth; i++) blocks.push(new CrossBlock(gpu, ps, `${prefix}.${i}`, bc, B, Td, Td, s, xs));
    } else {
      const s = blockScratch(gpu, bc, N, "mae decoder scratch");
      for (let i = 0; i < c.decoderDepth; i++) blocks.push(new Block(gpu, ps, `${prefix}.${i}`, bc, B, Td, s));
    }
    const input = (i: number) => (i === 0 ? xd0 : blocks[i - 1].out);
    const mse: MaskedMseArgs = {
      pred: this.pred,
      target,
      mask: this.mask,
      tn: t("target normed", [B * L, pd]),
      lp: t("loss per patch", [B * L]),
      loss: this.loss,
      R: B * L,
      F: pd,
      normPix: c.normPixLoss,
    };
    const dpos = ps.param("decoder_pos_embed");
    const rowsE = view(e, 0, [B * T1, Dd], "e rows");

    // ---- forward
    const fwd: Call[] = [...this.enc1.forward()];
    if (this.enc2) fwd.push(...this.enc2.forward());
    fwd.push(
      gatherRows(gpu, dpos, dposIds, dposRep, { B: 1, Ls: 0, Lo: B * Td, D: Dd }),
      ...linearForward(gpu, embed, this.enc1.latent, rowsE, B * T1, D, Dd),
      scaleCall(gpu, ps.param("mask_token"), view(e, B * T1 * Dd, [Dd], "mask token row"), Dd, 1),
      gatherRows(gpu, e, this.idsDec, xd0, { B: 1, Ls: 0, Lo: B * Td, D: Dd }),
      axpyCall(gpu, dposRep, xd0, B * Td * Dd),
    );
    if (this.enc2 && y) fwd.push(...linearForward(gpu, embed, this.enc2.latent, y, B * Td, D, Dd), axpyCall(gpu, dposRep, y, B * Td * Dd));
    for (let i = 0; i < blocks.length; i++) {
      const blk = blocks[i];
      fwd.push(...(blk instanceof CrossBlock ? blk.forward(input(i), y as Tensor) : blk.forward(input(i))));
    }
    fwd.push(
      layernormForward(gpu, {
        x: input(blocks.length),
        w: ps.param("decoder_norm.weight"),
        b: ps.param("decoder_norm.bias"),
        y: xn,
        mean: meanN,
        rstd: rstdN,
        N,
        C: Dd,
        eps: c.lnEps,
      }),
      ...linearForward(gpu, predLin, xn, predFull, N, Dd, pd),
      gatherRows(gpu, predFull, this.idsSeq, this.pred, { B, Ls: Td, Lo: L, D: pd, row0: 1 }),
      patchify(gpu, this.enc1.imgs, target, { B, H: c.imgSize, W: c.imgSize, P: c.patchSize, order: 0 }),
      ...maskedMseForward(gpu, mse),
    );
    this.forwardCalls = fwd;

    // ---- backward
    const bwd: Call[] = [
      maskedMseBackward(gpu, mse, dpred, 1),
      scatterRows(gpu, dpred, this.idsSeq, dpredFull, { B, Ls: Td, Lo: L, D: pd, row0: 1 }, false),
      ...linearBackward(gpu, predLin, xn, dpredFull, dxn, N, Dd, pd),
    ];
    let d = dA;
    let other = dB;
    if (dY) bwd.push(fillCall(gpu, dY, B * Td * Dd, 0)); // the cross blocks accumulate the memory's gradient
    bwd.push(
      ...layernormBackward(gpu, {
        x: input(blocks.length),
        dy: dxn,
        w: ps.param("decoder_norm.weight"),
        mean: meanN,
        rstd: rstdN,
        dx: d,
        dw: ps.grad("decoder_norm.weight"),
        db: ps.grad("decoder_norm.bias"),
        N,
        C: Dd,
        accumulate: false,
      }),
    );
    for (let i = blocks.length - 1; i >= 0; i--) {
      const blk = blocks[i];
      if (blk instanceof CrossBlock) bwd.push(...blk.backward(input(i), y as Tensor, d, other, dY as Tensor));
      else bwd.push(...blk.backward(input(i), d, other));
      [d, other] = [other, d];
    }
    bwd.push(
      matmulCall(gpu, { M: 1, N: Dd, K: N, a: this.selMask, b: d, c: ps.grad("mask_token"), accumulate: true, label: "mask_token grad" }),
      gatherRows(gpu, d, this.idsDecBack, de, { B: 1, Ls: 0, Lo: B * T1, D: Dd }),
      ...linearBackward(gpu, embed, this.enc1.latent, de, this.enc1.dlatent, B * T1, D, Dd),
    );
    if (this.enc2 && dY) bwd.push(...linearBackward(gpu, embed, this.enc2.latent, dY, this.enc2.dlatent, B * Td, D, Dd));
    bwd.push(...this.enc1.backward());
    if (this.enc2) bwd.push(...this.enc2.backward());
    this.backwardCalls = bwd;
  }

  /** Upload a batch's views (B, 3, S, S) and view 1's masking (ids, restore ids, mask). */
  upload(view1: Float32Array, view2: Float32Array | null, m: Masking): void {
    const { B, L, K, gpu } = this;
    if (m.batch !== B || m.L !== L || m.keep !== K)
      throw new Error(`masking is for (batch ${m.batch}, L ${m.L}, keep ${m.keep}); the model needs (${B}, ${L}, ${K})`);
    writeTensor(gpu, this.enc1.imgs, view1);
    if (this.enc2) {
      if (!view2) throw new Error("the CroCo objective needs view 2");
      writeTensor(gpu, this.enc2.imgs, view2);
    } else if (view2) throw new Error("the MAE objective takes one view (view2 must be null)");
    this.enc1.setKept(m.idsKeep);
    const Td = 1 + L;
    const T1 = 1 + K;
    const dec = this.hostDec;
    const back = this.hostDecBack;
    const sel = this.hostSel;
    sel.fill(0);
    for (let b = 0; b < B; b++) {
      dec[b * Td] = b * T1;
      back[b * T1] = b * Td;
      for (let i = 0; i < L; i++) {
        const j = m.idsRestore[b * L + i];
        if (j < K) dec[b * Td + 1 + i] = b * T1 + 1 + j;
        else {
          dec[b * Td + 1 + i] = B * T1;
          sel[b * Td + 1 + i] = 1;
        }
      }
      for (let k = 0; k < K; k++) back[b * T1 + 1 + k] = b * Td + 1 + m.idsKeep[b * K + k];
    }
    gpu.device.queue.writeBuffer(this.idsDec, 0, dec);
    gpu.device.queue.writeBuffer(this.idsDecBack, 0, back);
    writeTensor(gpu, this.selMask, sel);
    writeTensor(gpu, this.mask, m.mask);
  }

  /** Record forward (+ backward) and a copy of the loss into the staging buffer; submit. */
  submit(withBackward: boolean, extra: (enc: GPUCommandEncoder) => void = () => {}): void {
    const enc = this.gpu.device.createCommandEncoder({ label: "mim step" });
    encodeCalls(enc, withBackward ? [...this.forwardCalls, ...this.backwardCalls] : this.forwardCalls, "mim step");
    enc.copyBufferToBuffer(this.loss.buf, 0, this.lossStaging, 0, 8);
    extra(enc);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Read the loss of the last submitted step (waits for the GPU). */
  async readLoss(): Promise<number> {
    await this.lossStaging.mapAsync(GPUMapMode.READ);
    const v = new Float32Array(this.lossStaging.getMappedRange().slice(0, 4))[0];
    this.lossStaging.unmap();
    return v;
  }
}

/** The model: parameters + gradients (one flat buffer each) and a plan per batch size. */
export class MimGpuModel {
  readonly ps: GpuParams;
  private plans = new Map<string, MimPlan>();

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
  ) {
    this.ps = mimGpuParams(config);
    this.ps.allocate(gpu, `mim ${config.name} params`);
  }

  /** Floats in the flat parameter array (params.ts layout). */
  get size(): number {
    return this.ps.size;
  }

  /** The plan for batch size B and K visible patches (default: the config's mask ratio); built once. */
  plan(B: number, keep = numKeep(numPatches(this.config), this.config.maskRatio)): MimPlan {
    const key = `${B}/${keep}`;
    let p = this.plans.get(key);
    if (!p) {
      p = new MimPlan(this.gpu, this.ps, this.config, B, keep);
      this.plans.set(key, p);
    }
    return p;
  }

  /** Upload all parameters (src/models/params.ts ParamStore.data layout). */
  setParams(flat: Float32Array): void {
    if (flat.length !== this.ps.size)
      throw new Error(`MimGpuModel: ${flat.length} parameter floats, model '${this.config.name}' needs ${this.ps.size}`);
    this.ps.setAll(this.gpu, flat);
  }

  async getParams(): Promise<Float32Array> {
    return (await this.ps.readAll(this.gpu)).slice(0, this.ps.size);
  }

  /** Zero the gradient buffer (inside `enc`). */
  clearGrads(enc: GPUCommandEncoder): void {
    enc.clearBuffer((this.ps.grads as Tensor).buf);
  }

  /** Read the flat gradient buffer (tests). */
  async getGrads(): Promise<Float32Array> {
    const g = this.ps.grads as Tensor;
    return (await readTensor(this.gpu, g)).slice(0, this.ps.size);
  }

  /**
   * Forward (+ backward: gradients accumulate) of one batch; returns the loss.
   * view1/view2 (B, 3, S, S) ImageNet-normalised; masking for view 1.
   */
  async step(view1: Float32Array, view2: Float32Array | null, masking: Masking, withBackward = true): Promise<number> {
    const S = this.config.imgSize;
    const B = view1.length / (3 * S * S);
    if (!Number.isInteger(B) || B < 1) throw new Error(`view1 has ${view1.length} floats, not a multiple of 3*${S}*${S}`);
    if (masking.batch !== B) throw new Error(`masking is for batch ${masking.batch}, the views hold ${B} samples`);
    const plan = this.plan(B, masking.keep);
    plan.upload(view1, view2, masking);
    plan.submit(withBackward);
    return plan.readLoss();
  }

  /** Forward only: loss and prediction (B, L, p*p*3). */
  async predict(view1: Float32Array, view2: Float32Array | null, masking: Masking): Promise<{ loss: number; pred: Float32Array }> {
    const loss = await this.step(view1, view2, masking, false);
    const plan = this.plan(masking.batch, masking.keep);
    return { loss, pred: await readTensor(this.gpu, plan.pred) };
  }
}
