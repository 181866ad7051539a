// SIFT difference of Gaussians for one octave: dog[l] = gauss[l+1] - gauss[l], l = 0..levels-2.
// gauss: (L+3, stride) f32 (each level (N, h, w) padded to `stride` floats, stride a multiple of
// 64), dog: (L+2, stride) f32, both read as vec4.
// One invocation per 4 consecutive floats (1D, grid1d): i = gid.x + gid.y * nwg.x * 256 over
// count4 = (levels - 1) * stride / 4.

struct Params { count4: u32, stride4: u32 }

@group(0) @binding(0) var<storage, read> gauss: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dog: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count4) { return; }
  dog[i] = gauss[i + p.stride4] - gauss[i];
}
