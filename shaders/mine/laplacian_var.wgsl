// Sharpness of a batch of gray frames: variance of the 3x3 Laplacian ([0 1 0; 1 -4 1; 0 1 0],
// OpenCV's Laplacian with ksize 1, reflect-101 border), gray scaled to [0, 255].
// gray: (N, H, W) f32 in [0, 1], out: (N) f32 variance.
// One workgroup of 256 invocations per frame (workgroup_id.x = frame); each accumulates a strided
// subset of pixels (sum, sum of squares, in f32 partials per invocation), then a tree reduction.

struct Params { w: u32, h: u32, n: u32 }

@group(0) @binding(0) var<storage, read> gray: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> s1: array<f32, 256>;
var<workgroup> s2: array<f32, 256>;

fn r101(i: i32, n: i32) -> i32 {
  if (n == 1) { return 0; }
  if (i < 0) { return -i; }
  if (i >= n) { return 2 * n - 2 - i; }
  return i;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let f = wid.x;
  let w = i32(p.w);
  let h = i32(p.h);
  let base = f * p.w * p.h;
  var a = 0.0;
  var b = 0.0;
  let count = p.w * p.h;
  for (var i = lid; i < count; i = i + 256u) {
    let x = i32(i % p.w);
    let y = i32(i / p.w);
    let c = gray[base + i];
    let l = gray[base + u32(y * w + r101(x - 1, w))] + gray[base + u32(y * w + r101(x + 1, w))]
          + gray[base + u32(r101(y - 1, h) * w + x)] + gray[base + u32(r101(y + 1, h) * w + x)] - 4.0 * c;
    let v = 255.0 * l;
    a = a + v;
    b = b + v * v;
  }
  s1[lid] = a;
  s2[lid] = b;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      s1[lid] = s1[lid] + s1[lid + s];
      s2[lid] = s2[lid] + s2[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let mean = s1[0] / f32(count);
    out[f] = max(s2[0] / f32(count) - mean * mean, 0.0);
  }
}
