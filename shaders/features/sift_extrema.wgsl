// SIFT extremum detection in one octave: samples of DoG layers 1..L whose |value| exceeds the
// pre-threshold and that are >= (maxima) or <= (minima) all 26 neighbours in the 3x3x3 cube
// (OpenCV's findScaleSpaceExtrema test), away from a border of `border` px. Marks each extremum in
// the flag map `claim` (bit 0; sift_refine.wgsl visits every sample and refines the marked ones)
// and counts them, and appends the sample's flag-map index (relative to claim_base) to this
// octave's list, which sift_refine.wgsl visits (dispatched indirectly: workgroups of 64 over the
// list). The list has one slot per sample, so it cannot overflow (straight edges of synthetic
// images give ridges of equal DoG samples, i.e. many thousands of extrema, almost all rejected as
// edges later); its order varies from run to run, the set of entries does not.
// dog: (L+2, stride) f32, each level (N, h, w) padded to `stride` floats.
// claim: (L, N, h, w) u32 at claim_base (zeroed before the batch), raw_counts: (N, n_oct) atomic u32,
// list: (L * N * h * w) u32 at claim_base, list_len: (n_oct) atomic u32 (zeroed before the batch),
// args: indirect triples; x at `arg` is raised to the refine pass's workgroups.
// CPU twin: detectRef in src/ref/features/sift.ts.

struct Params {
  w: u32, h: u32, n: u32, layers: u32,
  octave: u32, n_oct: u32, claim_base: u32, stride: u32,
  border: u32, thr: f32, arg: u32,
}

@group(0) @binding(0) var<storage, read> dog: array<f32>;
@group(0) @binding(1) var<storage, read_write> claim: array<u32>;
@group(0) @binding(2) var<storage, read_write> raw_counts: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> list: array<u32>;
@group(0) @binding(4) var<storage, read_write> list_len: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> args: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> p: Params;

// Samples per invocation, consecutive along a row (a sliding 3 x 10 window of the own layer).
const RUN: u32 = 8u;

// Marks one extremum (see the header).
fn mark(b: u32, layer: u32, r: u32, c: u32) {
  let key = (((layer - 1u) * p.n + b) * p.h + r) * p.w + c;
  claim[p.claim_base + key] = 1u;
  atomicAdd(&raw_counts[b * p.n_oct + p.octave], 1u);
  let at = atomicAdd(&list_len[p.octave], 1u);
  list[p.claim_base + at] = key;
  atomicMax(&args[p.arg], min(at / 64u + 1u, 65535u));
}

// Whether `val` is >= (> 0) or <= (< 0) the 9 samples of the layer at `j` around (r, c).
fn beats_layer(j: u32, w: u32, val: f32) -> bool {
  var hi = -3.4e38;
  var lo = 3.4e38;
  for (var dy = 0u; dy < 3u; dy++) {
    let q = j + dy * w - w;
    hi = max(hi, max(max(dog[q - 1u], dog[q]), dog[q + 1u]));
    lo = min(lo, min(min(dog[q - 1u], dog[q]), dog[q + 1u]));
  }
  return (val > 0.0 && val >= hi) || (val < 0.0 && val <= lo);
}

// One invocation per run of RUN samples of a row: gid.x = r, gid.y = c / RUN, gid.z = (layer - 1)
// * N + image. The 8 lanes of an llvmpipe vector are 8 rows at the same columns, so they share the
// border tests. The own layer's 3x3 test for the whole run comes from 30 loads (one per sample of
// the window, not 9 per sample); the few survivors then check the layers below and above.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let bd = p.border;
  let r = gid.x;
  let c0 = gid.y * RUN;
  if (r < bd || r + bd >= p.h || c0 + bd >= p.w || c0 + RUN <= bd || gid.z >= p.layers * p.n) { return; }
  let b = gid.z % p.n;
  let layer = gid.z / p.n + 1u;
  let row = layer * p.stride + b * p.h * p.w + r * p.w;
  // Window columns c0 - 1 .. c0 + RUN (clamped into the row; clamped values only reach samples
  // in the border, which are skipped).
  let last = p.w - 1u;
  var up: array<f32, 10>;
  var mid: array<f32, 10>;
  var dn: array<f32, 10>;
  for (var k = 0u; k < RUN + 2u; k++) {
    let c = min(max(c0 + k, 1u) - 1u, last);
    up[k] = dog[row - p.w + c];
    mid[k] = dog[row + c];
    dn[k] = dog[row + p.w + c];
  }
  for (var k = 0u; k < RUN; k++) {
    let c = c0 + k;
    let val = mid[k + 1u];
    if (c < bd || c + bd >= p.w || !(abs(val) > p.thr)) { continue; }
    let hi = max(max(max(up[k], up[k + 1u]), max(up[k + 2u], mid[k])),
                 max(max(mid[k + 2u], dn[k]), max(dn[k + 1u], dn[k + 2u])));
    let lo = min(min(min(up[k], up[k + 1u]), min(up[k + 2u], mid[k])),
                 min(min(mid[k + 2u], dn[k]), min(dn[k + 1u], dn[k + 2u])));
    if (!((val > 0.0 && val >= hi) || (val < 0.0 && val <= lo))) { continue; }
    let i = row + c;
    if (beats_layer(i - p.stride, p.w, val) && beats_layer(i + p.stride, p.w, val)) { mark(b, layer, r, c); }
  }
}
