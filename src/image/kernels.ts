// GPU image kernels (shaders/image/*.wgsl). Each `encode*` records into a caller's encoder and
// leaves data on the GPU; each plain function is a convenience that uploads, runs and reads back.
// CPU twins: src/ref/image.ts.
import { createBuffer, params, readF32, submit, upload } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, dispatch, encodeCalls, gpuCall, grid1d, groups, pipeline } from "../gpu/kernel.js";
import { gaussianTaps } from "./cpu.js";

/** The call of rgb_to_gray.wgsl: rgb (count*3) bytes packed in u32 words -> gray (count) f32. */
export function rgbToGrayCall(gpu: Gpu, rgb: GPUBuffer, gray: GPUBuffer, count: number): Call {
  const p = params(gpu, "rgb_to_gray params", [["u32", count]]);
  return gpuCall(gpu, pipeline(gpu, "image/rgb_to_gray.wgsl"), [rgb, gray, p], grid1d(count, 64), { label: "rgb_to_gray" });
}

/** Record rgb_to_gray.wgsl once (rgbToGrayCall builds a call to replay). */
export function encodeRgbToGray(gpu: Gpu, enc: GPUCommandEncoder, rgb: GPUBuffer, gray: GPUBuffer, count: number): void {
  encodeCalls(enc, [rgbToGrayCall(gpu, rgb, gray, count)], "rgb_to_gray");
}

/** src: (n, sh, sw) -> dst: (n, dh, dw), bilinear. */
export function encodeResize(
  gpu: Gpu,
  enc: GPUCommandEncoder,
  src: GPUBuffer,
  dst: GPUBuffer,
  n: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
): void {
  const p = params(gpu, "resize params", [
    ["u32", sw],
    ["u32", sh],
    ["u32", dw],
    ["u32", dh],
    ["u32", n],
  ]);
  dispatch(gpu, enc, pipeline(gpu, "image/resize_bilinear.wgsl"), [src, dst, p], [groups(dw, 16), groups(dh, 16), n]);
}

/** Gaussian blur of (n, h, w) planes in place of `dst`, using `tmp` (same size) between passes. */
export function encodeBlur(
  gpu: Gpu,
  enc: GPUCommandEncoder,
  src: GPUBuffer,
  tmp: GPUBuffer,
  dst: GPUBuffer,
  n: number,
  h: number,
  w: number,
  sigma: number,
): void {
  const taps = gaussianTaps(sigma);
  const radius = (taps.length - 1) >> 1;
  const tapBuf = upload(gpu, `blur taps sigma=${sigma}`, taps);
  const pipe = pipeline(gpu, "image/gaussian_blur.wgsl");
  const wg: [number, number, number] = [groups(w, 16), groups(h, 16), n];
  for (const axis of [0, 1]) {
    const p = params(gpu, `blur params axis ${axis}`, [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", radius],
      ["u32", axis],
    ]);
    dispatch(gpu, enc, pipe, axis === 0 ? [src, tapBuf, tmp, p] : [tmp, tapBuf, dst, p], wg);
  }
}

/** (n, h, w) -> (n, max(1,h/2), max(1,w/2)); mode 0 decimate, 1 2x2 mean. */
export function encodeDownsample2(
  gpu: Gpu,
  enc: GPUCommandEncoder,
  src: GPUBuffer,
  dst: GPUBuffer,
  n: number,
  h: number,
  w: number,
  mode: 0 | 1,
): void {
  const p = params(gpu, "downsample2 params", [
    ["u32", w],
    ["u32", h],
    ["u32", n],
    ["u32", mode],
  ]);
  const w2 = Math.max(1, w >> 1);
  const h2 = Math.max(1, h >> 1);
  dispatch(gpu, enc, pipeline(gpu, "image/downsample2.wgsl"), [src, dst, p], [groups(w2, 16), groups(h2, 16), n]);
}

// ---- host conveniences (upload, run, read back) ----------------------------------------------------

export async function rgbToGray(gpu: Gpu, rgb: Uint8Array, count: number): Promise<Float32Array> {
  const src = upload(gpu, "rgb", rgb);
  const dst = createBuffer(gpu, "gray", count * 4);
  const enc = gpu.device.createCommandEncoder({ label: "rgbToGray" });
  encodeRgbToGray(gpu, enc, src, dst, count);
  submit(gpu, enc);
  return readF32(gpu, dst, count);
}

export async function resizeBilinear(
  gpu: Gpu,
  src: Float32Array,
  n: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
): Promise<Float32Array> {
  const a = upload(gpu, "resize src", src);
  const b = createBuffer(gpu, "resize dst", n * dh * dw * 4);
  const enc = gpu.device.createCommandEncoder({ label: "resizeBilinear" });
  encodeResize(gpu, enc, a, b, n, sh, sw, dh, dw);
  submit(gpu, enc);
  return readF32(gpu, b, n * dh * dw);
}

export async function gaussianBlur(gpu: Gpu, src: Float32Array, n: number, h: number, w: number, sigma: number): Promise<Float32Array> {
  const a = upload(gpu, "blur src", src);
  const tmp = createBuffer(gpu, "blur tmp", src.byteLength);
  const b = createBuffer(gpu, "blur dst", src.byteLength);
  const enc = gpu.device.createCommandEncoder({ label: "gaussianBlur" });
  encodeBlur(gpu, enc, a, tmp, b, n, h, w, sigma);
  submit(gpu, enc);
  return readF32(gpu, b, n * h * w);
}

export async function downsample2(gpu: Gpu, src: Float32Array, n: number, h: number, w: number, mode: 0 | 1): Promise<Float32Array> {
  const count = n * Math.max(1, h >> 1) * Math.max(1, w >> 1);
  const a = upload(gpu, "downsample src", src);
  const b = createBuffer(gpu, "downsample dst", count * 4);
  const enc = gpu.device.createCommandEncoder({ label: "downsample2" });
  encodeDownsample2(gpu, enc, a, b, n, h, w, mode);
  submit(gpu, enc);
  return readF32(gpu, b, count);
}
