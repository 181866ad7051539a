// The GPU side of a parameter table: the flat parameter buffer with named views, gradients in a
// second flat buffer of the same layout, and AdamW's decay mask. It does not compute a layout: it
// takes one (src/nn/layout.ts layoutOf over a table, e.g. src/models/params.ts paramLayout), so
// the host store (models/params.ts ParamStore, whose `data` has that layout) uploads as is.
//
//   const gp = new GpuParams(paramLayout(config));
//   gp.allocate(gpu, "mim params"); gp.setAll(gpu, store.data);
//   gp.param("blocks.0.attn.qkv.weight") -> Tensor view (offset, shape); gp.grad(...) likewise
import type { Gpu } from "../gpu/device.js";
import { numel, readTensor, type Tensor, tensor, view, writeTensor } from "./core.js";
import { decayMask, type LayoutEntry, type ParamLayout, type TensorSpec } from "./layout.js";

/** A row of the table with its place in the flat buffer. */
export type GpuParamEntry = TensorSpec & LayoutEntry;

export class GpuParams {
  params: Tensor | null = null;
  grads: Tensor | null = null;
  /** (size) optimizer mask: 1 = decayed, 0 = not decayed, -1 = frozen (see adamw.wgsl). */
  decay: Tensor | null = null;

  constructor(readonly layout: ParamLayout<GpuParamEntry>) {}

  /** The tensors in table order, with their offsets. */
  get specs(): readonly GpuParamEntry[] {
    return this.layout.entries;
  }

  /** Total floats (padded). */
  get size(): number {
    return this.layout.totalFloats;
  }

  spec(name: string): GpuParamEntry {
    const s = this.layout.byName.get(name);
    if (!s)
      throw new Error(
        `GpuParams: no parameter named '${name}' (have ${this.specs.length}: ${this.specs
          .slice(0, 5)
          .map((x) => x.name)
          .join(", ")}...)`,
      );
    return s;
  }

  /** Create the flat parameter, gradient and decay-mask buffers (once). */
  allocate(gpu: Gpu, label = "params"): void {
    if (this.params) return;
    const n = Math.max(4, this.size);
    this.params = tensor(gpu, `${label}`, [n]);
    this.grads = tensor(gpu, `${label} grads`, [n]);
    this.decay = tensor(gpu, `${label} decay mask`, [n]);
    writeTensor(gpu, this.decay, this.hostDecay());
  }

  private need(): { params: Tensor; grads: Tensor } {
    if (!this.params || !this.grads) throw new Error("GpuParams: call allocate(gpu) first");
    return { params: this.params, grads: this.grads };
  }

  /** The parameter's view (offset, shape) in the flat buffer. */
  param(name: string): Tensor {
    const s = this.spec(name);
    return view(this.need().params, s.offset, s.shape, name);
  }

  /** The gradient's view, same layout. */
  grad(name: string): Tensor {
    const s = this.spec(name);
    return view(this.need().grads, s.offset, s.shape, `${name}.grad`);
  }

  /** Host copy of all parameters as one flat array (the layout). */
  async readAll(gpu: Gpu): Promise<Float32Array> {
    return readTensor(gpu, this.need().params);
  }

  /** Upload one parameter's values (e.g. init or a checkpoint). */
  set(gpu: Gpu, name: string, data: Float32Array): void {
    writeTensor(gpu, this.param(name), data);
  }

  /** Upload all parameters from a flat array in the layout. */
  setAll(gpu: Gpu, flat: Float32Array): void {
    const { params } = this.need();
    if (flat.length !== numel(params.shape)) throw new Error(`GpuParams.setAll: ${flat.length} values for ${numel(params.shape)}`);
    writeTensor(gpu, params, flat);
  }

  /** Host-side flat array of zeros in this layout (for init code and CPU twins). */
  hostZeros(): Float32Array {
    return new Float32Array(Math.max(4, this.size));
  }

  /** Host optimizer mask in this layout (src/nn/layout.ts decayMask), padded like the buffers. */
  hostDecay(): Float32Array {
    const mask = this.hostZeros();
    mask.set(decayMask(this.layout));
    return mask;
  }
}
