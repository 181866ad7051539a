// head_transpose.wgsl in 4 x 4 blocks (4 tokens x 4 head channels) for vec4-aligned views (dh, off,
// sb, sl multiples of 4; ld is): one invocation reads four vec4 (one per token, channels d .. d + 3)
// and writes four vec4 (one per channel, tokens l .. l + 3): 8 lane-by-lane expansions on llvmpipe
// per 16 elements instead of 32.
//   dst[((b * H + h) * dh + d) * ld + l] = src[off + b * sb + l * sl + h * dh + d]
// Tokens past L (the last block of a ragged L) are written as 0 into dst's row padding.
// gid.x = token block, gid.y = channel block, gid.z = b * H + h.

struct Params { L: u32, H: u32, dh: u32, off: u32, sb: u32, sl: u32, ld: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let l0 = 4u * gid.x;
  let d0 = 4u * gid.y;
  if (l0 >= p.L || d0 >= p.dh) { return; }
  let b = gid.z / p.H;
  let h = gid.z % p.H;
  let s = (p.off + b * p.sb + h * p.dh + d0) / 4u;
  let sl4 = p.sl / 4u;
  let last = p.L - 1u;
  // Tokens past L read the last token (in bounds) and are zeroed before the store.
  let x0 = src[s + l0 * sl4];
  let x1 = select(vec4f(0.0), src[s + min(l0 + 1u, last) * sl4], l0 + 1u < p.L);
  let x2 = select(vec4f(0.0), src[s + min(l0 + 2u, last) * sl4], l0 + 2u < p.L);
  let x3 = select(vec4f(0.0), src[s + min(l0 + 3u, last) * sl4], l0 + 3u < p.L);
  let d = ((gid.z * p.dh + d0) * p.ld + l0) / 4u;
  let dr = p.ld / 4u;
  dst[d] = vec4f(x0.x, x1.x, x2.x, x3.x);
  dst[d + dr] = vec4f(x0.y, x1.y, x2.y, x3.y);
  dst[d + 2u * dr] = vec4f(x0.z, x1.z, x2.z, x3.z);
  dst[d + 3u * dr] = vec4f(x0.w, x1.w, x2.w, x3.w);
}
