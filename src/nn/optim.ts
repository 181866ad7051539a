// AdamW on the GPU over a GpuParams' flat buffers (shaders/nn/adamw.wgsl), with the global
// gradient norm (reduce.wgsl sumsq) and clipping computed in the same pass: no readback.
// Twin: src/ref/nn/adamw.ts (adamwStep). The LR schedule (optim_config.ts) runs on the host: each step
// writes the new lr and bias corrections into the kernel's uniform buffer (no allocation).
import type { Gpu } from "../gpu/device.js";
import { grid1d } from "../gpu/kernel.js";
import { type Call, dummyBuffer, makeCall, numel, readTensor, type Tensor, tensor } from "./core.js";
import { reduceCalls } from "./layers.js";
import type { AdamWConfig } from "./optim_config.js";
import type { GpuParams } from "./params.js";

export { type AdamWConfig, adamwPresets, type LrSchedule, lrAt, maeLr } from "./optim_config.js";

export class AdamW {
  readonly m: Tensor;
  readonly v: Tensor;
  /** stats[0] = squared global gradient norm (after gradScale) of the last step. */
  readonly stats: Tensor;
  private scratch: Tensor;
  private uniform: GPUBuffer;
  private n: number;
  /** Steps taken (t of the bias correction). */
  t = 0;

  constructor(
    private gpu: Gpu,
    private store: GpuParams,
    readonly cfg: AdamWConfig,
  ) {
    if (!store.params || !store.grads || !store.decay) throw new Error("AdamW: allocate the GpuParams first");
    this.n = numel(store.params.shape);
    if (this.n % 4)
      throw new Error(`AdamW: ${this.n} parameter floats; adamw.wgsl steps vec4s (src/nn/layout.ts pads tensors to PARAM_ALIGN = 4)`);
    this.m = tensor(gpu, "adamw m", [this.n]);
    this.v = tensor(gpu, "adamw v", [this.n]);
    this.stats = tensor(gpu, "adamw stats", [4]);
    this.scratch = tensor(gpu, "adamw norm partials", [256]);
    this.uniform = gpu.device.createBuffer({ label: "adamw params", size: 64, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const stats = cfg.maxGradNorm > 0 ? this.stats : dummyBuffer(gpu);
    this.main = makeCall(
      gpu,
      "nn/adamw.wgsl",
      [store.grads, store.decay, stats, store.params, this.m, this.v, this.uniform],
      null,
      grid1d(this.n / 4, 64),
      {
        label: "adamw",
      },
    );
  }

  private main: Call;
  /** Gradient-norm calls per gradScale (built once per distinct scale). */
  private normCalls = new Map<number, Call[]>();

  /**
   * Calls of one optimizer step with learning rate `lr`; `gradScale` multiplies gradients first
   * (1 / accumulation steps). Writes this step's uniforms now, so record the calls into the
   * encoder that is submitted next.
   */
  step(lr: number, gradScale = 1): Call[] {
    this.t += 1;
    const c = this.cfg;
    const data = new ArrayBuffer(64);
    const u = new Uint32Array(data);
    const f = new Float32Array(data);
    u[0] = this.n;
    f.set([lr, c.beta1, c.beta2, c.eps, c.weightDecay, 1 - c.beta1 ** this.t, 1 - c.beta2 ** this.t, gradScale, c.maxGradNorm], 4);
    this.gpu.device.queue.writeBuffer(this.uniform, 0, data);
    return c.maxGradNorm > 0 ? [...this.gradNormCalls(gradScale), this.main] : [this.main];
  }

  /** Calls computing the squared norm of the (scaled) gradients into stats[0]. */
  gradNormCalls(gradScale = 1): Call[] {
    let calls = this.normCalls.get(gradScale);
    if (!calls) {
      // sumsq of raw gradients times gradScale^2 = squared norm of the scaled gradients.
      calls = reduceCalls(this.gpu, this.store.grads as Tensor, this.n, this.stats, 0, {
        squares: true,
        alpha: gradScale * gradScale,
        scratch: this.scratch,
      });
      this.normCalls.set(gradScale, calls);
    }
    return calls;
  }

  /**
   * The global gradient norm of the last step (a readback: only when logging). Computed in the step
   * when clipping is on; otherwise record gradNormCalls(scale) before the step to get it.
   */
  async gradNorm(): Promise<number> {
    return Math.sqrt((await readTensor(this.gpu, this.stats))[0]);
  }
}
