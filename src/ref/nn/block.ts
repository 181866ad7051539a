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

/** Twin of src/nn/block.ts CrossBlock (CroCo decoder block): x (B, Lx, D), y (B, Ly, D). */
export function crossBlockForward(
  get: Get,
  p: string,
  c: RefBlockConfig,
  x: Float64Array,
  y: Float64Array,
  B: number,
  Lx: number,
  Ly: number,
) {
  const { D } = c;
  const N = B * Lx;
  const Ny = B * Ly;
  const Hd = c.mlpRatio * D;
  const eps = c.eps ?? 1e-6;
  const lin = (name: string, inp: Float64Array, rows: number, i: number, o: number) =>
    linearForward(inp, get(`${p}.${name}.weight`), get(`${p}.${name}.bias`), rows, i, o);
  const ln = (name: string, inp: Float64Array, rows: number) =>
    layernormForward(inp, get(`${p}.${name}.weight`), get(`${p}.${name}.bias`), rows, D, eps);
  const ln1 = ln("norm1", x, N);
  const qkv = lin("attn.qkv", ln1.y, N, D, 3 * D);
  const sq = splitQkv(qkv, B, Lx, D);
  const selfShape = { B, H: c.H, Lq: Lx, Lk: Lx, dh: D / c.H };
  const sa = attentionForward(sq.q, sq.k, sq.v, selfShape);
  const proj = lin("attn.proj", sa.out, N, D, D);
  const x1 = Float64Array.from(x, (v, i) => v + proj[i]);
  const lny = ln("norm_y", y, Ny);
  const ln2 = ln("norm2", x1, N);
  const q = lin("cross_attn.projq", ln2.y, N, D, D);
  const k = lin("cross_attn.projk", lny.y, Ny, D, D);
  const v = lin("cross_attn.projv", lny.y, Ny, D, D);
  const crossShape = { B, H: c.H, Lq: Lx, Lk: Ly, dh: D / c.H };
  const ca = attentionForward(q, k, v, crossShape);
  const xproj = lin("cross_attn.proj", ca.out, N, D, D);
  const x2 = Float64Array.from(x1, (vv, i) => vv + xproj[i]);
  const ln3 = ln("norm3", x2, N);
  const h = lin("mlp.fc1", ln3.y, N, D, Hd);
  const g = geluForward(h);
  const mlp = lin("mlp.fc2", g, N, Hd, D);
  const out = Float64Array.from(x2, (vv, i) => vv + mlp[i]);
  return { out, cache: { x, y, ln1, sq, sa, selfShape, x1, lny, ln2, q, k, v, ca, crossShape, x2, ln3, h, g } };
}

/** Returns dx; accumulates dy (B, Ly, D) in place and the parameter gradients through `grad`. */
export function crossBlockBackward(
  get: Get,
  grad: Get,
  p: string,
  c: RefBlockConfig,
  cache: ReturnType<typeof crossBlockForward>["cache"],
  dout: Float64Array,
  dy: Float64Array,
  B: number,
  Lx: number,
  Ly: number,
): Float64Array {
  const { D } = c;
  const N = B * Lx;
  const Ny = B * Ly;
  const Hd = c.mlpRatio * D;
  const linB = (name: string, inp: Float64Array, g: Float64Array, rows: number, i: number, o: number) =>
    linearBackward(inp, get(`${p}.${name}.weight`), g, grad(`${p}.${name}.weight`), grad(`${p}.${name}.bias`), rows, i, o);
  const lnB = (
    name: string,
    inp: Float64Array,
    g: Float64Array,
    st: { mean: Float64Array; rstd: Float64Array },
    rows: number,
    acc: Float64Array,
  ) =>
    layernormBackward(
      inp,
      g,
      get(`${p}.${name}.weight`),
      st.mean,
      st.rstd,
      grad(`${p}.${name}.weight`),
      grad(`${p}.${name}.bias`),
      rows,
      D,
      acc,
    );
  const k = cache;
  const dg = linB("mlp.fc2", k.g, dout, N, Hd, D);
  const dln3 = linB("mlp.fc1", k.ln3.y, geluBackward(k.h, dg), N, D, Hd);
  const dx2 = lnB("norm3", k.x2, dln3, k.ln3, N, dout);
  const dxattn = linB("cross_attn.proj", k.ca.out, dx2, N, D, D);
  const cg = attentionBackward(k.q, k.k, k.v, k.ca.P, dxattn, k.crossShape);
  const dln2 = linB("cross_attn.projq", k.ln2.y, cg.dq, N, D, D);
  const dx1 = lnB("norm2", k.x1, dln2, k.ln2, N, dx2);
  const dlny = linB("cross_attn.projk", k.lny.y, cg.dk, Ny, D, D);
  const dlnyv = linB("cross_attn.projv", k.lny.y, cg.dv, Ny, D, D);
  for (let i = 0; i < dlny.length; i++) dlny[i] += dlnyv[i];
  const dyb = lnB("norm_y", k.y, dlny, k.lny, Ny, dy);
  dy.set(dyb);
  const dattn = linB("attn.proj", k.sa.out, dx1, N, D, D);
  const sg = attentionBackward(k.sq.q, k.sq.k, k.sq.v, k.sa.P, dattn, k.selfShape);
  const dln1 = linB("attn.qkv", k.ln1.y, mergeQkv(sg.dq, sg.dk, sg.dv, B, Lx, D), N, D, 3 * D);
  return lnB("norm1", k.x, dln1, k.ln1, N, dx1);
}
