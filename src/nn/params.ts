// Parameters in one flat buffer with named views, gradients in a second flat buffer of the same
// layout, and AdamW's moments in two more. Names follow the PyTorch checkpoint (e.g.
// `blocks.0.attn.qkv.weight`) so the checkpoint code maps names to views one to one.
//
//   const ps = new ParamStore();
//   const w = ps.add("blocks.0.attn.qkv.weight", [3 * D, D], { decay: true });
//   ...; ps.allocate(gpu); ps.param("blocks.0.attn.qkv.weight") -> Tensor view (offset, shape)
//
// The offsets follow the one layout rule (layout.ts: each view at a multiple of PARAM_ALIGN
// elements, in the order added), so adding a model's tensors in its table order gives the offsets
// of its host array (src/models/params.ts), which then uploads as is.
import type { Gpu } from "../gpu/device.js";
import { numel, readTensor, type Tensor, tensor, view, writeTensor } from "./core.js";
import { appendEntry, emptyLayout, type LayoutEntry, type ParamLayout } from "./layout.js";

export interface ParamSpec extends LayoutEntry {
  /** AdamW weight decay applies (false for norms, biases, tokens, positional embeddings). */
  decay: boolean;
  /** Updated by the optimizer (false: frozen, e.g. MAE's fixed sin-cos position embeddings). */
  trainable: boolean;
}

/** timm / MAE rule: no decay for 1-D params (norms, biases) and tokens / embeddings. */
export function defaultDecay(name: string, shape: readonly number[]): boolean {
  if (shape.length <= 1) return false;
  return !/(^|\.)(cls_token|mask_token|pos_embed|decoder_pos_embed)$/.test(name) && !name.endsWith(".bias");
}

export class ParamStore {
  private readonly layout: ParamLayout<ParamSpec> = emptyLayout();
  params: Tensor | null = null;
  grads: Tensor | null = null;
  /** (size) optimizer mask: 1 = decayed, 0 = not decayed, -1 = frozen (see adamw.wgsl). */
  decay: Tensor | null = null;

  /** The tensors in the order added, with their offsets. */
  get specs(): readonly ParamSpec[] {
    return this.layout.entries;
  }

  /** Total elements (padded). */
  get size(): number {
    return this.layout.totalFloats;
  }

  add(name: string, shape: number[], opts: { decay?: boolean; trainable?: boolean } = {}): ParamSpec {
    if (this.params) throw new Error(`ParamStore: add('${name}') after allocate()`);
    if (this.layout.byName.has(name)) throw new Error(`ParamStore: duplicate parameter name '${name}'`);
    return appendEntry(this.layout, { name, shape, decay: opts.decay ?? defaultDecay(name, shape), trainable: opts.trainable ?? true });
  }

  spec(name: string): ParamSpec {
    const s = this.layout.byName.get(name);
    if (!s)
      throw new Error(
        `ParamStore: no parameter named '${name}' (have ${this.specs.length}: ${this.specs
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
    if (!this.params || !this.grads) throw new Error("ParamStore: call allocate(gpu) first");
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

  /** Host copy of all parameters as one flat array (the layout of `specs`). */
  async readAll(gpu: Gpu): Promise<Float32Array> {
    return readTensor(gpu, this.need().params);
  }

  /** Upload one parameter's values (e.g. init or a checkpoint). */
  set(gpu: Gpu, name: string, data: Float32Array): void {
    writeTensor(gpu, this.param(name), data);
  }

  /** Upload all parameters from a flat array in the layout of `specs`. */
  setAll(gpu: Gpu, flat: Float32Array): void {
    const { params } = this.need();
    if (flat.length !== numel(params.shape)) throw new Error(`ParamStore.setAll: ${flat.length} values for ${numel(params.shape)}`);
    writeTensor(gpu, params, flat);
  }

  /** Host-side flat array of zeros in this layout (for init code and CPU twins). */
  hostZeros(): Float32Array {
    return new Float32Array(Math.max(4, this.size));
  }

  /** Host optimizer mask in this layout: 1 = decayed, 0 = not decayed (and padding), -1 = frozen. */
  hostDecay(): Float32Array {
    const mask = this.hostZeros();
    for (const s of this.specs) mask.fill(s.trainable ? (s.decay ? 1 : 0) : -1, s.offset, s.offset + numel(s.shape));
    return mask;
  }
}
