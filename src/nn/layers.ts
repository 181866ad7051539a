// GPU layer calls with explicit forward and backward (shaders/nn/*.wgsl); twins in
// src/ref/nn/layers.ts with the same argument order. Every builder returns Call(s) to record in the
// step's pass (core.ts); offsets of tensor views travel in the params, so parameters may live in
// one flat buffer. Backward builders accumulate parameter gradients (+=) and, where noted, dx.
import type { Gpu } from "../gpu/device.js";
import { grid1d } from "../gpu/kernel.js";
import { type Call, f32, makeCall, type Tensor, u32 } from "./core.js";

function sameBuffer(a: Tensor, b: Tensor, what: string): void {
  if (a.buf !== b.buf)
    throw new Error(`${what}: '${a.label}' and '${b.label}' must be views of one buffer (the flat parameter / gradient buffer)`);
}

/** Whether an elementwise call over n elements can take the vec4 entry (n and offsets % 4 == 0). */
const vec4Ok = (n: number, ...ts: Tensor[]): boolean => n % 4 === 0 && ts.every((t) => t.off % 4 === 0);

/** The entry and grid of an elementwise call: `<entry>4` over n / 4 vec4s when vec4Ok, else `<entry>`. */
function ew(entry: string, n: number, ts: Tensor[]): { entry: string; grid: [number, number] } {
  return vec4Ok(n, ...ts) ? { entry: `${entry}4`, grid: grid1d(n / 4, 64) } : { entry, grid: grid1d(n, 64) };
}

// ---- LayerNorm ----

export interface LayerNormArgs {
  x: Tensor; // (N, C)
  w: Tensor; // (C)
  b: Tensor; // (C), same buffer as w
  y: Tensor; // (N, C)
  mean: Tensor; // (N) saved
  rstd: Tensor; // (N) saved
  N: number;
  C: number;
  eps?: number;
}

export function layernormForward(gpu: Gpu, a: LayerNormArgs): Call {
  sameBuffer(a.w, a.b, "layernorm forward");
  if (a.mean.off || a.rstd.off) throw new Error("layernorm forward: mean / rstd must start at offset 0");
  return makeCall(
    gpu,
    "nn/layernorm_forward.wgsl",
    [a.x, a.w, a.y, a.mean, a.rstd],
    [u32(a.N), u32(a.C), u32(a.x.off), u32(a.w.off), u32(a.b.off), u32(a.y.off), f32(a.eps ?? 1e-6), u32(0)],
    grid1d(a.N, 64),
    { entry: vec4Ok(a.C, a.x, a.w, a.b, a.y) ? "main4" : "main", label: `layernorm fwd ${a.w.label}` },
  );
}

/** dx (= or += when accumulate), dw += .., db += .. (dw, db views of one gradient buffer). */
export function layernormBackward(
  gpu: Gpu,
  a: {
    x: Tensor;
    dy: Tensor;
    w: Tensor;
    mean: Tensor;
    rstd: Tensor;
    dx: Tensor;
    dw: Tensor;
    db: Tensor;
    N: number;
    C: number;
    accumulate?: boolean;
  },
): Call[] {
  sameBuffer(a.dw, a.db, "layernorm backward");
  const fields = [a.N, a.C, a.x.off, a.dy.off, a.w.off, a.dx.off, a.dw.off, a.db.off, a.accumulate ? 1 : 0].map(u32);
  const v4 = vec4Ok(a.C, a.x, a.dy, a.w, a.dx, a.dw, a.db);
  return [
    makeCall(gpu, "nn/layernorm_backward.wgsl", [a.x, a.dy, a.w, a.mean, a.rstd, a.dx], fields, grid1d(a.N, 64), {
      entry: v4 ? "dx4_main" : "dx_main",
      bindingNumbers: [0, 1, 2, 3, 4, 5, 7],
      label: `layernorm dx ${a.w.label}`,
    }),
    makeCall(gpu, "nn/layernorm_backward.wgsl", [a.x, a.dy, a.mean, a.rstd, a.dw], fields, [Math.ceil(a.C / (v4 ? 256 : 64))], {
      entry: v4 ? "dparams4" : "dparams",
      bindingNumbers: [0, 1, 3, 4, 6, 7],
      label: `layernorm dparams ${a.w.label}`,
    }),
  ];
}

// ---- GELU (exact, erf) ----

export function geluForward(gpu: Gpu, x: Tensor, y: Tensor, n: number): Call {
  const e = ew("forward", n, [x, y]);
  return makeCall(gpu, "nn/gelu.wgsl", [x, y], [u32(n), u32(x.off), u32(0), u32(y.off), u32(0)], e.grid, {
    entry: e.entry,
    bindingNumbers: [0, 2, 3],
    label: `gelu fwd ${x.label}`,
  });
}

/** dx (= or += when accumulate) = dy * gelu'(x). */
export function geluBackward(gpu: Gpu, x: Tensor, dy: Tensor, dx: Tensor, n: number, accumulate = false): Call {
  const e = ew("backward", n, [x, dy, dx]);
  return makeCall(gpu, "nn/gelu.wgsl", [x, dy, dx], [u32(n), u32(x.off), u32(dy.off), u32(dx.off), u32(accumulate ? 1 : 0)], e.grid, {
    entry: e.entry,
    label: `gelu bwd ${x.label}`,
  });
}

// ---- elementwise (residuals, gradient plumbing) ----

/** out = a + b (residual forward). */
export function addCall(gpu: Gpu, a: Tensor, b: Tensor, out: Tensor, n: number): Call {
  const e = ew("add", n, [a, b, out]);
  return makeCall(gpu, "nn/elementwise.wgsl", [a, b, out], [u32(n), u32(a.off), u32(b.off), u32(out.off), f32(0)], e.grid, {
    entry: e.entry,
    label: `add ${a.label}+${b.label}`,
  });
}

/** out += alpha * a (residual backward, gradient accumulation). */
export function axpyCall(gpu: Gpu, a: Tensor, out: Tensor, n: number, alpha = 1): Call {
  const e = ew("axpy", n, [a, out]);
  return makeCall(gpu, "nn/elementwise.wgsl", [a, out], [u32(n), u32(a.off), u32(0), u32(out.off), f32(alpha)], e.grid, {
    entry: e.entry,
    bindingNumbers: [0, 2, 3],
    label: `axpy ${a.label}->${out.label}`,
  });
}

/** out = alpha * a. */
export function scaleCall(gpu: Gpu, a: Tensor, out: Tensor, n: number, alpha: number): Call {
  const e = ew("scale", n, [a, out]);
  return makeCall(gpu, "nn/elementwise.wgsl", [a, out], [u32(n), u32(a.off), u32(0), u32(out.off), f32(alpha)], e.grid, {
    entry: e.entry,
    bindingNumbers: [0, 2, 3],
    label: `scale ${a.label}`,
  });
}

/** out = alpha (e.g. zeroing a gradient inside the step's pass). */
export function fillCall(gpu: Gpu, out: Tensor, n: number, alpha = 0): Call {
  const e = ew("fill", n, [out]);
  return makeCall(gpu, "nn/elementwise.wgsl", [out], [u32(n), u32(0), u32(0), u32(out.off), f32(alpha)], e.grid, {
    entry: e.entry,
    bindingNumbers: [2, 3],
    label: `fill ${out.label}`,
  });
}

// ---- softmax (attention rows) ----

/**
 * The softmax kernel for rows of n values starting every ld elements: shaders/nn/softmax4.wgsl
 * (vec4 rows, padding columns written as 0) when ld % 4 == 0, else softmax.wgsl (needs ld == n).
 */
function softmaxShader(rows: number, n: number, ld: number, what: string): string {
  if (ld < n || (ld !== n && ld % 4 !== 0))
    throw new Error(`${what}: row stride ${ld} must be n (${n}) or a multiple of 4 that is >= n (rows ${rows})`);
  return ld % 4 === 0 ? "nn/softmax4.wgsl" : "nn/softmax.wgsl";
}

/** P = softmax(scale * S) per row (rows of n values every ld elements; ld defaults to n). */
export function softmaxForward(gpu: Gpu, S: Tensor, P: Tensor, rows: number, n: number, scale: number, ld = n): Call {
  if (S.off || P.off) throw new Error("softmax: tensors must start at offset 0");
  return makeCall(gpu, softmaxShader(rows, n, ld, "softmax fwd"), [S, P], [u32(rows), u32(n), f32(scale), u32(ld)], grid1d(rows, 64), {
    entry: "forward",
    bindingNumbers: [0, 2, 3],
    label: `softmax fwd ${S.label}`,
  });
}

/** dS = scale * P * (dP - rowsum(P dP)); dS must be a different buffer from P and dP. Rows as in softmaxForward. */
export function softmaxBackward(gpu: Gpu, P: Tensor, dP: Tensor, dS: Tensor, rows: number, n: number, scale: number, ld = n): Call {
  if (P.off || dP.off || dS.off) throw new Error("softmax: tensors must start at offset 0");
  return makeCall(gpu, softmaxShader(rows, n, ld, "softmax bwd"), [P, dP, dS], [u32(rows), u32(n), f32(scale), u32(ld)], grid1d(rows, 64), {
    entry: "backward",
    label: `softmax bwd ${P.label}`,
  });
}

// ---- patchify / unpatchify ----

export interface PatchShape {
  B: number;
  H: number;
  W: number;
  /** Patch size. */
  P: number;
  /** 0 = MAE 'nhwpqc' (loss target), 1 = conv-weight order (c, i, j) (patch embedding). */
  order: 0 | 1;
}

function patchCall(gpu: Gpu, entry: string, src: Tensor, dst: Tensor, s: PatchShape): Call {
  if (s.H % s.P || s.W % s.P) throw new Error(`patchify: image ${s.H}x${s.W} is not a multiple of the patch size ${s.P}`);
  if (src.off || dst.off) throw new Error("patchify: tensors must start at offset 0");
  return makeCall(
    gpu,
    "nn/patchify.wgsl",
    [src, dst],
    [s.B, s.H, s.W, s.P, s.order, 0, 0, 0].map(u32),
    [Math.ceil((s.H * (s.W / s.P)) / 64), 3, s.B],
    {
      entry,
      label: `${entry} ${src.label}`,
    },
  );
}

/** imgs (B, 3, H, W) -> x (B, L, P*P*3). Its backward is unpatchify of the gradient. */
export const patchify = (gpu: Gpu, imgs: Tensor, x: Tensor, s: PatchShape): Call => patchCall(gpu, "patchify", imgs, x, s);
/** x (B, L, P*P*3) -> imgs (B, 3, H, W). */
export const unpatchify = (gpu: Gpu, x: Tensor, imgs: Tensor, s: PatchShape): Call => patchCall(gpu, "unpatchify", x, imgs, s);

// ---- token gather / scatter (masking) ----

export interface RowsShape {
  B: number;
  /** Rows per batch on the big side (src of gather, dst of scatter). */
  Ls: number;
  /** Rows per batch on the small side (ids per batch). */
  Lo: number;
  D: number;
  /** Leading rows to skip on the big side (e.g. 1 for a cls token). */
  row0?: number;
  /** Rows per batch item of the small side's storage (default Lo) and its first row (default 0). */
  So?: number;
  so0?: number;
}

/** dst[b, so0 + i] = src (B, Ls, D) rows ids[b, i] (+ row0); dst has So (default Lo) rows per item. */
/** gather_rows4.wgsl (vec4 rows) when D and both offsets are multiples of 4, else gather_rows.wgsl. */
function rowsKernel(src: Tensor, dst: Tensor, s: RowsShape): { shader: string; wg: [number, number, number] } {
  const v4 = s.D % 4 === 0 && src.off % 4 === 0 && dst.off % 4 === 0;
  return v4
    ? { shader: "nn/gather_rows4.wgsl", wg: [Math.ceil(s.D / 128), s.Lo, s.B] }
    : { shader: "nn/gather_rows.wgsl", wg: [Math.ceil(s.D / 64), s.Lo, s.B] };
}

export function gatherRows(gpu: Gpu, src: Tensor, ids: GPUBuffer, dst: Tensor, s: RowsShape): Call {
  const k = rowsKernel(src, dst, s);
  return makeCall(
    gpu,
    k.shader,
    [src, ids, dst],
    [s.B, s.Lo, s.Ls, s.D, s.row0 ?? 0, src.off, dst.off, 0, s.So ?? s.Lo, s.so0 ?? 0].map(u32),
    k.wg,
    { entry: "gather", label: `gather ${src.label}` },
  );
}

/** dst (B, Ls, D) rows ids (+ row0) (+)= src[b, so0 + i]: the backward of gatherRows (ids distinct). */
export function scatterRows(gpu: Gpu, src: Tensor, ids: GPUBuffer, dst: Tensor, s: RowsShape, accumulate = true): Call {
  const k = rowsKernel(src, dst, s);
  return makeCall(
    gpu,
    k.shader,
    [src, ids, dst],
    [s.B, s.Lo, s.Ls, s.D, s.row0 ?? 0, src.off, dst.off, accumulate ? 1 : 0, s.So ?? s.Lo, s.so0 ?? 0].map(u32),
    k.wg,
    { entry: "scatter", label: `scatter ${src.label}` },
  );
}

// ---- masked MSE (MAE loss) ----

export interface MaskedMseArgs {
  pred: Tensor; // (R, F)
  target: Tensor; // (R, F) patchified images (order 0)
  mask: Tensor; // (R) 1 = masked (scored)
  /** Scratch: normalised target (R, F), per-patch loss (R). */
  tn: Tensor;
  lp: Tensor;
  /** loss[0] = loss, loss[1] = sum(mask). */
  loss: Tensor;
  R: number;
  F: number;
  normPix: boolean;
}

/** Forward: per-patch loss, then the masked mean in loss[0]. */
export function maskedMseForward(gpu: Gpu, a: MaskedMseArgs): Call[] {
  for (const t of [a.pred, a.target, a.mask, a.tn, a.lp, a.loss])
    if (t.off) throw new Error(`masked mse: '${t.label}' must start at offset 0`);
  const fields = [u32(a.R), u32(a.F), u32(a.normPix ? 1 : 0), f32(1)];
  return [
    makeCall(gpu, "nn/masked_mse.wgsl", [a.pred, a.target, a.tn, a.lp], fields, grid1d(a.R, 64), {
      entry: "rows",
      bindingNumbers: [0, 1, 3, 4, 7],
      label: "masked mse rows",
    }),
    makeCall(gpu, "nn/masked_mse.wgsl", [a.mask, a.lp, a.loss], fields, [1], {
      entry: "total",
      bindingNumbers: [2, 4, 5, 7],
      label: "masked mse total",
    }),
  ];
}

/** dpred (R, F) = d loss / d pred, scaled by dloss (e.g. 1 / accumulation steps). */
export function maskedMseBackward(gpu: Gpu, a: MaskedMseArgs, dpred: Tensor, dloss = 1): Call {
  if (dpred.off) throw new Error("masked mse: dpred must start at offset 0");
  return makeCall(
    gpu,
    "nn/masked_mse.wgsl",
    [a.pred, a.mask, a.tn, a.loss, dpred],
    [u32(a.R), u32(a.F), u32(a.normPix ? 1 : 0), f32(dloss)],
    grid1d(a.R * a.F, 64),
    {
      entry: "backward",
      bindingNumbers: [0, 2, 3, 5, 6, 7],
      label: "masked mse backward",
    },
  );
}

// ---- reductions ----

/**
 * out[outIndex] = alpha * sum(x) (or of x^2 with `squares`), two-stage when n is large: `scratch`
 * (>= 256 floats) receives the partials.
 */
export function reduceCalls(
  gpu: Gpu,
  x: Tensor,
  n: number,
  out: Tensor,
  outIndex: number,
  opts: { squares?: boolean; alpha?: number; scratch?: Tensor } = {},
): Call[] {
  const alpha = opts.alpha ?? 1;
  const kind = opts.squares ? "sumsq" : "sum";
  if (n <= 1 << 16 || !opts.scratch)
    return [
      makeCall(gpu, "nn/reduce.wgsl", [x, out], [u32(n), u32(x.off), u32(out.off + outIndex), f32(alpha)], [1], {
        entry: kind,
        label: `${kind} ${x.label}`,
      }),
    ];
  const G = Math.min(256, Math.ceil(n / 4096));
  return [
    makeCall(gpu, "nn/reduce.wgsl", [x, opts.scratch], [u32(n), u32(x.off), u32(opts.scratch.off), f32(1)], [G], {
      entry: `${kind}_partial`,
      label: `${kind} partial ${x.label}`,
    }),
    makeCall(gpu, "nn/reduce.wgsl", [opts.scratch, out], [u32(G), u32(opts.scratch.off), u32(out.off + outIndex), f32(alpha)], [1], {
      entry: "sum",
      label: `${kind} final ${x.label}`,
    }),
  ];
}

// ---- broadcast rows (pos_embed, cls token, mask tokens) ----

export interface BroadcastShape {
  B: number;
  /** Rows per batch item of the activations. */
  Ld: number;
  /** Rows of the table written per batch item. */
  Lt: number;
  D: number;
  /** First activation row written. */
  row0?: number;
  /** Table row stride in rows: 1 = a (Lt, D) table, 0 = one row repeated (mask token). */
  ts?: 0 | 1;
}

const bcastFields = (t: Tensor, x: Tensor, s: BroadcastShape, flags: number) =>
  [s.B, s.Ld, s.Lt, s.D, s.row0 ?? 0, s.ts ?? 1, t.off, x.off, flags].map(u32);

/** x[b, row0 + l] (= or += with accumulate) t[l * ts] for every b (broadcast_rows.wgsl). */
export function broadcastRowsForward(gpu: Gpu, t: Tensor, x: Tensor, s: BroadcastShape, accumulate: boolean): Call {
  return makeCall(gpu, "nn/broadcast_rows.wgsl", [t, x], bcastFields(t, x, s, accumulate ? 1 : 0), [Math.ceil(s.D / 64), s.Lt, s.B], {
    entry: "forward",
    label: `broadcast ${t.label}`,
  });
}

/** dt[l * ts] += sum over b (and over l when ts = 0) of dx[b, row0 + l]. */
export function broadcastRowsBackward(gpu: Gpu, dx: Tensor, dt: Tensor, s: BroadcastShape): Call {
  return makeCall(gpu, "nn/broadcast_rows.wgsl", [dx, dt], bcastFields(dt, dx, s, 0), [Math.ceil(s.D / 64), (s.ts ?? 1) === 0 ? 1 : s.Lt], {
    entry: "backward",
    label: `broadcast bwd ${dt.label}`,
  });
}
