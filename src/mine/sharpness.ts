// Blur filter for mining: variance of the Laplacian per frame, on the GPU.
// Kernel: shaders/mine/laplacian_var.wgsl; twin: src/ref/mine/sharpness.ts.
import { createBuffer, params, readF32, submit, upload } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, encodeCalls, gpuCall, pipeline } from "../gpu/kernel.js";

/** The call computing the sharpness of n gray frames (N, H, W) in [0, 1] into out (N) f32. */
export function sharpnessCall(gpu: Gpu, gray: GPUBuffer, out: GPUBuffer, n: number, h: number, w: number): Call {
  const p = params(gpu, "laplacian_var params", [
    ["u32", w],
    ["u32", h],
    ["u32", n],
  ]);
  return gpuCall(gpu, pipeline(gpu, "mine/laplacian_var.wgsl"), [gray, out, p], [n], { label: "laplacian_var" });
}

/** Record the sharpness of n gray frames once (sharpnessCall builds a call to replay). */
export function encodeSharpness(gpu: Gpu, enc: GPUCommandEncoder, gray: GPUBuffer, out: GPUBuffer, n: number, h: number, w: number): void {
  encodeCalls(enc, [sharpnessCall(gpu, gray, out, n, h, w)], "laplacian_var");
}

/** Host convenience: upload, run, read back. */
export async function sharpness(gpu: Gpu, gray: Float32Array, n: number, h: number, w: number): Promise<Float32Array> {
  const g = upload(gpu, "sharpness gray", gray);
  const o = createBuffer(gpu, "sharpness out", n * 4);
  const enc = gpu.device.createCommandEncoder({ label: "sharpness" });
  encodeSharpness(gpu, enc, g, o, n, h, w);
  submit(gpu, enc);
  return readF32(gpu, o, n);
}
