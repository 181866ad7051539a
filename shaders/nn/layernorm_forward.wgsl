// LayerNorm forward over the last dim, eps from params (1e-6 for ViT/MAE/CroCo):
//   y = (x - mean) * rstd * w + b, saving mean (N) and rstd (N) for the backward.
// x: (N, C) at x_off, w, b: (C) at w_off / b_off, y: (N, C) at y_off, mean, rstd: (N).
// One invocation per row (two passes over C: mean, then centred variance; biased, like PyTorch).
// Entry `main4`: the same on vec4s when C and every offset are multiples of 4 (src/nn/layers.ts
// picks it; lavapipe bounds-checks every storage access lane by lane, a vec4 access about as
// cheaply as an f32 one). Sums run in four lanes, then add up: (s.x + s.y) + (s.z + s.w).

struct Params { N: u32, C: u32, x_off: u32, w_off: u32, b_off: u32, y_off: u32, eps: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wb: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.N) { return; }
  let xo = p.x_off + row * p.C;
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += x[xo + c]; }
  let mu = s / f32(p.C);
  var v = 0.0;
  for (var c = 0u; c < p.C; c++) { let d = x[xo + c] - mu; v += d * d; }
  let r = inverseSqrt(v / f32(p.C) + p.eps);
  let yo = p.y_off + row * p.C;
  for (var c = 0u; c < p.C; c++) {
    y[yo + c] = (x[xo + c] - mu) * r * wb[p.w_off + c] + wb[p.b_off + c];
  }
  mean[row] = mu;
  rstd[row] = r;
}

@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> wb4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;

fn hsum(v: vec4f) -> f32 { return (v.x + v.y) + (v.z + v.w); }

@compute @workgroup_size(64)
fn main4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * 64u;
  if (row >= p.N) { return; }
  let C4 = p.C / 4u;
  let xo = p.x_off / 4u + row * C4;
  var s = vec4f(0.0);
  for (var c = 0u; c < C4; c++) { s += x4[xo + c]; }
  let mu = hsum(s) / f32(p.C);
  var v = vec4f(0.0);
  for (var c = 0u; c < C4; c++) { let d = x4[xo + c] - mu; v += d * d; }
  let r = inverseSqrt(hsum(v) / f32(p.C) + p.eps);
  let yo = p.y_off / 4u + row * C4;
  let wo = p.w_off / 4u;
  let bo = p.b_off / 4u;
  for (var c = 0u; c < C4; c++) {
    y4[yo + c] = (x4[xo + c] - mu) * r * wb4[wo + c] + wb4[bo + c];
  }
  mean[row] = mu;
  rstd[row] = r;
}
