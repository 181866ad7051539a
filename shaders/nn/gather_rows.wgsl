// Token gather / scatter for masking (MAE's ids_keep / ids_restore):
//   entry `gather`:  small[b, so0 + i, :] = big[b, ids[b, i] + row0, :]          i < Lo
//   entry `scatter`: big[b, ids[b, i] + row0, :] (+)= small[b, so0 + i, :]    (the gather's backward)
// big: (B, Ls, D); small: Lo rows used out of So rows per batch item, from row so0 (so the visible
// tokens of an encoder output (B, 1 + Lk, D) are read / written past the cls row); ids: (B, Lo) u32,
// each row's ids distinct (scatter has no atomics; a repeated id would race). row0 skips leading
// rows of the big side (e.g. the cls token). flags bit 0: scatter accumulates (else overwrites; rows not named keep their
// values, so zero the gradient first). One invocation per (d, i, b): gid.x = d, gid.y = i, gid.z = b.

struct Params { B: u32, Lo: u32, Ls: u32, D: u32, row0: u32, src_off: u32, dst_off: u32, flags: u32, So: u32, so0: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.D || gid.y >= p.Lo) { return; }
  let b = gid.z;
  let j = ids[b * p.Lo + gid.y] + p.row0;
  dst[p.dst_off + (b * p.So + p.so0 + gid.y) * p.D + gid.x] = src[p.src_off + (b * p.Ls + j) * p.D + gid.x];
}

@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.D || gid.y >= p.Lo) { return; }
  let b = gid.z;
  let j = ids[b * p.Lo + gid.y] + p.row0;
  let o = p.dst_off + (b * p.Ls + j) * p.D + gid.x;
  var v = src[p.src_off + (b * p.So + p.so0 + gid.y) * p.D + gid.x];
  if ((p.flags & 1u) != 0u) { v += dst[o]; }
  dst[o] = v;
}
