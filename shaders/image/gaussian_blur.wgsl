// One pass of a separable Gaussian blur over a batch of f32 planes: horizontal (axis 0) or
// vertical (axis 1). Border: reflect-101 (OpenCV's BORDER_DEFAULT: ...c b | a b c ... | b a).
// src: (N, H, W) f32, weights: (2R+1) f32 normalised taps, dst: (N, H, W) f32.
// One invocation per output pixel: gid.x = x, gid.y = y, gid.z = plane.

struct Params { w: u32, h: u32, n: u32, radius: u32, axis: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

//!include common/reflect101.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= p.w || gid.y >= p.h || gid.z >= p.n) { return; }
  let w = i32(p.w);
  let h = i32(p.h);
  let r = i32(p.radius);
  let base = gid.z * p.w * p.h;
  let x = i32(gid.x);
  let y = i32(gid.y);
  var acc = 0.0;
  // Interior pixels (the window never leaves the plane) skip the border reflection.
  if (p.axis == 0u) {
    if (x >= r && x + r < w) {
      let row = base + u32(y * w + x - r);
      for (var k = 0u; k <= 2u * p.radius; k = k + 1u) { acc = acc + weights[k] * src[row + k]; }
    } else {
      for (var k = -r; k <= r; k = k + 1) {
        acc = acc + weights[u32(k + r)] * src[base + u32(y * w + reflect101(x + k, w))];
      }
    }
  } else {
    if (y >= r && y + r < h) {
      var idx = base + u32((y - r) * w + x);
      for (var k = 0u; k <= 2u * p.radius; k = k + 1u) { acc = acc + weights[k] * src[idx]; idx = idx + p.w; }
    } else {
      for (var k = -r; k <= r; k = k + 1) {
        acc = acc + weights[u32(k + r)] * src[base + u32(reflect101(y + k, h) * w + x)];
      }
    }
  }
  dst[base + gid.y * p.w + gid.x] = acc;
}
