// CPU twin of shaders/mine/rgb_to_gray_u8.wgsl: OpenCV's uint8 RGB -> gray (15-bit fixed point,
// rounded to 8 bits), as f32 in [0, 1].

/** RGB bytes (count*3) -> gray Y/255 with Y = (9798 R + 19235 G + 3735 B + 2^14) >> 15 (cv2.cvtColor RGB2GRAY, uint8). */
export function rgbToGrayU8Ref(rgb: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const y = (9798 * rgb[3 * i] + 19235 * rgb[3 * i + 1] + 3735 * rgb[3 * i + 2] + 16384) >> 15;
    out[i] = Math.fround(y / 255);
  }
  return out;
}
