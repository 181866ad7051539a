// Test kernel for the PCG32 twin: invocation i draws `count` u32 from stream (stream0 + i) and
// writes them to out[i * count ..]. Also writes floats and bounded draws for the same streams.
// out_u32: (N, count)  out_f32: (N, count)  out_below: (N, count)   invocation = stream index.
//!include common/pcg32.wgsl

struct Params { seed: u32, stream0: u32, n: u32, count: u32, bound: u32 }

@group(0) @binding(0) var<storage, read_write> out_u32: array<u32>;
@group(0) @binding(1) var<storage, read_write> out_f32: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_below: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  var a = pcg_new(p.seed, p.stream0 + i);
  var b = pcg_new(p.seed, p.stream0 + i);
  var c = pcg_new(p.seed, p.stream0 + i);
  for (var k = 0u; k < p.count; k = k + 1u) {
    out_u32[i * p.count + k] = pcg_u32(&a);
    out_f32[i * p.count + k] = pcg_float(&b);
    out_below[i * p.count + k] = pcg_below(&c, p.bound);
  }
}
