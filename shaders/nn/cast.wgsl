enable f16;
// Precision casts for f16 storage (shader-f16 adapters): entry `to_f16`: dst16[i] = f16(src32[i]);
// entry `to_f32`: dst32[i] = f32(src16[i]). n elements at element offsets; one invocation per
// element, grid1d layout. Bindings: src32, src16, dst32, dst16 (each entry binds its two), params.

struct Params { n: u32, src_off: u32, dst_off: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> src32: array<f32>;
@group(0) @binding(1) var<storage, read> src16: array<f16>;
@group(0) @binding(2) var<storage, read_write> dst32: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst16: array<f16>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(64)
fn to_f16(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  dst16[p.dst_off + i] = f16(src32[p.src_off + i]);
}

@compute @workgroup_size(64)
fn to_f32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  dst32[p.dst_off + i] = f32(src16[p.src_off + i]);
}
