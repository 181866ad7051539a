// Elementwise helpers for residual connections and gradient plumbing, over (n) f32 at offsets:
//   entry `add`:  out = a + b          (residual forward: x + f(x))
//   entry `axpy`: out = out + alpha*a  (gradient accumulation; residual backward adds dy)
//   entry `scale`: out = alpha * a
//   entry `fill`: out = alpha
// One invocation per element, grid1d layout (index = gid.x + gid.y * nwg.x * 64).
// Entries add4 / axpy4 / scale4 / fill4: the same on vec4s, one invocation per four elements, when
// n and every offset are multiples of 4 (src/nn/layers.ts picks them): lavapipe expands each
// storage access lane by lane with a bounds check, so a vec4 access costs about what an f32 one
// does. Their bindings alias the f32 ones (no entry point uses both).
// Bindings: a, b (only `add`), out, params.

struct Params { n: u32, a_off: u32, b_off: u32, out_off: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * 64u; }

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n) { return; }
  out[p.out_off + i] = a[p.a_off + i] + b[p.b_off + i];
}

@compute @workgroup_size(64)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n) { return; }
  out[p.out_off + i] += p.alpha * a[p.a_off + i];
}

@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n) { return; }
  out[p.out_off + i] = p.alpha * a[p.a_off + i];
}

@compute @workgroup_size(64)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n) { return; }
  out[p.out_off + i] = p.alpha;
}

@group(0) @binding(0) var<storage, read> a4: array<vec4f>;
@group(0) @binding(1) var<storage, read> b4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4f>;

@compute @workgroup_size(64)
fn add4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n / 4u) { return; }
  out4[p.out_off / 4u + i] = a4[p.a_off / 4u + i] + b4[p.b_off / 4u + i];
}

@compute @workgroup_size(64)
fn axpy4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n / 4u) { return; }
  out4[p.out_off / 4u + i] += p.alpha * a4[p.a_off / 4u + i];
}

@compute @workgroup_size(64)
fn scale4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n / 4u) { return; }
  out4[p.out_off / 4u + i] = p.alpha * a4[p.a_off / 4u + i];
}

@compute @workgroup_size(64)
fn fill4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.n / 4u) { return; }
  out4[p.out_off / 4u + i] = vec4f(p.alpha);
}
