// Row softmax for attention, saved for the backward:
//   entry `forward`:  P[r, :] = softmax(scale * S[r, :])          (max-subtracted, online: one
//                     pass for the max and the rescaled sum, one for P; 2 loads + 1 store per
//                     element instead of 3 + 2, which is what costs on lavapipe)
//   entry `backward`: dS[r, :] = scale * P[r, :] * (dP[r, :] - sum_j P[r, j] dP[r, j])
// S, P, dP, dS: (rows, n) contiguous (rows = B * H * Lq, n = Lk). `backward` may write dS over dP.
// One invocation per row, grid1d layout. Bindings: in0 (S or P), in1 (dP; backward only), out.

struct Params { rows: u32, n: u32, scale: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) { return; }
  let o = r * p.n;
  // One pass for the max and the sum (the running sum is rescaled when the max grows), one for P.
  var m = -3.0e38;
  var s = 0.0;
  for (var j = 0u; j < p.n; j++) {
    let v = p.scale * in0[o + j];
    let mn = max(m, v);
    s = s * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  let inv = 1.0 / s;
  for (var j = 0u; j < p.n; j++) { out[o + j] = exp(p.scale * in0[o + j] - m) * inv; }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) { return; }
  let o = r * p.n;
  var d = 0.0;
  for (var j = 0u; j < p.n; j++) { d += in0[o + j] * in1[o + j]; }
  for (var j = 0u; j < p.n; j++) { out[o + j] = p.scale * in0[o + j] * (in1[o + j] - d); }
}
