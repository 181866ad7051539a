// The flat parameter layout: every tensor is a view into one Float32Array (on the host) or one GPU
// buffer, in the order the tensors are listed, each at an offset that is a multiple of PARAM_ALIGN
// floats (16 bytes), so the vec4 matmul path reads weights in place and kernels take element
// offsets. The padding between tensors is zero and stays zero.
//
// This is the one place the rule lives: the host parameter tables (src/models/params.ts,
// src/probe/heads.ts) lay out with layoutOf, and the GPU side (params.ts GpuParams) takes such a
// layout as is instead of computing one, so a host array uploads as is. The weight-decay rule
// (which tensors AdamW decays) lives here too, for the same reason. Pure (no GPU), so host-only
// code can use it.

/** Alignment of every tensor's offset, in floats (16 bytes: vec4 loads). */
export const PARAM_ALIGN = 4;

export interface LayoutEntry {
  name: string;
  shape: number[];
  /** Offset in floats into the flat array (a multiple of PARAM_ALIGN). */
  offset: number;
  /** Element count (product of shape). */
  size: number;
}

export interface ParamLayout<E extends LayoutEntry = LayoutEntry> {
  entries: E[];
  byName: Map<string, E>;
  /** Floats in the flat array (including alignment padding). */
  totalFloats: number;
  /** Parameter count without padding. */
  count: number;
}

/** A tensor of a parameter table and what the optimizer does with it. */
export interface TensorSpec {
  /** PyTorch state_dict name, e.g. "blocks.0.attn.qkv.weight". */
  name: string;
  /** PyTorch shape, e.g. [3 * D, D]. */
  shape: number[];
  /** Updated by the optimizer (false for MAE's fixed sin-cos position embeddings). */
  trainable: boolean;
  /** Gets weight decay (weightDecays). */
  decay: boolean;
}

/**
 * The one weight-decay rule: timm's add_weight_decay, which MAE's main_pretrain.py (and MIMIC's,
 * built on it) calls without a skip list: no decay for 1-D tensors (LayerNorm weights, biases)
 * and for names ending in ".bias"; every other trainable tensor decays, so cls_token and
 * mask_token (1, 1, D) DO decay in pretraining (the model's no_weight_decay() list is only used by
 * MAE's fine-tuning). Frozen tensors are not optimised at all.
 */
export function weightDecays(name: string, shape: readonly number[]): boolean {
  return shape.length > 1 && !name.endsWith(".bias");
}

/**
 * MAE's fine-tuning (main_finetune.py: param_groups_lrd with the ViT's no_weight_decay() list)
 * exempts these from decay on top of weightDecays; pretraining does not.
 */
export const FINETUNE_NO_DECAY: readonly string[] = ["cls_token", "pos_embed"];

/** The same layout (same offsets) with weight decay off for `names` (e.g. FINETUNE_NO_DECAY). */
export function withoutDecay<E extends TensorSpec & LayoutEntry>(layout: ParamLayout<E>, names: readonly string[]): ParamLayout<E> {
  const entries = layout.entries.map((e) => (names.includes(e.name) ? { ...e, decay: false } : e));
  return { ...layout, entries, byName: new Map(entries.map((e) => [e.name, e])) };
}

/** A table row with the optimizer flags of the one rule (weightDecays). */
export function tensorSpec(name: string, shape: number[], trainable = true): TensorSpec {
  return { name, shape, trainable, decay: trainable && weightDecays(name, shape) };
}

/** AdamW's per-float mask of a layout: 1 = decayed, 0 = not decayed (and padding), -1 = frozen (adamw.wgsl, adamw_cpu.ts). */
export function decayMask(layout: ParamLayout<TensorSpec & LayoutEntry>): Float32Array {
  const mask = new Float32Array(layout.totalFloats);
  for (const e of layout.entries) mask.fill(e.trainable ? (e.decay ? 1 : 0) : -1, e.offset, e.offset + e.size);
  return mask;
}

/** The layout of a list of tensors: each at the next multiple of PARAM_ALIGN floats, in list order. */
export function layoutOf<S extends { name: string; shape: readonly number[] }>(
  specs: readonly S[],
): ParamLayout<Omit<S, "shape"> & LayoutEntry> {
  const layout: ParamLayout<Omit<S, "shape"> & LayoutEntry> = { entries: [], byName: new Map(), totalFloats: 0, count: 0 };
  for (const spec of specs) {
    if (layout.byName.has(spec.name)) throw new Error(`parameter layout: duplicate tensor name '${spec.name}'`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const e = { ...spec, shape: [...spec.shape], offset: layout.totalFloats, size };
    layout.entries.push(e);
    layout.byName.set(spec.name, e);
    layout.count += size;
    layout.totalFloats += Math.ceil(size / PARAM_ALIGN) * PARAM_ALIGN;
  }
  return layout;
}

/**
 * Parameters on the host: one flat Float32Array in a layout (what the GPU engine uploads as is),
 * with named views. A model's parameters (src/models/params.ts ParamStore) and a probe head's
 * (src/probe/heads.ts HeadParams) are this plus their config.
 */
export class FlatParams<E extends LayoutEntry = LayoutEntry> {
  /** All parameters, laid out as `layout` says. */
  readonly data: Float32Array;

  /** `what` names the owner in errors, e.g. "model 'nano' (croco)". */
  constructor(
    readonly layout: ParamLayout<E>,
    data: Float32Array | undefined,
    private readonly what: string,
  ) {
    if (data && data.length !== layout.totalFloats)
      throw new Error(`parameters of ${what}: the flat array has ${data.length} floats, the layout needs ${layout.totalFloats}`);
    this.data = data ?? new Float32Array(layout.totalFloats);
  }

  private entry(name: string): E {
    const e = this.layout.byName.get(name);
    if (!e) {
      const names = [...this.layout.byName.keys()];
      throw new Error(`no parameter '${name}' in ${this.what} (have ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""})`);
    }
    return e;
  }

  /** The view of one tensor (shares memory with `data`). */
  get(name: string): Float32Array {
    const e = this.entry(name);
    return this.data.subarray(e.offset, e.offset + e.size);
  }

  /** Whether there is a tensor of this name. */
  has(name: string): boolean {
    return this.layout.byName.has(name);
  }

  /** Shape of one tensor. */
  shape(name: string): number[] {
    return this.entry(name).shape;
  }

  /** [name, view, shape] in layout order. */
  *tensors(): IterableIterator<[string, Float32Array, number[]]> {
    for (const e of this.layout.entries) yield [e.name, this.data.subarray(e.offset, e.offset + e.size), e.shape];
  }
}
