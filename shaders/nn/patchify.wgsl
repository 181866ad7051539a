// Patchify / unpatchify between images and patch tokens, patch size P, grid gh x gw (L = gh * gw):
//   imgs (B, 3, H, W) <-> x (B, L, P * P * 3), token l = row-major patch index (0 = top left).
// order 0 = MAE's patchify ('nchpwq->nhwpqc': feature (i * P + j) * 3 + c, the pixel-loss target);
// order 1 = conv-weight order (feature (c * P + i) * P + j, matching patch_embed.proj.weight
// (D, 3, P, P) flattened to (D, 3 P P), so the patch embedding is a Linear).
// Entry `patchify`: x from imgs; entry `unpatchify`: imgs from x (its exact inverse and, since it
// is a permutation, its adjoint: the backward of each is the other).
// One invocation per run of P pixels of one image row inside one patch (b, c, image row y, patch
// column pc): gid.x = y * gw + pc, gid.y = c, gid.z = b. Integer division by a runtime value is
// scalar per lane on lavapipe (no SIMD divide), so the index arithmetic is done once per P pixels
// instead of per pixel (one invocation per pixel made patchify 10x the cost of an add per element).

struct Params { B: u32, H: u32, W: u32, P: u32, order: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// Image element of the run's first pixel, token-feature offset of its patch row (i = y % P), and
// the feature stride between consecutive pixels j: f = base + j * step.
struct Run { img: u32, tok: u32, step: u32 }

fn run_of(gid: vec3u) -> Run {
  let gw = p.W / p.P;
  let y = gid.x / gw;
  let pc = gid.x % gw;
  let i = y % p.P;
  let l = (y / p.P) * gw + pc;
  let L = (p.H / p.P) * gw;
  let F = p.P * p.P * 3u;
  let b = gid.z;
  let c = gid.y;
  let img = ((b * 3u + c) * p.H + y) * p.W + pc * p.P;
  // order 0: f = (i * P + j) * 3 + c; order 1: f = (c * P + i) * P + j.
  let f0 = select(i * p.P * 3u + c, (c * p.P + i) * p.P, p.order == 1u);
  return Run(img, (b * L + l) * F + f0, select(3u, 1u, p.order == 1u));
}

@compute @workgroup_size(64)
fn patchify(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.H * (p.W / p.P)) { return; }
  let r = run_of(gid);
  for (var j = 0u; j < p.P; j++) { dst[r.tok + j * r.step] = src[r.img + j]; }
}

@compute @workgroup_size(64)
fn unpatchify(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.H * (p.W / p.P)) { return; }
  let r = run_of(gid);
  for (var j = 0u; j < p.P; j++) { dst[r.img + j] = src[r.tok + j * r.step]; }
}
