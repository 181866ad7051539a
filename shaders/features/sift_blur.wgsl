// One pass of the separable Gaussian blur of SIFT's scale space, register-blocked: each invocation
// computes 8 consecutive outputs along the pass axis with a sliding window (one load per tap for
// 8 outputs). Same arithmetic as image/gaussian_blur.wgsl: taps in order -r..r, reflect-101 border.
// src: (N, H, W) f32, weights: (2R+1) f32 normalised taps, dst: (N, H, W) f32.
// Both axes: gid.x = index across the pass axis (y for the horizontal pass, x for the vertical),
// gid.y = position along it / 8, gid.z = plane. So the 8 lanes of an llvmpipe vector share their
// position along the pass axis and take the border branch together: with x / 8 on gid.x the
// horizontal pass ran both branches on half its vectors and was 2x slower than the vertical one.
// CPU twin: siftBlurPassRef in src/ref/features/sift.ts.

struct Params { w: u32, h: u32, n: u32, radius: u32, axis: u32 } // radius: = RADIUS (informational)

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

//!include common/reflect101.wgsl

// Outputs per invocation along the pass axis (8: two vec4 accumulators, one load per tap).
const OUT: i32 = 8;
// Tap radius as a pipeline constant (one pipeline per radius), so the tap loop has a fixed trip
// count the compiler unrolls: 2x faster on lavapipe than a radius read from the params.
override RADIUS: u32 = 1u;

@compute @workgroup_size(64, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let horiz = p.axis == 0u;
  // Length of the pass axis, the other axis, and the element steps along / across it.
  let len = i32(select(p.h, p.w, horiz));
  let other = select(p.w, p.h, horiz);
  let along = select(p.w, 1u, horiz);
  let across = select(1u, p.w, horiz);
  let t0 = i32(gid.y) * OUT;
  let o = gid.x;
  if (t0 >= len || o >= other || gid.z >= p.n) { return; }
  let base = gid.z * p.w * p.h + o * across;
  let r = i32(RADIUS);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  // Sliding window of OUT samples: lo = s[k..k+3], hi = s[k+4..k+7] for tap k.
  if (t0 - r >= 0 && t0 + OUT - 1 + r < len) {
    var idx = base + u32(t0 - r) * along;
    var lo = vec4<f32>(0.0, src[idx], src[idx + along], src[idx + 2u * along]);
    var hi = vec4<f32>(src[idx + 3u * along], src[idx + 4u * along], src[idx + 5u * along], src[idx + 6u * along]);
    idx += 7u * along;
    for (var k = 0u; k <= 2u * RADIUS; k++) {
      lo = vec4<f32>(lo.yzw, hi.x);
      hi = vec4<f32>(hi.yzw, src[idx]);
      idx += along;
      let wk = weights[k];
      acc0 += wk * lo;
      acc1 += wk * hi;
    }
  } else {
    let at = t0 - r;
    var lo = vec4<f32>(0.0, src[base + u32(reflect101(at, len)) * along],
                       src[base + u32(reflect101(at + 1, len)) * along],
                       src[base + u32(reflect101(at + 2, len)) * along]);
    var hi = vec4<f32>(src[base + u32(reflect101(at + 3, len)) * along],
                       src[base + u32(reflect101(at + 4, len)) * along],
                       src[base + u32(reflect101(at + 5, len)) * along],
                       src[base + u32(reflect101(at + 6, len)) * along]);
    for (var k = 0; k <= 2 * r; k++) {
      lo = vec4<f32>(lo.yzw, hi.x);
      hi = vec4<f32>(hi.yzw, src[base + u32(reflect101(at + k + 7, len)) * along]);
      let wk = weights[u32(k)];
      acc0 += wk * lo;
      acc1 += wk * hi;
    }
  }
  let out = base + u32(t0) * along;
  let res = array<f32, 8>(acc0.x, acc0.y, acc0.z, acc0.w, acc1.x, acc1.y, acc1.z, acc1.w);
  for (var j = 0; j < OUT; j++) {
    if (t0 + j < len) { dst[out + u32(j) * along] = res[j]; }
  }
}
