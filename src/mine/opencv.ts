// OpenCV's uint8 image operations that MIMIC's recipe runs before SIFT, reproduced bit for bit so
// `--preset mimic` sees the same pixels as MIMIC's scripts (datasets/*_multipro.py:
// cv2.resize(cv2.cvtColor(frame, COLOR_BGR2RGB), (224, 224)) then COLOR_RGB2GRAY inside apply_sift):
//   - cvResizeLinear: cv2.resize(..., interpolation=INTER_LINEAR) on uint8 images (OpenCV 4.x
//     imgproc/src/resize.cpp, resizeGeneric_ with HResizeLinear + VResizeLinearVec_32s8u): 11-bit
//     fixed-point taps, a horizontal pass in int32, a vertical pass that shifts each row sum right by 4,
//     multiplies by the 16-bit vertical tap keeping the high half, and rounds by 2 bits.
//     Checked against python3-opencv 4.6 (0 differing bytes on frames and random images, down- and
//     upscaling, any width).
//   - gray: shaders/mine/rgb_to_gray_u8.wgsl (cv2.cvtColor RGB2GRAY's 15-bit fixed point).
// ffmpeg's swscale (the default 'area' scaler) gives different pixels: SIFT then finds different
// keypoints and borderline pairs flip between keep and reject.
import { createBuffer, params, readF32, submit, upload } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Call, encodeCalls, gpuCall, grid1d, pipeline } from "../gpu/kernel.js";

const COEF = 2048; // INTER_RESIZE_COEF_SCALE (11 bits)

/** cvRound for a float: round half to even (lrint in the default rounding mode). */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Source index and the two 11-bit taps per destination index (OpenCV's xofs/ialpha, yofs/ibeta). */
function taps(src: number, dst: number, clampEdges: boolean): { ofs: Int32Array; a0: Int32Array; a1: Int32Array } {
  const f = Math.fround;
  const scale = 1 / (dst / src); // scale_x = 1. / inv_scale_x
  const ofs = new Int32Array(dst);
  const a0 = new Int32Array(dst);
  const a1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let fx = f((d + 0.5) * scale - 0.5);
    let s = Math.floor(fx);
    fx = f(fx - s);
    if (clampEdges) {
      // horizontal only: OpenCV clamps the tap at the borders; vertically it clips the rows instead
      if (s < 0) {
        fx = 0;
        s = 0;
      }
      if (s >= src - 1) {
        fx = 0;
        s = src - 1;
      }
    }
    ofs[d] = s;
    a0[d] = rint(f(1 - fx) * COEF);
    a1[d] = rint(fx * COEF);
  }
  return { ofs, a0, a1 };
}

/**
 * cv2.resize(img, (dw, dh)) with INTER_LINEAR on an 8-bit image of `cn` interleaved channels
 * (h, w, cn) -> (dh, dw, cn). Exact for the scale factors of mining (not the 2x-up special case).
 */
export function cvResizeLinear(img: Uint8Array, w: number, h: number, cn: number, dw: number, dh: number): Uint8Array {
  if (img.length !== w * h * cn) throw new Error(`cvResizeLinear: ${img.length} bytes for a ${w}x${h}x${cn} image`);
  if (dw === w && dh === h) return img.slice();
  const X = taps(w, dw, true);
  const Y = taps(h, dh, false);
  const rowLen = dw * cn;
  // Per output element: source element offset within a row and its two taps (one tap of ONE past the right edge).
  const xs = new Int32Array(rowLen);
  const xa0 = new Int32Array(rowLen);
  const xa1 = new Int32Array(rowLen);
  for (let dx = 0; dx < dw; dx++) {
    const sx = X.ofs[dx];
    const one = sx + 1 >= w;
    for (let c = 0; c < cn; c++) {
      xs[dx * cn + c] = sx * cn + c;
      xa0[dx * cn + c] = one ? COEF : X.a0[dx];
      xa1[dx * cn + c] = one ? 0 : X.a1[dx];
    }
  }
  // Horizontal pass of a source row into `into` (the second tap reads S[sx + cn] only when weighted).
  const hrow = (sy: number, into: Int32Array) => {
    const base = sy * w * cn;
    for (let x = 0; x < rowLen; x++) {
      const o = base + xs[x];
      const a1 = xa1[x];
      into[x] = img[o] * xa0[x] + (a1 ? img[o + cn] * a1 : 0);
    }
  };
  const out = new Uint8Array(dh * rowLen);
  let r0 = new Int32Array(rowLen);
  let r1 = new Int32Array(rowLen);
  let have0 = -1;
  let have1 = -1;
  for (let dy = 0; dy < dh; dy++) {
    const sy = Y.ofs[dy];
    const y0 = Math.min(Math.max(sy, 0), h - 1);
    const y1 = Math.min(Math.max(sy + 1, 0), h - 1);
    if (y0 === have1) {
      [r0, r1] = [r1, r0];
      have0 = have1;
      have1 = -1;
    }
    if (y0 !== have0) {
      hrow(y0, r0);
      have0 = y0;
    }
    if (y1 !== have1) {
      if (y1 === have0) r1.set(r0);
      else hrow(y1, r1);
      have1 = y1;
    }
    const b0 = Y.a0[dy];
    const b1 = Y.a1[dy];
    const o = dy * rowLen;
    for (let x = 0; x < rowLen; x++) {
      // v_mul_hi(v_pack(S >> 4), b): 16-bit high halves; v_rshr_pack_u<2>: (sum + 2) >> 2 (in
      // 0..255 since S <= 255 * 2048 and b0 + b1 = 2048, so the saturation never acts)
      out[o + x] = ((((r0[x] >> 4) * b0) >> 16) + (((r1[x] >> 4) * b1) >> 16) + 2) >> 2;
    }
  }
  return out;
}

/** The call of rgb_to_gray_u8.wgsl: rgb (count*3 bytes, packed) -> gray (count) f32 = cv2 uint8 gray / 255. */
export function rgbToGrayU8Call(gpu: Gpu, rgb: GPUBuffer, gray: GPUBuffer, count: number): Call {
  const p = params(gpu, "rgb_to_gray_u8 params", [["u32", count]]);
  return gpuCall(gpu, pipeline(gpu, "mine/rgb_to_gray_u8.wgsl"), [rgb, gray, p], grid1d(count, 64), { label: "rgb_to_gray_u8" });
}

/** Record rgb_to_gray_u8.wgsl once (rgbToGrayU8Call builds a call to replay). */
export function encodeRgbToGrayU8(gpu: Gpu, enc: GPUCommandEncoder, rgb: GPUBuffer, gray: GPUBuffer, count: number): void {
  encodeCalls(enc, [rgbToGrayU8Call(gpu, rgb, gray, count)], "rgb_to_gray_u8");
}

/** Host convenience: upload RGB bytes, run rgb_to_gray_u8.wgsl, read back (count) f32. */
export async function rgbToGrayU8(gpu: Gpu, rgb: Uint8Array, count: number): Promise<Float32Array> {
  const padded = new Uint8Array(Math.ceil((count * 3) / 4) * 4);
  padded.set(rgb.subarray(0, count * 3));
  const b = upload(gpu, "rgb_to_gray_u8 rgb", new Uint32Array(padded.buffer));
  const g = createBuffer(gpu, "rgb_to_gray_u8 gray", count * 4);
  const enc = gpu.device.createCommandEncoder({ label: "rgb_to_gray_u8" });
  encodeRgbToGrayU8(gpu, enc, b, g, count);
  submit(gpu, enc);
  const out = await readF32(gpu, g, count);
  b.destroy();
  g.destroy();
  return out;
}
