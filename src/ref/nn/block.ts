// CPU twin of src/nn/block.ts: the pre-norm transformer block, forward and backward, float64.
// Parameters are fetched by timm name through `get` (views into a flat array, same layout as the
// GPU ParamStore); gradients accumulate through `grad`.
import {
  attentionBackward,
  attentionForward,
  geluBackward,
  geluForward,
  layernormBackward,
  layernormForward,
  mergeQkv,
  splitQkv,
} from "./layers.js";
import { linearBackward, linearForward } from "./matmul.js";

export interface RefBlockConfig {
  D: number;
  H: number;
  mlpRatio: number;
  eps?: number;
}

type Get = (name: string) => Float64Array;

export function blockForward(get: Get, p: string, c: RefBlockConfig, x: Float64Array, B: number, L: number) {
  const { D } = c;
  const N = B * L;
  const Hd = c.mlpRatio * D;
  const eps = c.eps ?? 1e-6;
  const ln1 = layernormForward(x, get(`${p}.norm1.weight`), get(`${p}.norm1.bias`), N, D, eps);
  const qkv = linearForward(ln1.y, get(`${p}.attn.qkv.weight`), get(`${p}.attn.qkv.bias`), N, D, 3 * D);
  const { q, k, v } = splitQkv(qkv, B, L, D);
  const shape = { B, H: c.H, Lq: L, Lk: L, dh: D / c.H };
  const att = attentionForward(q, k, v, shape);
  const proj = linearForward(att.out, get(`${p}.attn.proj.weight`), get(`${p}.attn.proj.bias`), N, D, D);
  const x1 = Float64Array.from(x, (vv, i) => vv + proj[i]);
  const ln2 = layernormForward(x1, get(`${p}.norm2.weight`), get(`${p}.norm2.bias`), N, D, eps);
  const h = linearForward(ln2.y, get(`${p}.mlp.fc1.weight`), get(`${p}.mlp.fc1.bias`), N, D, Hd);
  const g = geluForward(h);
  const mlp = linearForward(g, get(`${p}.mlp.fc2.weight`), get(`${p}.mlp.fc2.bias`), N, Hd, D);
  const out = Float64Array.from(x1, (vv, i) => vv + mlp[i]);
  return { out, cache: { x, ln1, q, k, v, P: att.P, attn: att.out, x1, ln2, h, g, shape } };
}

export type BlockCache = ReturnType<typeof blockForward>["cache"];

/** Accumulates parameter gradients through `grad`; returns dx. */
export function blockBackward(
  get: Get,
  grad: Get,
  p: string,
  c: RefBlockConfig,
  cache: BlockCache,
  dout: Float64Array,
  B: number,
  L: number,
): Float64Array {
  const { D } = c;
  const N = B * L;
  const Hd = c.mlpRatio * D;
  const dg = linearBackward(cache.g, get(`${p}.mlp.fc2.weight`), dout, grad(`${p}.mlp.fc2.weight`), grad(`${p}.mlp.fc2.bias`), N, Hd, D);
  const dh = geluBackward(cache.h, dg);
  const dln2 = linearBackward(
    cache.ln2.y,
    get(`${p}.mlp.fc1.weight`),
    dh,
    grad(`${p}.mlp.fc1.weight`),
    grad(`${p}.mlp.fc1.bias`),
    N,
    D,
    Hd,
  );
  const dx1 = layernormBackward(
    cache.x1,
    dln2,
    get(`${p}.norm2.weight`),
    cache.ln2.mean,
    cache.ln2.rstd,
    grad(`${p}.norm2.weight`),
    grad(`${p}.norm2.bias`),
    N,
    D,
    dout,
  );
  const dattn = linearBackward(
    cache.attn,
    get(`${p}.attn.proj.weight`),
    dx1,
    grad(`${p}.attn.proj.weight`),
    grad(`${p}.attn.proj.bias`),
    N,
    D,
    D,
  );
  const { dq, dk, dv } = attentionBackward(cache.q, cache.k, cache.v, cache.P, dattn, cache.shape);
  const dqkv = mergeQkv(dq, dk, dv, B, L, D);
  const dln1 = linearBackward(
    cache.ln1.y,
    get(`${p}.attn.qkv.weight`),
    dqkv,
    grad(`${p}.attn.qkv.weight`),
    grad(`${p}.attn.qkv.bias`),
    N,
    D,
    3 * D,
  );
  return layernormBackward(
    cache.x,
    dln1,
    get(`${p}.norm1.weight`),
    cache.ln1.mean,
    cache.ln1.rstd,
    grad(`${p}.norm1.weight`),
    grad(`${p}.norm1.bias`),
    N,
    D,
    dx1,
  );
}
