// Bilinear resize of a batch of f32 planes, half-pixel centres (OpenCV INTER_LINEAR / PyTorch
// align_corners=False without antialiasing), clamped at the border.
// src: (N, sh, sw) f32, dst: (N, dh, dw) f32.
// One invocation per output pixel: gid.x = x, gid.y = y, gid.z = plane.

struct Params { sw: u32, sh: u32, dw: u32, dh: u32, n: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= p.dw || gid.y >= p.dh || gid.z >= p.n) { return; }
  let sx = max((f32(gid.x) + 0.5) * (f32(p.sw) / f32(p.dw)) - 0.5, 0.0);
  let sy = max((f32(gid.y) + 0.5) * (f32(p.sh) / f32(p.dh)) - 0.5, 0.0);
  let x0 = min(u32(floor(sx)), p.sw - 1u);
  let y0 = min(u32(floor(sy)), p.sh - 1u);
  let x1 = min(x0 + 1u, p.sw - 1u);
  let y1 = min(y0 + 1u, p.sh - 1u);
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let base = gid.z * p.sw * p.sh;
  let a = src[base + y0 * p.sw + x0];
  let b = src[base + y0 * p.sw + x1];
  let c = src[base + y1 * p.sw + x0];
  let d = src[base + y1 * p.sw + x1];
  let top = a + (b - a) * fx;
  let bot = c + (d - c) * fx;
  dst[gid.z * p.dw * p.dh + gid.y * p.dw + gid.x] = top + (bot - top) * fy;
}
