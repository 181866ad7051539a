// Patch correspondences through homographies (MIMIC's find_corres_patch with a fixed sample grid):
// for every patch of the source view, the patch of the other view that the majority of its
// sample pixels map to through H, or -1 ("out") when the majority leaves the image.
// Samples: s x s pixels per patch (s <= 16) at integer pixel coordinates x0 + ((2 i + 1) patch) / (2 s)
// (2, 6, 10, 14 for 16 px patches, s = 4; every pixel for s = patch = 16), visited row by row. Majority as MIMIC's find_majority:
// "out" is a candidate too, and on equal counts the candidate that reached the count first wins.
// A sample is out when u < 0, v < 0, u >= width, v >= height (or it falls in a partial patch
// past the grid). Patch index = row * ncols + col from the top left.
// hs:  (N, 9) f32 row-major homographies (e.g. N = 2 B: H and H^-1 of B pairs)
// out: (N, P) i32, P = ncols * nrows
// Invocation mapping: gid.x = source patch, gid.y = homography.
// Twin: src/ref/geometry/patch_corr.ts.

struct Params { width: u32, height: u32, psize: u32, ncols: u32, nrows: u32, samples: u32, num_h: u32, pad0: u32 }

@group(0) @binding(0) var<storage, read> hs: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let np = p.ncols * p.nrows;
  let pi = gid.x;
  let hi = gid.y;
  if (pi >= np || hi >= p.num_h) { return; }
  let b = hi * 9u;
  let h0 = hs[b]; let h1 = hs[b + 1u]; let h2 = hs[b + 2u];
  let h3 = hs[b + 3u]; let h4 = hs[b + 4u]; let h5 = hs[b + 5u];
  let h6 = hs[b + 6u]; let h7 = hs[b + 7u]; let h8 = hs[b + 8u];
  let x0 = (pi % p.ncols) * p.psize;
  let y0 = (pi / p.ncols) * p.psize;
  let fw = f32(p.width);
  let fh = f32(p.height);

  // Targets of the n <= 256 samples; the majority is counted in a small table of distinct targets
  // (a patch rarely spans more than a few), falling back to the quadratic count if it fills up.
  var vals: array<i32, 256>;
  var tv: array<i32, 16>;
  var tc: array<u32, 16>;
  var nt = 0u;
  var full = false;
  var best = -1;
  var best_c = 0u;
  let n = p.samples * p.samples;
  for (var k = 0u; k < n; k = k + 1u) {
    let sx = k % p.samples;
    let sy = k / p.samples;
    let x = f32(x0 + ((2u * sx + 1u) * p.psize) / (2u * p.samples));
    let y = f32(y0 + ((2u * sy + 1u) * p.psize) / (2u * p.samples));
    let w = h6 * x + h7 * y + h8;
    let u = (h0 * x + h1 * y + h2) / w;
    let v = (h3 * x + h4 * y + h5) / w;
    var t = -1;
    // The negated form also sends NaN (w = 0) out.
    if (!(u < 0.0 || v < 0.0 || u >= fw || v >= fh) && u == u && v == v) {
      let col = u32(u) / p.psize;
      let row = u32(v) / p.psize;
      if (col < p.ncols && row < p.nrows) { t = i32(row * p.ncols + col); }
    }
    vals[k] = t;
    if (!full) {
      var j = 0u;
      while (j < nt && tv[j] != t) { j = j + 1u; }
      if (j == nt) {
        if (nt == 16u) { full = true; } else { tv[j] = t; tc[j] = 0u; nt = nt + 1u; }
      }
      if (!full) {
        tc[j] = tc[j] + 1u;
        if (tc[j] > best_c) { best_c = tc[j]; best = t; }
      }
    }
  }
  if (full) {
    best = -1;
    best_c = 0u;
    for (var k = 0u; k < n; k = k + 1u) {
      let v = vals[k];
      var c = 0u;
      for (var q = 0u; q <= k; q = q + 1u) { if (vals[q] == v) { c = c + 1u; } }
      if (c > best_c) { best_c = c; best = v; }
    }
  }
  out[hi * np + pi] = best;
}
