// The engine's building blocks: tensors (views into GPU buffers) and recorded kernel calls.
//
// Style (llm.c): every kernel call of a training step is built ONCE at setup, with its uniform
// params and bind group, as a `Call`; a step records its calls into one compute pass of one
// command encoder (`encodeCalls`). Nothing is allocated in the step loop.
//
// A `Tensor` is {buf, off, shape}: `off` is in f32 elements, so parameters can be views into one
// flat buffer (WebGPU binding offsets must be 256-byte aligned, so kernels take element offsets in
// their params instead of binding offsets).
import { createBuffer, type ParamField, params as paramsBuffer, readF32 } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, encodeCalls as encodeCallsIn, gpuCall, pipeline, runCalls as runCallsIn } from "../gpu/kernel.js";

export type { Call } from "../gpu/kernel.js";

export interface Tensor {
  buf: GPUBuffer;
  /** Offset of element 0, in elements of the tensor's dtype. */
  off: number;
  shape: number[];
  label: string;
  /** Storage precision: f32 (default) or f16 (shader-f16 adapters; kernels accumulate in f32). */
  dtype?: "f32" | "f16";
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Bytes of a tensor's own buffer: whole 16-byte vec4s, so kernels may bind it as array<vec4f> and
 * still reach its last elements (the matmul kernels store C as vec4: shaders/nn/matmul_common.wgsl).
 */
const tensorBytes = (elements: number, bytesPer: number): number => Math.ceil((elements * bytesPer) / 16) * 16;

/** A fresh zero-filled f32 tensor with its own buffer. */
export function tensor(gpu: Gpu, label: string, shape: number[]): Tensor {
  return { buf: createBuffer(gpu, label, tensorBytes(numel(shape), 4)), off: 0, shape: [...shape], label };
}

/** A fresh zero-filled f16 tensor (needs the adapter's shader-f16 feature, `gpu.hasF16`). */
export function tensorF16(gpu: Gpu, label: string, shape: number[]): Tensor {
  if (!gpu.hasF16) throw new Error(`tensor '${label}': f16 storage needs the shader-f16 feature, which this adapter lacks; use f32`);
  return { buf: createBuffer(gpu, label, tensorBytes(numel(shape), 2)), off: 0, shape: [...shape], label, dtype: "f16" };
}

/** A view of `t`'s buffer starting `offset` elements after t's start, with a new shape. */
export function view(t: Tensor, offset: number, shape: number[], label = t.label): Tensor {
  return { buf: t.buf, off: t.off + offset, shape: [...shape], label, dtype: t.dtype };
}

/** Upload host data into an f32 tensor (at its offset); f16 tensors: upload f32 and castCall. */
export function writeTensor(gpu: Gpu, t: Tensor, data: Float32Array): void {
  if (t.dtype === "f16") throw new Error(`writeTensor '${t.label}': f16 tensor; write an f32 tensor and cast it (castCall)`);
  if (data.length !== numel(t.shape)) throw new Error(`writeTensor '${t.label}': got ${data.length} values for shape (${t.shape})`);
  gpu.device.queue.writeBuffer(t.buf, t.off * 4, data.buffer, data.byteOffset, data.byteLength);
}

/** Read a tensor back to the host (waits for queued work). */
export async function readTensor(gpu: Gpu, t: Tensor): Promise<Float32Array> {
  if (t.dtype === "f16") throw new Error(`readTensor '${t.label}': f16 tensor; cast it to f32 first (castCall)`);
  const n = numel(t.shape);
  if (t.off === 0) return readF32(gpu, t.buf, n);
  const all = await readF32(gpu, t.buf, t.off + n);
  return all.slice(t.off, t.off + n);
}

/** Throws unless `t` has exactly `shape` (-1 = any). Stage-boundary shape checks. */
export function expectShape(t: Tensor, shape: number[], what: string): void {
  const ok = t.shape.length === shape.length && shape.every((s, i) => s === -1 || s === t.shape[i]);
  if (!ok) throw new Error(`${what}: tensor '${t.label}' has shape (${t.shape}), expected (${shape.map((s) => (s === -1 ? "*" : s))})`);
}

export type Bind = GPUBuffer | Tensor;

/**
 * Build a call of shaders/<shader> with bindings in @binding order (tensors bind their whole
 * buffer; kernels add the tensor offsets themselves), followed by a params uniform built from
 * `fields` (omitted when `fields` is null).
 */
export function makeCall(
  gpu: Gpu,
  shader: string,
  binds: Bind[],
  fields: ParamField[] | null,
  wg: [number, number?, number?],
  opts: { constants?: Record<string, number>; entry?: string; label?: string; bindingNumbers?: number[] } = {},
): Call {
  const label = opts.label ?? shader;
  const pipe = pipeline(gpu, shader, opts.entry ?? "main", opts.constants ?? {});
  const buffers = binds.map((b) => ("buf" in b ? b.buf : b));
  if (fields) buffers.push(paramsBuffer(gpu, `${label} params`, fields));
  return gpuCall(gpu, pipe, buffers, wg, { label, bindingNumbers: opts.bindingNumbers });
}

/** Record calls, in order, into one compute pass (gpu/kernel.ts encodeCalls). */
export const encodeCalls = (enc: GPUCommandEncoder, calls: readonly Call[], label = "nn step"): void => encodeCallsIn(enc, calls, label);

/** Encode and submit calls in one command encoder (gpu/kernel.ts runCalls). */
export const runCalls = (gpu: Gpu, calls: readonly Call[], label = "nn calls"): void => runCallsIn(gpu, calls, label);

/** A 4-byte dummy storage buffer per device, bound where a kernel's optional input is unused. */
const dummies = new WeakMap<GPUDevice, GPUBuffer>();
export function dummyBuffer(gpu: Gpu): GPUBuffer {
  let d = dummies.get(gpu.device);
  if (!d) {
    d = createBuffer(gpu, "nn dummy", 16);
    dummies.set(gpu.device, d);
  }
  return d;
}

export const u32 = (v: number): ParamField => ["u32", v];
export const f32 = (v: number): ParamField => ["f32", v];
