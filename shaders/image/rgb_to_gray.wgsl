// RGB (8-bit, interleaved) -> gray f32 in [0, 1], weights 0.299 R + 0.587 G + 0.114 B (BT.601,
// as OpenCV's COLOR_RGB2GRAY).
// rgb: (N, H, W, 3) bytes packed 4 per u32 (little endian), gray: (N, H, W) f32.
// One invocation per output pixel; gid.x over N*H*W.

struct Params { count: u32 }

@group(0) @binding(0) var<storage, read> rgb: array<u32>;
@group(0) @binding(1) var<storage, read_write> gray: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn byte_at(i: u32) -> f32 {
  return f32((rgb[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.count) { return; }
  let r = byte_at(i * 3u);
  let g = byte_at(i * 3u + 1u);
  let b = byte_at(i * 3u + 2u);
  gray[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
}
