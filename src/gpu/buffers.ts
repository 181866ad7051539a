// Buffer helpers: create with a label, upload typed arrays, read back, pack uniform params.
import "./device.js"; // installs the WebGPU globals (GPUBufferUsage, ...)
import type { Gpu } from "./device.js";

export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
export const UNIFORM = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;

/** A storage buffer of `bytes` (rounded up to 4, at least 4), zero-filled. */
export function createBuffer(gpu: Gpu, label: string, bytes: number, usage = STORAGE): GPUBuffer {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const max = gpu.limits.maxStorageBufferBindingSize;
  if (usage & GPUBufferUsage.STORAGE && max && size > max)
    throw new Error(`buffer '${label}' needs ${size} bytes, over the adapter's storage binding limit ${max}; use a smaller batch or size`);
  return gpu.device.createBuffer({ label, size, usage });
}

/** A storage buffer holding `data` (bytes of a typed array, padded to 4). */
export function upload(gpu: Gpu, label: string, data: ArrayBufferView, usage = STORAGE): GPUBuffer {
  const buf = createBuffer(gpu, label, data.byteLength, usage);
  write(gpu, buf, data);
  return buf;
}

/** Write a typed array into `buf` at `offset` bytes (the tail is padded to 4 bytes). */
export function write(gpu: Gpu, buf: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) gpu.device.queue.writeBuffer(buf, offset, bytes);
  else {
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    gpu.device.queue.writeBuffer(buf, offset, padded);
  }
}

/** Copy `bytes` (default: all) of `buf` back to the host. Waits for queued work; checks errors. */
export async function readback(gpu: Gpu, buf: GPUBuffer, bytes = buf.size, offset = 0): Promise<ArrayBuffer> {
  const [out] = await readbackRanges(gpu, [{ buf, bytes, offset }], `'${buf.label}'`);
  return out;
}

/**
 * Copy several ranges (of one or more buffers) back in one round trip: one staging buffer, one
 * submit, one map. Empty ranges give empty ArrayBuffers. Waits for queued work; checks errors.
 */
export async function readbackRanges(
  gpu: Gpu,
  ranges: ReadonlyArray<{ buf: GPUBuffer; bytes: number; offset?: number }>,
  what = "buffers",
): Promise<ArrayBuffer[]> {
  const at: number[] = [];
  let size = 0;
  for (const r of ranges) {
    at.push(size);
    size += Math.ceil(r.bytes / 4) * 4; // copies move whole 4-byte words
  }
  if (size === 0) return ranges.map(() => new ArrayBuffer(0));
  const staging = gpu.device.createBuffer({ label: `${what} readback`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = gpu.device.createCommandEncoder({ label: `${what} readback` });
  ranges.forEach((r, i) => {
    if (r.bytes > 0) enc.copyBufferToBuffer(r.buf, r.offset ?? 0, staging, at[i], Math.ceil(r.bytes / 4) * 4);
  });
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const mapped = staging.getMappedRange();
  const out = ranges.map((r, i) => mapped.slice(at[i], at[i] + r.bytes));
  staging.unmap();
  staging.destroy();
  gpu.check(`reading back ${what}`);
  return out;
}

export const readF32 = async (gpu: Gpu, buf: GPUBuffer, count?: number) =>
  new Float32Array(await readback(gpu, buf, count === undefined ? buf.size : count * 4));
export const readU32 = async (gpu: Gpu, buf: GPUBuffer, count?: number) =>
  new Uint32Array(await readback(gpu, buf, count === undefined ? buf.size : count * 4));

export type ParamField = [kind: "u32" | "i32" | "f32", value: number];

/**
 * Pack scalar fields (4 bytes each, in the order of the WGSL struct) into a uniform buffer,
 * padded to 16 bytes.
 */
export function params(gpu: Gpu, label: string, fields: ParamField[]): GPUBuffer {
  const words = Math.max(4, Math.ceil(fields.length / 4) * 4);
  const data = new ArrayBuffer(words * 4);
  const view = new DataView(data);
  fields.forEach(([kind, v], i) => {
    if (kind === "u32") view.setUint32(i * 4, v, true);
    else if (kind === "i32") view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  const buf = gpu.device.createBuffer({ label, size: data.byteLength, usage: UNIFORM });
  gpu.device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/** Submit one encoder's work. */
export function submit(gpu: Gpu, encoder: GPUCommandEncoder): void {
  gpu.device.queue.submit([encoder.finish()]);
}
