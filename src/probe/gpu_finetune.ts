// The probe's fine-tuned encoder on the GPU: the training engine's encoder (src/models/mim_gpu.ts
// GpuEncoder, unmasked: K = L) forward AND backward over its own copy of the parameters, with the
// engine's AdamW (src/nn/optim.ts). The head stays on the host (src/probe/cpu_trainer.ts): a step is
//   forwardTrain(images) -> tokens (B, L, D) read back -> head forward/backward on the host ->
//   dL/dtokens uploaded -> backwardStep: encoder backward + one AdamW step.
// MIMIC, CroCo and MAE report transfer by fine-tuning the whole encoder; a frozen encoder with a
// linear head (pipeline.ts) measures what the features hold as they are.
//
// Per batch size B the encoder's activations, a staging buffer and the recorded forward calls are
// built once and reused (the backward calls and the optimizer on the first backwardStep); a call
// uploads the images, submits one command encoder (forward + a copy of the latent into the staging
// buffer), maps it once and drops the cls rows on the host. The frozen GPU encoder (gpu_encoder.ts)
// is this one used for encode alone.
// Weight decay: MAE's fine-tuning rule (src/nn/layout.ts weightDecays, and FINETUNE_NO_DECAY: not
// on 1-D tensors, biases, cls_token, position embeddings); the sin-cos position embeddings stay frozen. The decoder's tensors are in the store (one layout) but get no
// gradient: their update is weight decay only and they are never read.

import { type Gpu, getGpu } from "../gpu/device.js";
import { numPatches } from "../models/config.js";
import { GpuEncoder, mimGpuParams } from "../models/mim_gpu.js";
import { encoderHash, type ParamStore } from "../models/params.js";
import { type Call, encodeCalls, readTensor, type Tensor, writeTensor } from "../nn/core.js";
import { FINETUNE_NO_DECAY } from "../nn/layout.js";
import { AdamW, type AdamWConfig } from "../nn/optim.js";
import type { GpuParams } from "../nn/params.js";
import type { TrainableEncoder } from "./pipeline.js";

/** AdamW of the encoder while fine-tuning (MAE's fine-tuning betas and weight decay; lr comes per step). */
export const finetuneAdamW: Omit<AdamWConfig, "lr"> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 0 };

interface Plan {
  enc: GpuEncoder;
  forward: Call[];
  /** built on the first backwardStep at this batch size (a frozen encoder never needs them) */
  backward: Call[] | null;
  staging: GPUBuffer; // (B, 1 + L, D) f32, MAP_READ
  bytes: number;
  dlatent: Float32Array; // (B, 1 + L, D) host copy: cls rows stay 0
}

/** The GPU trainable encoder, with readbacks of its flat parameters and last gradients (params.ts layout). */
export interface GpuTrainableEncoder extends TrainableEncoder {
  readParameters(): Promise<Float32Array>;
  /** Gradients of the last backwardStep (kept until the next one). */
  readGradients(): Promise<Float32Array>;
}

/**
 * A TrainableEncoder on the GPU starting from a parameter store (src/models/params.ts); the GPU is
 * acquired on first use. Its name is the frozen encoder's (gpu_encoder.ts) plus ":finetuned".
 */
export function gpuTrainableEncoder(params: ParamStore, label: string, gpuIn?: Gpu): GpuTrainableEncoder {
  const c = params.config;
  const L = numPatches(c);
  const D = c.width;
  const S = c.imgSize;
  let state: { gpu: Gpu; ps: GpuParams } | null = null;
  let opt: AdamW | null = null; // made on the first backwardStep: a frozen encoder holds no moments
  const plans = new Map<number, Plan>();
  let last: Plan | null = null; // the plan of the last forwardTrain (its activations are live)

  async function setup(): Promise<{ gpu: Gpu; ps: GpuParams }> {
    if (state) return state;
    const gpu = gpuIn ?? (await getGpu());
    const ps = mimGpuParams(c, FINETUNE_NO_DECAY);
    ps.allocate(gpu, `probe ${c.name} params`);
    ps.setAll(gpu, params.data);
    state = { gpu, ps };
    return state;
  }

  function plan(gpu: Gpu, ps: GpuParams, B: number): Plan {
    let p = plans.get(B);
    if (!p) {
      const enc = new GpuEncoder(gpu, ps, c, B, L, `probe enc B${B}`);
      const bytes = B * (1 + L) * D * 4;
      const staging = gpu.device.createBuffer({
        label: `probe enc B${B} staging`,
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      p = { enc, forward: enc.forward(), backward: null, staging, bytes, dlatent: new Float32Array(B * (1 + L) * D) };
      plans.set(B, p);
    }
    return p;
  }

  async function forward(images: Float32Array, B: number): Promise<{ tokens: Float32Array; plan: Plan }> {
    if (!(Number.isInteger(B) && B >= 1) || images.length !== B * 3 * S * S)
      throw new Error(`gpu encoder: ${images.length} floats for ${B} images of (3, ${S}, ${S})`);
    const { gpu, ps } = await setup();
    const p = plan(gpu, ps, B);
    writeTensor(gpu, p.enc.imgs, images);
    const cmd = gpu.device.createCommandEncoder({ label: "probe encode" });
    encodeCalls(cmd, p.forward, "probe encoder");
    cmd.copyBufferToBuffer(p.enc.latent.buf, p.enc.latent.off * 4, p.staging, 0, p.bytes);
    gpu.device.queue.submit([cmd.finish()]);
    await p.staging.mapAsync(GPUMapMode.READ);
    const latent = new Float32Array(p.staging.getMappedRange()); // (B, 1 + L, D)
    const tokens = new Float32Array(B * L * D); // (B, L, D): cls rows dropped
    for (let b = 0; b < B; b++) tokens.set(latent.subarray((b * (1 + L) + 1) * D, (b + 1) * (1 + L) * D), b * L * D);
    p.staging.unmap();
    return { tokens, plan: p };
  }

  return {
    name: `${label}@${encoderHash(params)}:finetuned`,
    embedDim: D,
    patchSize: c.patchSize,
    imageHeight: S,
    imageWidth: S,
    async encode(images: Float32Array, B: number): Promise<Float32Array> {
      last = null; // a plan's activations are overwritten: no backward through this call
      return (await forward(images, B)).tokens;
    },
    async forwardTrain(images: Float32Array, B: number): Promise<Float32Array> {
      const r = await forward(images, B);
      last = r.plan;
      return r.tokens;
    },
    async backwardStep(dTokens: Float32Array, lr: number): Promise<void> {
      const p = last;
      if (!p || !state) throw new Error("finetune encoder: backwardStep without a forwardTrain before it");
      last = null;
      const B = p.enc.B;
      if (dTokens.length !== B * L * D) throw new Error(`finetune encoder: ${dTokens.length} gradient floats for (${B}, ${L}, ${D})`);
      for (let b = 0; b < B; b++) p.dlatent.set(dTokens.subarray(b * L * D, (b + 1) * L * D), (b * (1 + L) + 1) * D);
      const { gpu, ps } = state;
      opt ??= new AdamW(gpu, ps, { ...finetuneAdamW, lr: 0 });
      p.backward ??= p.enc.backward();
      writeTensor(gpu, p.enc.dlatent, p.dlatent);
      const cmd = gpu.device.createCommandEncoder({ label: "finetune step" });
      cmd.clearBuffer((ps.grads as Tensor).buf);
      encodeCalls(cmd, [...p.backward, ...opt.step(lr)], "finetune encoder backward + adamw");
      gpu.device.queue.submit([cmd.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
    },
    async readParameters(): Promise<Float32Array> {
      const { gpu, ps } = await setup();
      return (await readTensor(gpu, ps.params as Tensor)).slice(0, ps.size);
    },
    async readGradients(): Promise<Float32Array> {
      const { gpu, ps } = await setup();
      return (await readTensor(gpu, ps.grads as Tensor)).slice(0, ps.size);
    },
  };
}
