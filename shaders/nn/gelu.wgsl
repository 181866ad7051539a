// Exact (erf) GELU, PyTorch's nn.GELU() default: y = 0.5 x (1 + erf(x / sqrt(2))).
// Entry `forward`: y = gelu(x). Entry `backward`: dx (+)= dy * (Phi(x) + x phi(x)), with
// Phi(x) = 0.5 (1 + erf(x / sqrt 2)) and phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
// x, dy: (n) at x_off / dy_off; out (y or dx): (n) at out_off. flags bit 0: dx accumulates.
// One invocation per element (grid1d layout). Entries forward4 / backward4: the same on vec4s, one
// invocation per four elements, when n and the offsets are multiples of 4 (src/nn/layers.ts picks
// them; lavapipe bounds-checks every storage access lane by lane, a vec4 access about as cheaply
// as an f32 one); their bindings alias the f32 ones. Bindings: x, dy (backward only), out, params.
//
// WGSL has no erf. erf_f32: Taylor series (6 terms) for |z| < 0.5 (relative error < 3e-8 there,
// so tiny inputs keep their relative accuracy), Abramowitz & Stegun 7.1.26 above (absolute error
// <= 1.5e-7, about one f32 ulp of values near 1). Measured against float64 erf on [-8, 8]: max
// absolute 1.4e-7, max relative 2.7e-7 - below the f32 rounding of the GELU's other terms.

struct Params { n: u32, x_off: u32, dy_off: u32, out_off: u32, flags: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn erf_f32(z: f32) -> f32 {
  let a = abs(z);
  let s = z * z;
  let small = z * (1.1283791670955126 + s * (-0.37612638903183754 + s * (0.11283791670955126 +
      s * (-0.026866170645131252 + s * (0.005223977625442188 + s * -0.0008548327023450852)))));
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let big = sign(z) * (1.0 - poly * exp(-s));
  return select(big, small, a < 0.5);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  let v = x[p.x_off + i];
  out[p.out_off + i] = 0.5 * v * (1.0 + erf_f32(v * 0.7071067811865476));
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n) { return; }
  let v = x[p.x_off + i];
  let cdf = 0.5 * (1.0 + erf_f32(v * 0.7071067811865476));
  let pdf = exp(-0.5 * v * v) * 0.3989422804014327;
  var g = dy[p.dy_off + i] * (cdf + v * pdf);
  if ((p.flags & 1u) != 0u) { g += out[p.out_off + i]; }
  out[p.out_off + i] = g;
}

@group(0) @binding(0) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4f>;

// erf_f32 on four values (same formulas, chosen per component).
fn erf_v4(z: vec4f) -> vec4f {
  let a = abs(z);
  let s = z * z;
  let small = z * (1.1283791670955126 + s * (-0.37612638903183754 + s * (0.11283791670955126 +
      s * (-0.026866170645131252 + s * (0.005223977625442188 + s * -0.0008548327023450852)))));
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let big = sign(z) * (1.0 - poly * exp(-s));
  return select(big, small, a < vec4f(0.5));
}

@compute @workgroup_size(64)
fn forward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n / 4u) { return; }
  let v = x4[p.x_off / 4u + i];
  out4[p.out_off / 4u + i] = 0.5 * v * (1.0 + erf_v4(v * 0.7071067811865476));
}

@compute @workgroup_size(64)
fn backward4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n / 4u) { return; }
  let v = x4[p.x_off / 4u + i];
  let cdf = 0.5 * (1.0 + erf_v4(v * 0.7071067811865476));
  let pdf = exp(-0.5 * v * v) * 0.3989422804014327;
  var g = dy4[p.dy_off / 4u + i] * (cdf + v * pdf);
  if ((p.flags & 1u) != 0u) { g += out4[p.out_off / 4u + i]; }
  out4[p.out_off / 4u + i] = g;
}
