// Patchify / unpatchify between images and patch tokens, patch size P, grid gh x gw (L = gh * gw):
//   imgs (B, 3, H, W) <-> x (B, L, P * P * 3), token l = row-major patch index (0 = top left).
// order 0 = MAE's patchify ('nchpwq->nhwpqc': feature (i * P + j) * 3 + c, the pixel-loss target);
// order 1 = conv-weight order (feature (c * P + i) * P + j, matching patch_embed.proj.weight
// (D, 3, P, P) flattened to (D, 3 P P), so the patch embedding is a Linear).
// Entry `patchify`: x from imgs; entry `unpatchify`: imgs from x (its exact inverse and, since it
// is a permutation, its adjoint: the backward of each is the other).
// One invocation per image element: gid.x = pixel in plane (y * W + x), gid.y = c, gid.z = b.

struct Params { B: u32, H: u32, W: u32, P: u32, order: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn token_index(b: u32, c: u32, y: u32, x: u32) -> u32 {
  let gw = p.W / p.P;
  let l = (y / p.P) * gw + x / p.P;
  let i = y % p.P;
  let j = x % p.P;
  let L = (p.H / p.P) * gw;
  let F = p.P * p.P * 3u;
  let f = select((i * p.P + j) * 3u + c, (c * p.P + i) * p.P + j, p.order == 1u);
  return (b * L + l) * F + f;
}

@compute @workgroup_size(64)
fn patchify(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.H * p.W) { return; }
  let y = gid.x / p.W;
  let x = gid.x % p.W;
  dst[token_index(gid.z, gid.y, y, x)] = src[((gid.z * 3u + gid.y) * p.H + y) * p.W + x];
}

@compute @workgroup_size(64)
fn unpatchify(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.H * p.W) { return; }
  let y = gid.x / p.W;
  let x = gid.x % p.W;
  dst[((gid.z * 3u + gid.y) * p.H + y) * p.W + x] = src[token_index(gid.z, gid.y, y, x)];
}
