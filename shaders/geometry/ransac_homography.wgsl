// RANSAC homography hypotheses, batched over problems (frame pairs): every invocation draws one
// 4-point sample with PCG32 (seed from params, stream = hypothesis index, so the CPU twin draws
// the same), rejects degenerate samples (a collinear triple in either view, or a triple whose
// orientation (sign of the cross product) differs between the views; up to max_attempts draws),
// solves the DLT with h33 = 1 (8x8 Gaussian elimination, partial pivoting, f32) and counts the
// matches whose reprojection error in view b is below the threshold.
// Coordinates are pre-normalised per problem on the host (Hartley: centroid 0, mean radius
// sqrt 2), so H here maps normalised a to normalised b and thr2 is in normalised b units.
// pts:      (R, 4) f32 [xa, ya, xb, yb] for all problems' matches, concatenated
// problems: (P, 4) u32 [first row, M (0 = skip), bitcast(thr2), 0]
// counts:   (P, K) u32 inlier count of hypothesis first + k (0 when degenerate / skipped)
// hs:       (P, K, 9) f32 hypothesis homography, row-major (zeros when degenerate)
// Invocation mapping: k = gid.x (hypothesis within the batch), problem = gid.y.
// Twin: src/ref/geometry/ransac_homography.ts (f32 arithmetic, same operation order).
//!include common/pcg32.wgsl

struct Params { first: u32, count: u32, num_problems: u32, seed: u32, max_attempts: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> problems: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> hs: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const COLLINEAR_EPS: f32 = 1e-3;
const PIVOT_EPS: f32 = 1e-6;

fn cross3(a: vec2<f32>, b: vec2<f32>, c: vec2<f32>) -> f32 {
  let l = (b.x - a.x) * (c.y - a.y);
  let r = (b.y - a.y) * (c.x - a.x);
  return l - r;
}

// True when the sample's 4 triples are non-collinear and keep their orientation in both views.
fn sample_ok(s: array<vec4<f32>, 4>) -> bool {
  let tri = array<vec3<u32>, 4>(vec3<u32>(0u, 1u, 2u), vec3<u32>(0u, 1u, 3u), vec3<u32>(0u, 2u, 3u), vec3<u32>(1u, 2u, 3u));
  for (var t = 0u; t < 4u; t = t + 1u) {
    let i = tri[t];
    let ca = cross3(s[i.x].xy, s[i.y].xy, s[i.z].xy);
    let cb = cross3(s[i.x].zw, s[i.y].zw, s[i.z].zw);
    if (abs(ca) < COLLINEAR_EPS || abs(cb) < COLLINEAR_EPS || (ca > 0.0) != (cb > 0.0)) { return false; }
  }
  return true;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let pi = gid.y;
  if (k >= p.count || pi >= p.num_problems) { return; }
  let out = pi * p.count + k;
  let prob = problems[pi];
  let m = prob.y;
  let thr2 = bitcast<f32>(prob.z);
  counts[out] = 0u;
  for (var i = 0u; i < 9u; i = i + 1u) { hs[out * 9u + i] = 0.0; }
  if (m < 4u) { return; }

  var rng = pcg_new(p.seed, p.first + k);
  var s: array<vec4<f32>, 4>;
  var found = false;
  for (var attempt = 0u; attempt < p.max_attempts; attempt = attempt + 1u) {
    var idx = vec4<u32>(0u);
    for (var j = 0u; j < 4u; j = j + 1u) {
      loop {
        let x = pcg_below(&rng, m);
        var dup = false;
        for (var q = 0u; q < j; q = q + 1u) { if (idx[q] == x) { dup = true; } }
        if (!dup) { idx[j] = x; break; }
      }
    }
    for (var j = 0u; j < 4u; j = j + 1u) { s[j] = pts[prob.x + idx[j]]; }
    if (sample_ok(s)) { found = true; break; }
  }
  if (!found) { return; }

  // Augmented system (8 x 9): rows 2n, 2n+1 for correspondence n.
  var a: array<f32, 72>;
  for (var n = 0u; n < 4u; n = n + 1u) {
    let x = s[n].x;
    let y = s[n].y;
    let u = s[n].z;
    let v = s[n].w;
    let r0 = 18u * n;
    a[r0 + 0u] = x; a[r0 + 1u] = y; a[r0 + 2u] = 1.0; a[r0 + 3u] = 0.0; a[r0 + 4u] = 0.0; a[r0 + 5u] = 0.0;
    a[r0 + 6u] = -u * x; a[r0 + 7u] = -u * y; a[r0 + 8u] = u;
    let r1 = r0 + 9u;
    a[r1 + 0u] = 0.0; a[r1 + 1u] = 0.0; a[r1 + 2u] = 0.0; a[r1 + 3u] = x; a[r1 + 4u] = y; a[r1 + 5u] = 1.0;
    a[r1 + 6u] = -v * x; a[r1 + 7u] = -v * y; a[r1 + 8u] = v;
  }
  for (var c = 0u; c < 8u; c = c + 1u) {
    var piv = c;
    var best = abs(a[c * 9u + c]);
    for (var r = c + 1u; r < 8u; r = r + 1u) {
      let v = abs(a[r * 9u + c]);
      if (v > best) { best = v; piv = r; }
    }
    if (best < PIVOT_EPS) { return; }
    if (piv != c) {
      for (var q = c; q < 9u; q = q + 1u) {
        let t = a[c * 9u + q];
        a[c * 9u + q] = a[piv * 9u + q];
        a[piv * 9u + q] = t;
      }
    }
    let d = a[c * 9u + c];
    for (var r = c + 1u; r < 8u; r = r + 1u) {
      let f = a[r * 9u + c] / d;
      for (var q = c; q < 9u; q = q + 1u) {
        let t = f * a[c * 9u + q];
        a[r * 9u + q] = a[r * 9u + q] - t;
      }
    }
  }
  var h: array<f32, 9>;
  h[8] = 1.0;
  for (var ci = 0u; ci < 8u; ci = ci + 1u) {
    let c = 7u - ci;
    var acc = a[c * 9u + 8u];
    for (var q = c + 1u; q < 8u; q = q + 1u) {
      let t = a[c * 9u + q] * h[q];
      acc = acc - t;
    }
    h[c] = acc / a[c * 9u + c];
  }

  var cnt = 0u;
  for (var i = 0u; i < m; i = i + 1u) {
    let q = pts[prob.x + i];
    let w = h[6] * q.x + h[7] * q.y + 1.0;
    let u = (h[0] * q.x + h[1] * q.y + h[2]) / w;
    let v = (h[3] * q.x + h[4] * q.y + h[5]) / w;
    let du = u - q.z;
    let dv = v - q.w;
    if (du * du + dv * dv < thr2) { cnt = cnt + 1u; }
  }
  counts[out] = cnt;
  for (var i = 0u; i < 9u; i = i + 1u) { hs[out * 9u + i] = h[i]; }
}
