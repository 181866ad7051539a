// The GPU implementation of the training loop's MimTrainer (src/train/loop.ts): the model of
// src/models/mim_gpu.ts + AdamW (src/nn/optim.ts, MAE's betas (0.9, 0.95), no clipping by default).
// One command encoder per micro-step (forward, loss, backward; gradients accumulate), one per
// optimizer step (AdamW, then the gradients are cleared). The only readback is the loss.
// Optimizer state in checkpoints: exp_avg.<name> / exp_avg_sq.<name> per trainable tensor (PyTorch's
// AdamW state names) + { t, config } as JSON.

import type { Gpu } from "../gpu/device.js";
import type { ModelConfig } from "../models/config.js";
import type { Masking } from "../models/masking.js";
import { MimGpuModel } from "../models/mim_gpu.js";
import type { Safetensors, TensorToWrite } from "../models/safetensors.js";
import { encodeCalls, readTensor, writeTensor } from "../nn/core.js";
import { AdamW, type AdamWConfig, adamwPresets } from "../nn/optim.js";
import type { MimBatch } from "./data.js";
import type { MimTrainer } from "./loop.js";
import type { MimForward } from "./reconstruct.js";

export interface GpuTrainerOptions {
  /** AdamW weight decay (MAE: 0.05). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  /** Clip the global gradient norm (0 = off, MAE's default). */
  maxGradNorm?: number;
}

export class GpuMimTrainer implements MimTrainer {
  readonly model: MimGpuModel;
  readonly opt: AdamW;

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    o: GpuTrainerOptions = {},
  ) {
    this.model = new MimGpuModel(gpu, config);
    const cfg: AdamWConfig = {
      ...adamwPresets.mae,
      weightDecay: o.weightDecay ?? adamwPresets.mae.weightDecay,
      beta1: o.beta1 ?? adamwPresets.mae.beta1,
      beta2: o.beta2 ?? adamwPresets.mae.beta2,
      maxGradNorm: o.maxGradNorm ?? 0,
    };
    this.opt = new AdamW(gpu, this.model.ps, cfg);
  }

  async microStep(batch: MimBatch, masking: Masking): Promise<number> {
    return this.model.step(batch.view1, batch.view2, masking, true);
  }

  async optimizerStep(lr: number, gradScale: number): Promise<void> {
    const enc = this.gpu.device.createCommandEncoder({ label: "adamw step" });
    encodeCalls(enc, this.opt.step(lr, gradScale), "adamw");
    this.model.clearGrads(enc);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  async importParams(data: Float32Array): Promise<void> {
    this.model.setParams(data);
  }

  async exportParams(): Promise<Float32Array> {
    return this.model.getParams();
  }

  async exportOptimizer(): Promise<{ tensors: TensorToWrite[]; state: Record<string, unknown> }> {
    const m = await readTensor(this.gpu, this.opt.m);
    const v = await readTensor(this.gpu, this.opt.v);
    const tensors: TensorToWrite[] = [];
    for (const s of this.model.ps.specs) {
      if (!s.trainable) continue;
      const n = s.shape.reduce((a, b) => a * b, 1);
      tensors.push({ name: `exp_avg.${s.name}`, shape: s.shape, data: m.slice(s.offset, s.offset + n) });
      tensors.push({ name: `exp_avg_sq.${s.name}`, shape: s.shape, data: v.slice(s.offset, s.offset + n) });
    }
    return { tensors, state: { t: this.opt.t, adamw: this.opt.cfg } };
  }

  async importOptimizer(st: Safetensors, state: Record<string, unknown>): Promise<void> {
    const size = this.opt.m.shape[0];
    const m = new Float32Array(size);
    const v = new Float32Array(size);
    for (const s of this.model.ps.specs) {
      if (!s.trainable) continue;
      for (const [key, dst] of [
        ["exp_avg", m],
        ["exp_avg_sq", v],
      ] as const) {
        const name = `${key}.${s.name}`;
        if (!st.names().includes(name)) throw new Error(`${st.source}: optimizer tensor '${name}' is missing`);
        const data = st.float32(name);
        const n = s.shape.reduce((a, b) => a * b, 1);
        if (data.length !== n) throw new Error(`${st.source}: optimizer tensor '${name}' has ${data.length} values, expected ${n}`);
        dst.set(data, s.offset);
      }
    }
    writeTensor(this.gpu, this.opt.m, m);
    writeTensor(this.gpu, this.opt.v, v);
    const t = state.t;
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0) throw new Error(`${st.source}: optimizer state has no valid step count t`);
    this.opt.t = t;
  }

  async predict(batch: MimBatch, masking: Masking): Promise<Float32Array> {
    return (await this.model.predict(batch.view1, batch.view2, masking)).pred;
  }
}

/**
 * A MimForward (src/train/reconstruct.ts) on the GPU: uploads the params into a model for their
 * config (one model per config object, cached) and runs the forward.
 */
export function gpuForward(gpu: Gpu): MimForward {
  const models = new WeakMap<ModelConfig, MimGpuModel>();
  return async (params, config, view1, view2, _B, masking) => {
    let m = models.get(config);
    if (!m) {
      m = new MimGpuModel(gpu, config);
      models.set(config, m);
    }
    m.setParams(params.data);
    return m.predict(view1, view2, masking);
  };
}
