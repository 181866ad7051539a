// RGB (8-bit, interleaved) -> gray rounded to 8 bits exactly as OpenCV 4.x's
// cv2.cvtColor(img, COLOR_RGB2GRAY) on uint8 images computes it (15-bit fixed point:
// Y = (9798 R + 19235 G + 3735 B + 2^14) >> 15), returned as f32 Y / 255 in [0, 1].
// MIMIC converts its uint8 frames this way before SIFT, so `--preset mimic` feeds SIFT these
// quantised values (shaders/image/rgb_to_gray.wgsl keeps the unrounded float instead).
// rgb: (N, H, W, 3) bytes packed 4 per u32 (little endian), gray: (N, H, W) f32.
// One invocation per output pixel; index = gid.x + gid.y * nwg.x * 64 (grid1d).
// Twin: src/ref/mine/gray.ts (rgbToGrayU8Ref).

struct Params { count: u32 }

@group(0) @binding(0) var<storage, read> rgb: array<u32>;
@group(0) @binding(1) var<storage, read_write> gray: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn byte_at(i: u32) -> u32 {
  return (rgb[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.count) { return; }
  let y = (9798u * byte_at(i * 3u) + 19235u * byte_at(i * 3u + 1u) + 3735u * byte_at(i * 3u + 2u) + 16384u) >> 15u;
  gray[i] = f32(y) / 255.0;
}
