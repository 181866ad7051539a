// Attention helper: copy one of Q/K/V out of a token-major tensor into per-head transposed form,
//   dst[((b * H + h) * dh + d) * ld + l] = src[off + b * sb + l * sl + h * dh + d]
// i.e. (B, L, [.., H, dh, ..]) -> (B, H, dh, ld), so K^T and V^T become row-major matmul B operands.
// ld >= L is the row length of dst: L rounded up to 4 so the vec4 matmul kernels read them (the
// padding columns are never written and stay 0).
// For self-attention src is qkv (B, L, 3D) with sl = 3D and off = D (K) or 2D (V); for
// cross-attention a (B, L, D) projection with sl = D. One invocation per element:
// gid.x = l, gid.y = d, gid.z = b * H + h.

struct Params { L: u32, H: u32, dh: u32, off: u32, sb: u32, sl: u32, ld: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let l = gid.x;
  let d = gid.y;
  if (l >= p.L || d >= p.dh) { return; }
  let b = gid.z / p.H;
  let h = gid.z % p.H;
  dst[(gid.z * p.dh + d) * p.ld + l] = src[p.off + b * p.sb + l * p.sl + h * p.dh + d];
}
