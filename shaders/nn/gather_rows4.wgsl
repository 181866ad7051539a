// gather_rows.wgsl on vec4s, for D and both offsets multiples of 4 (src/nn/layers.ts picks it):
// llvmpipe expands a storage access lane by lane once per vec4 instead of once per float.
//   entry `gather`:  small[b, so0 + i, :] = big[b, ids[b, i] + row0, :]          i < Lo
//   entry `scatter`: big[b, ids[b, i] + row0, :] (+)= small[b, so0 + i, :]    (ids distinct)
// Same parameters as gather_rows.wgsl. One invocation per (d4, i, b): gid.x = d / 4, gid.y = i, gid.z = b.

struct Params { B: u32, Lo: u32, Ls: u32, D: u32, row0: u32, src_off: u32, dst_off: u32, flags: u32, So: u32, so0: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(32)
fn gather(@builtin(global_invocation_id) gid: vec3u) {
  let D4 = p.D / 4u;
  if (gid.x >= D4 || gid.y >= p.Lo) { return; }
  let b = gid.z;
  let j = ids[b * p.Lo + gid.y] + p.row0;
  dst[p.dst_off / 4u + (b * p.So + p.so0 + gid.y) * D4 + gid.x] = src[p.src_off / 4u + (b * p.Ls + j) * D4 + gid.x];
}

@compute @workgroup_size(32)
fn scatter(@builtin(global_invocation_id) gid: vec3u) {
  let D4 = p.D / 4u;
  if (gid.x >= D4 || gid.y >= p.Lo) { return; }
  let b = gid.z;
  let j = ids[b * p.Lo + gid.y] + p.row0;
  let o = p.dst_off / 4u + (b * p.Ls + j) * D4 + gid.x;
  var v = src[p.src_off / 4u + (b * p.So + p.so0 + gid.y) * D4 + gid.x];
  if ((p.flags & 1u) != 0u) { v += dst[o]; }
  dst[o] = v;
}
