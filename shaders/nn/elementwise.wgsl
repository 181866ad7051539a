// Elementwise helpers for residual connections and gradient plumbing, over (n) f32 at offsets:
//   entry `add`:  out = a + b          (residual forward: x + f(x))
//   entry `axpy`: out = out + alpha*a  (gradient accumulation; residual backward adds dy)
//   entry `scale`: out = alpha * a
//   entry `fill`: out = alpha
// One invocation per element, grid1d layout (index = gid.x + gid.y * nwg.x * 64).
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
