// Broadcast a table of rows into every batch item, and its backward (a sum over the batch):
//   entry `forward`:  dst[b, row0 + l, :] (+)= t[l * ts, :]      b < B, l < Lt   (dst: (B, Ld, D))
//   entry `backward`: dt[l * ts, :] += sum_b dsrc[b, row0 + l, :]   (with ts = 0: sum over l too)
// Uses: positional embeddings (x += pos_embed, Lt = L, ts = 1, accumulate), the cls token
// (row 0 of (B, 1 + L, D), Lt = 1), mask tokens (rows of the decoder input, Lt = #masked, ts = 0).
// t: rows of D floats at t_off, row stride ts * D (ts = 0 repeats one row). flags bit 0: forward
// accumulates into dst. forward: one invocation per (d, l, b) (gid.x, gid.y, gid.z); backward: one
// per (d, l) for ts = 1 (serial over b), one per d for ts = 0 (serial over l and b).

struct Params { B: u32, Ld: u32, Lt: u32, D: u32, row0: u32, ts: u32, t_off: u32, x_off: u32, flags: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// forward: src = t (the table), dst = activations at x_off.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  let l = gid.y;
  let b = gid.z;
  if (d >= p.D || l >= p.Lt) { return; }
  let o = p.x_off + (b * p.Ld + p.row0 + l) * p.D + d;
  var v = src[p.t_off + l * p.ts * p.D + d];
  if ((p.flags & 1u) != 0u) { v += dst[o]; }
  dst[o] = v;
}

// backward: src = activation gradient at x_off, dst = the table's gradient at t_off.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let d = gid.x;
  let l = gid.y;
  if (d >= p.D) { return; }
  var s = 0.0;
  if (p.ts == 0u) {
    if (l > 0u) { return; }
    for (var b = 0u; b < p.B; b++) {
      for (var j = 0u; j < p.Lt; j++) { s += src[p.x_off + (b * p.Ld + p.row0 + j) * p.D + d]; }
    }
  } else {
    if (l >= p.Lt) { return; }
    for (var b = 0u; b < p.B; b++) { s += src[p.x_off + (b * p.Ld + p.row0 + l) * p.D + d]; }
  }
  dst[p.t_off + l * p.ts * p.D + d] += s;
}
