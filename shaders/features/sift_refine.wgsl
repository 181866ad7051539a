// SIFT keypoint refinement in one octave (after sift_extrema.wgsl): Newton refinement of
// (x, y, scale) for up to max_steps steps (OpenCV's adjustLocalExtrema), contrast and edge
// (principal-curvature) rejection, and de-duplication: candidates that converge to the same
// (layer, r, c) are identical records, so whichever sets the 'taken' bit of that sample first
// writes the one copy (the set of records does not depend on which invocation wins; their order
// in `cands` does, and nothing downstream depends on that order: sift_select.wgsl).
// dog: (L+2, stride) f32, each level (N, h, w) padded to `stride` floats.
// claim: (L, N, h, w) u32 at claim_base (zeroed before the batch): bit 0 = extremum (set by
// sift_extrema.wgsl), bit 1 = taken (set here). counts: (N, n_oct) atomic u32 (may exceed cap:
// overflow count), cands: (N, n_oct, cap, 12) f32 keypoint records (layout: KP in
// src/ref/features/config.ts), args: indirect dispatch triples; x at `arg` is raised to the
// candidate count (sift_orientation runs one workgroup per candidate).
// list: (L * N * h * w) u32 at claim_base, the flag-map indices of this octave's extrema, list_len:
// (n_oct) u32 their number (both from sift_extrema.wgsl). One invocation per list entry, dispatched
// indirectly (workgroups of 64 over the list; gid.x + gid.y * 65535 * 64 = entry). Visiting every
// sample of the octave to find the flagged ones instead cost ~7 ms per 224x224 image (upsampled)
// on lavapipe.
// CPU twin: refineRef (via extremaRef) in src/ref/features/sift.ts.

struct Params {
  w: u32, h: u32, n: u32, layers: u32,
  octave: u32, n_oct: u32, cap: u32, max_steps: u32,
  stride: u32, claim_base: u32, border: u32, pad0: u32,
  thr: f32, contrast: f32, edge: f32, sigma: f32,
  to_input: f32, arg: u32,
}

@group(0) @binding(0) var<storage, read> dog: array<f32>;
@group(0) @binding(1) var<storage, read_write> claim: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> cands: array<f32>;
@group(0) @binding(4) var<storage, read_write> args: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read> list: array<u32>;
@group(0) @binding(6) var<storage, read> list_len: array<u32>;
@group(0) @binding(7) var<uniform> p: Params;

var<private> img_base: u32;

fn at(l: i32, y: i32, x: i32) -> f32 {
  return dog[u32(l) * p.stride + img_base + u32(y) * p.w + u32(x)];
}

struct Deriv { d: vec3<f32>, dxx: f32, dyy: f32, dss: f32, dxy: f32, dxs: f32, dys: f32 }

fn deriv(l: i32, r: i32, c: i32) -> Deriv {
  var o: Deriv;
  let v2 = at(l, r, c) * 2.0;
  o.d = vec3<f32>((at(l, r, c + 1) - at(l, r, c - 1)) * 0.5,
                  (at(l, r + 1, c) - at(l, r - 1, c)) * 0.5,
                  (at(l + 1, r, c) - at(l - 1, r, c)) * 0.5);
  o.dxx = (at(l, r, c + 1) + at(l, r, c - 1)) - v2;
  o.dyy = (at(l, r + 1, c) + at(l, r - 1, c)) - v2;
  o.dss = (at(l + 1, r, c) + at(l - 1, r, c)) - v2;
  o.dxy = (((at(l, r + 1, c + 1) - at(l, r + 1, c - 1)) - at(l, r - 1, c + 1)) + at(l, r - 1, c - 1)) * 0.25;
  o.dxs = (((at(l + 1, r, c + 1) - at(l + 1, r, c - 1)) - at(l - 1, r, c + 1)) + at(l - 1, r, c - 1)) * 0.25;
  o.dys = (((at(l + 1, r + 1, c) - at(l + 1, r - 1, c)) - at(l - 1, r + 1, c)) + at(l - 1, r - 1, c)) * 0.25;
  return o;
}

// H x = b by Gaussian elimination with partial pivoting (same steps as solve3 in the twin).
// Returns x, or 0 when the system is singular (as OpenCV's Matx::solve).
fn solve3(H: array<f32, 9>, b: vec3<f32>) -> vec3<f32> {
  var A = H;
  var B = array<f32, 3>(b.x, b.y, b.z);
  let eps = 1.1920928955078125e-6;
  for (var i = 0; i < 3; i++) {
    var k = i;
    for (var j = i + 1; j < 3; j++) { if (abs(A[j * 3 + i]) > abs(A[k * 3 + i])) { k = j; } }
    if (abs(A[k * 3 + i]) < eps) { return vec3<f32>(0.0); }
    if (k != i) {
      for (var j = 0; j < 3; j++) { let t = A[i * 3 + j]; A[i * 3 + j] = A[k * 3 + j]; A[k * 3 + j] = t; }
      let t = B[i]; B[i] = B[k]; B[k] = t;
    }
    let d = -1.0 / A[i * 3 + i];
    for (var j = i + 1; j < 3; j++) {
      let alpha = A[j * 3 + i] * d;
      for (var c = i + 1; c < 3; c++) { A[j * 3 + c] = A[j * 3 + c] + alpha * A[i * 3 + c]; }
      B[j] = B[j] + alpha * B[i];
    }
  }
  var x = array<f32, 3>(0.0, 0.0, 0.0);
  for (var i = 2; i >= 0; i--) {
    var s = B[i];
    for (var c = i + 1; c < 3; c++) { s = s - A[i * 3 + c] * x[c]; }
    x[i] = s / A[i * 3 + i];
  }
  return vec3<f32>(x[0], x[1], x[2]);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let len = list_len[p.octave];
  for (var e = gid.x; e < len; e += nwg.x * 64u) { refine(list[p.claim_base + e]); }
}

// Refines the extremum at flag-map index `key` (relative to claim_base) and appends its record.
fn refine(key: u32) {
  let plane = key / (p.w * p.h); // (layer - 1) * N + image
  let rc = key % (p.w * p.h);
  let b = plane % p.n;
  let slot = b * p.n_oct + p.octave;
  img_base = b * p.h * p.w;
  var layer = i32(plane / p.n + 1u);
  var r = i32(rc / p.w);
  var c = i32(rc % p.w);
  let bd = p.border;
  // Newton refinement.
  let L = i32(p.layers);
  let B = i32(bd);
  var xi = 0.0;
  var xr = 0.0;
  var xc = 0.0;
  var i = 0u;
  for (; i < p.max_steps; i++) {
    let D = deriv(layer, r, c);
    let X = solve3(array<f32, 9>(D.dxx, D.dxy, D.dxs, D.dxy, D.dyy, D.dys, D.dxs, D.dys, D.dss), D.d);
    xi = -X.z;
    xr = -X.y;
    xc = -X.x;
    if (abs(xi) < 0.5 && abs(xr) < 0.5 && abs(xc) < 0.5) { break; }
    if (abs(xi) > 1e6 || abs(xr) > 1e6 || abs(xc) > 1e6) { return; }
    c += i32(round(xc));
    r += i32(round(xr));
    layer += i32(round(xi));
    if (layer < 1 || layer > L || c < B || c >= i32(p.w) - B || r < B || r >= i32(p.h) - B) { return; }
  }
  if (i >= p.max_steps) { return; }
  let D = deriv(layer, r, c);
  let t = (D.d.x * xc + D.d.y * xr) + D.d.z * xi;
  let contr = at(layer, r, c) + t * 0.5;
  if (abs(contr) * f32(L) < p.contrast) { return; }
  let tr = D.dxx + D.dyy;
  let det = D.dxx * D.dyy - D.dxy * D.dxy;
  let e = p.edge;
  if (det <= 0.0 || (tr * tr) * e >= ((e + 1.0) * (e + 1.0)) * det) { return; }

  // De-duplicate, then append.
  let taken = p.claim_base + ((u32(layer - 1) * p.n + b) * p.h + u32(r)) * p.w + u32(c);
  if ((atomicOr(&claim[taken], 2u) & 2u) != 0u) { return; }
  let idx = atomicAdd(&counts[slot], 1u);
  if (idx >= p.cap) { return; }
  atomicMax(&args[p.arg], idx + 1u); // sift_orientation: one workgroup per candidate
  let xo = f32(c) + xc;
  let yo = f32(r) + xr;
  let scl = p.sigma * exp2((f32(layer) + xi) / f32(L));
  let o = (slot * p.cap + idx) * 12u;
  cands[o + 0u] = xo * p.to_input;
  cands[o + 1u] = yo * p.to_input;
  cands[o + 2u] = scl * 2.0 * p.to_input;
  cands[o + 3u] = 0.0;
  cands[o + 4u] = abs(contr);
  cands[o + 5u] = f32(p.octave);
  cands[o + 6u] = f32(layer);
  cands[o + 7u] = f32(r);
  cands[o + 8u] = f32(c);
  cands[o + 9u] = xo;
  cands[o + 10u] = yo;
  cands[o + 11u] = scl;
}
