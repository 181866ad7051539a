// One pass of the separable Gaussian blur of SIFT's scale space, register-blocked: each invocation
// computes 4 consecutive outputs along the pass axis with a sliding window (one load per tap for
// 4 outputs). Same arithmetic as image/gaussian_blur.wgsl: taps in order -r..r, reflect-101 border.
// src: (N, H, W) f32, weights: (2R+1) f32 normalised taps, dst: (N, H, W) f32.
// axis 0 (horizontal): gid.x = x / 4, gid.y = y; axis 1 (vertical): gid.x = x, gid.y = y / 4;
// gid.z = plane.
// CPU twin: siftBlurPassRef in src/ref/features/sift.ts.

struct Params { w: u32, h: u32, n: u32, radius: u32, axis: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn reflect101(i: i32, n: i32) -> i32 {
  if (n == 1) { return 0; }
  var j = i;
  loop {
    if (j >= 0 && j < n) { break; }
    if (j < 0) { j = -j; }
    if (j >= n) { j = 2 * n - 2 - j; }
  }
  return j;
}

@compute @workgroup_size(64, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let horiz = p.axis == 0u;
  // Length of the pass axis, the other axis, and the element step along the pass axis.
  let len = i32(select(p.h, p.w, horiz));
  let other = select(p.w, p.h, horiz);
  let along = select(p.w, 1u, horiz);
  let across = select(1u, p.w, horiz);
  let t0 = i32(select(gid.y, gid.x, horiz)) * 4;
  let o = select(gid.x, gid.y, horiz);
  if (t0 >= len || o >= other || gid.z >= p.n) { return; }
  let base = gid.z * p.w * p.h + o * across;
  let r = i32(p.radius);
  var acc = vec4<f32>(0.0);
  if (t0 - r >= 0 && t0 + 3 + r < len) {
    var idx = base + u32(t0 - r) * along;
    var cur = vec4<f32>(0.0, src[idx], src[idx + along], src[idx + 2u * along]);
    idx += 3u * along;
    for (var k = 0u; k <= 2u * p.radius; k++) {
      cur = vec4<f32>(cur.yzw, src[idx]);
      idx += along;
      acc += weights[k] * cur;
    }
  } else {
    var cur = vec4<f32>(0.0, src[base + u32(reflect101(t0 - r, len)) * along],
                        src[base + u32(reflect101(t0 - r + 1, len)) * along],
                        src[base + u32(reflect101(t0 - r + 2, len)) * along]);
    for (var k = 0; k <= 2 * r; k++) {
      cur = vec4<f32>(cur.yzw, src[base + u32(reflect101(t0 - r + k + 3, len)) * along]);
      acc += weights[u32(k)] * cur;
    }
  }
  let out = base + u32(t0) * along;
  dst[out] = acc.x;
  if (t0 + 1 < len) { dst[out + along] = acc.y; }
  if (t0 + 2 < len) { dst[out + 2u * along] = acc.z; }
  if (t0 + 3 < len) { dst[out + 3u * along] = acc.w; }
}
