// AdamW (PyTorch's torch.optim.AdamW, decoupled weight decay) on flat parameter buffers, with
// global gradient-norm clipping and gradient-accumulation averaging folded into the gradient scale:
//   g = grad * grad_scale * clip,  clip = min(1, max_norm / (sqrt(stats[0]) + 1e-6)) if max_norm > 0
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p * (1 - lr * wd * decay[i]);  p -= lr * (m / bc1) / (sqrt(v / bc2) + eps)
// bc1 = 1 - b1^t, bc2 = 1 - b2^t (host computes them for step t). decay: (n) 1 = decayed, 0 = not
// (norms, biases, tokens), -1 = frozen: not updated at all (MAE's fixed sin-cos pos_embed). stats[0] = sum of squared (scaled) gradients
// from reduce.wgsl `sumsq` in the same pass.
// One invocation per FOUR elements (vec4; n % 4 == 0: src/nn/layout.ts aligns every tensor to 4),
// grid1d layout. Why vec4: lavapipe expands every storage load and store lane by lane with a
// bounds check, so one vec4 access instead of four f32 ones cuts those checks (5 loads and 3
// stores per element here) by 4x.

struct Params {
  n: u32, _p0: u32, _p1: u32, _p2: u32,
  lr: f32, b1: f32, b2: f32, eps: f32,
  wd: f32, bc1: f32, bc2: f32, grad_scale: f32,
  max_norm: f32, _p3: f32, _p4: f32, _p5: f32,
}

@group(0) @binding(0) var<storage, read> grad: array<vec4f>;
@group(0) @binding(1) var<storage, read> decay: array<vec4f>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4f>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= p.n / 4u) { return; }
  let d = decay[i];
  var clip = 1.0;
  if (p.max_norm > 0.0) { clip = min(1.0, p.max_norm / (sqrt(stats[0]) + 1e-6)); }
  let g = grad[i] * (p.grad_scale * clip);
  let m0 = m[i];
  let v0 = v[i];
  let w0 = param[i];
  let mi = p.b1 * m0 + (1.0 - p.b1) * g;
  let vi = p.b2 * v0 + (1.0 - p.b2) * g * g;
  var w = w0 * (1.0 - p.lr * p.wd * d);
  w -= p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
  // Frozen elements (decay -1) keep their parameter and moments.
  let frozen = d < vec4f(0.0);
  m[i] = select(mi, m0, frozen);
  v[i] = select(vi, v0, frozen);
  param[i] = select(w, w0, frozen);
}
