// SIFT difference of Gaussians for one octave: dog[l] = gauss[l+1] - gauss[l], l = 0..levels-2.
// gauss: (L+3, stride) f32 (each level (N, h, w) padded to `stride` floats), dog: (L+2, stride) f32.
// One invocation per element of a level (1D, grid1d): i = gid.x + gid.y * nwg.x * 256 over
// count = (levels - 1) * stride.

struct Params { count: u32, stride: u32 }

@group(0) @binding(0) var<storage, read> gauss: array<f32>;
@group(0) @binding(1) var<storage, read_write> dog: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.count) { return; }
  dog[i] = gauss[i + p.stride] - gauss[i];
}
