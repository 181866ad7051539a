// Row softmax for attention on rows padded to a multiple of 4 (src/nn/attention.ts attnLd), read
// and written as vec4: llvmpipe expands a storage access lane by lane once per vec4 instead of once
// per element, which is what a row kernel costs there. Same maths as softmax.wgsl:
//   entry `forward`:  P[r, :n] = softmax(scale * S[r, :n])        (online max and sum, then P)
//   entry `backward`: dS[r, :n] = scale * P[r, :n] * (dP[r, :n] - sum_j P[r, j] dP[r, j])
// Rows start at r * ld (ld % 4 == 0, ld >= n); columns n .. ld - 1 of a row are padding: never
// read into a result (masked by select, so stale or NaN padding cannot leak) and written as 0
// (the store loops run over the whole row).
// One invocation per row, grid1d layout. Bindings: in0 (S or P), in1 (dP; backward only), out.

struct Params { rows: u32, n: u32, scale: f32, ld: u32 }

@group(0) @binding(0) var<storage, read> in0: array<vec4f>;
@group(0) @binding(1) var<storage, read> in1: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

// Which of the four columns 4 q .. 4 q + 3 lie inside the row.
fn valid(q: u32) -> vec4<bool> {
  return vec4u(4u * q) + vec4u(0u, 1u, 2u, 3u) < vec4u(p.n);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) { return; }
  let o = r * (p.ld / 4u);
  let nq = (p.n + 3u) / 4u;
  // One pass for the max and the sum (rescaled when the max grows), one for P.
  var m = -3.0e38;
  var s = 0.0;
  for (var q = 0u; q < nq; q++) {
    let v = select(vec4f(-3.0e38), p.scale * in0[o + q], valid(q));
    let mn = max(m, max(max(v.x, v.y), max(v.z, v.w)));
    let e = exp(v - vec4f(mn));
    s = s * exp(m - mn) + (e.x + e.y) + (e.z + e.w);
    m = mn;
  }
  let inv = 1.0 / s;
  for (var q = 0u; q < p.ld / 4u; q++) {
    let v = select(vec4f(-3.0e38), p.scale * in0[o + q], valid(q));
    out[o + q] = exp(v - vec4f(m)) * inv;
  }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.rows) { return; }
  let o = r * (p.ld / 4u);
  let nq = (p.n + 3u) / 4u;
  var d4 = vec4f(0.0);
  for (var q = 0u; q < nq; q++) {
    d4 += select(vec4f(0.0), in0[o + q] * in1[o + q], valid(q));
  }
  let d = (d4.x + d4.y) + (d4.z + d4.w);
  for (var q = 0u; q < p.ld / 4u; q++) {
    out[o + q] = select(vec4f(0.0), p.scale * in0[o + q] * (in1[o + q] - vec4f(d)), valid(q));
  }
}
