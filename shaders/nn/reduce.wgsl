// Reductions to one value with a single workgroup of 256 (fixed order, deterministic):
//   entry `sum`:    out[out_index] = alpha * sum_i x[x_off + i]          (mean: alpha = 1 / n)
//   entry `sumsq`:  out[out_index] = alpha * sum_i x[x_off + i]^2        (gradient norm^2)
//   entries `sum_partial`, `sumsq_partial`: G workgroups (G <= 256), workgroup w writes its partial
//   to out[out_index + w] (two-stage: follow with `sum` over the G partials; big buffers use all
//   CPU threads / GPU cores instead of one workgroup).
// Each invocation sums a strided slice, then invocation 0 adds the 256 partials in order.
// x: (n) at x_off; out: any buffer, written at out_index.

struct Params { n: u32, x_off: u32, out_index: u32, alpha: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, 256>;

fn finish(lid: u32, s: f32, slot: u32) {
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var t = 0.0;
    for (var i = 0u; i < 256u; i++) { t += part[i]; }
    out[p.out_index + slot] = p.alpha * t;
  }
}

@compute @workgroup_size(256)
fn sum(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.n; i += 256u) { s += x[p.x_off + i]; }
  finish(lid.x, s, 0u);
}

@compute @workgroup_size(256)
fn sumsq(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.n; i += 256u) { let v = x[p.x_off + i]; s += v * v; }
  finish(lid.x, s, 0u);
}

@compute @workgroup_size(256)
fn sum_partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var s = 0.0;
  for (var i = wid.x * 256u + lid.x; i < p.n; i += 256u * nwg.x) { s += x[p.x_off + i]; }
  finish(lid.x, s, wid.x);
}

@compute @workgroup_size(256)
fn sumsq_partial(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var s = 0.0;
  for (var i = wid.x * 256u + lid.x; i < p.n; i += 256u * nwg.x) { let v = x[p.x_off + i]; s += v * v; }
  finish(lid.x, s, wid.x);
}
