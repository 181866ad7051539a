// Image pyramid step: halve a batch of f32 planes. Output size max(1, floor(W/2)) x max(1, floor(H/2)).
// mode 0: take pixel (2x, 2y) (SIFT's octave step: OpenCV resizes the blurred level with
// INTER_NEAREST); mode 1: mean of the 2x2 block (clamped at the border).
// src: (N, H, W) f32, dst: (N, H2, W2) f32.
// One invocation per output pixel: gid.x = x, gid.y = y, gid.z = plane.

struct Params { w: u32, h: u32, n: u32, mode: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w2 = max(1u, p.w / 2u);
  let h2 = max(1u, p.h / 2u);
  if (gid.x >= w2 || gid.y >= h2 || gid.z >= p.n) { return; }
  let base = gid.z * p.w * p.h;
  let x0 = min(2u * gid.x, p.w - 1u);
  let y0 = min(2u * gid.y, p.h - 1u);
  var v = src[base + y0 * p.w + x0];
  if (p.mode == 1u) {
    let x1 = min(x0 + 1u, p.w - 1u);
    let y1 = min(y0 + 1u, p.h - 1u);
    v = 0.25 * (v + src[base + y0 * p.w + x1] + src[base + y1 * p.w + x0] + src[base + y1 * p.w + x1]);
  }
  dst[gid.z * w2 * h2 + gid.y * w2 + gid.x] = v;
}
