// SIFT orientation assignment for one octave's candidates (OpenCV's calcOrientationHist and peak
// search): a Gaussian-weighted (sigma 1.5 scale, radius 4.5 scale) histogram of gradient
// directions on the keypoint's Gaussian level, smoothed with [1 4 6 4 1]/16; one output keypoint
// per local peak >= peak_ratio * max, its angle refined by a parabola through the peak.
// gauss: (L+3, stride) f32 (levels (N, h, w) padded to `stride`), cands: (N, n_oct, cap, 12),
// cand_counts: (N, n_oct) u32, out: (N, cap, 12) keypoint records, out_counts: (N) atomic u32
// (may exceed cap: overflow count), out_octave_counts: (N, n_oct) atomic u32 (records per octave,
// appended or not: sift_select keeps only the octaves that fitted whole).
// An octave whose candidate list overflowed (cand_counts > cap) is skipped whole: which
// candidates made it into the list depended on invocation order.
// Dispatched indirectly (x from sift_refine). One workgroup of 16 per candidate (wid.x = candidate,
// wid.y = image): the invocations take every 16th row of the window into private histograms,
// summed in workgroup memory; invocation 0 smooths and finds the peaks.
// CPU twin: orientationRef in src/ref/features/sift.ts.
//!include features/fast_atan2.wgsl

struct Params {
  w: u32, h: u32, n: u32, octave: u32,
  n_oct: u32, cap: u32, stride: u32, bins: u32,
  peak_ratio: f32, ori_radius: f32, ori_sig: f32,
}

@group(0) @binding(0) var<storage, read> gauss: array<f32>;
@group(0) @binding(1) var<storage, read> cands: array<f32>;
@group(0) @binding(2) var<storage, read> cand_counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_counts: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> out_octave_counts: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> p: Params;

const WG: i32 = 16;
var<workgroup> partial: array<f32, 1024>; // (WG, 64) per-invocation histograms
var<workgroup> tmp: array<f32, 64>;

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.y;
  let slot = b * p.n_oct + p.octave;
  // Uniform per workgroup: the whole workgroup returns together.
  if (b >= p.n || cand_counts[slot] > p.cap || wid.x >= cand_counts[slot]) { return; }
  let ci = (slot * p.cap + wid.x) * 12u;
  let layer = u32(cands[ci + 6u]);
  let r = i32(cands[ci + 7u]);
  let c = i32(cands[ci + 8u]);
  let scl = cands[ci + 11u];
  let radius = i32(round(p.ori_radius * scl));
  let sigma = p.ori_sig * scl;
  let exp_scale = -1.0 / (2.0 * (sigma * sigma));
  let base = layer * p.stride + b * p.h * p.w;
  let w = i32(p.w);
  let h = i32(p.h);
  let nb = i32(p.bins);
  let bin_scale = f32(p.bins) / 360.0;

  var own: array<f32, 64>;
  let y0 = max(r - radius, 1);
  let y1 = min(r + radius, h - 2);
  let x0 = max(c - radius, 1);
  let x1 = min(c + radius, w - 2);
  for (var y = y0 + i32(lid); y <= y1; y += WG) {
    let i = y - r;
    let row = base + u32(y * w);
    for (var x = x0; x <= x1; x++) {
      let j = x - c;
      let dx = gauss[row + u32(x + 1)] - gauss[row + u32(x - 1)];
      let dy = gauss[row - p.w + u32(x)] - gauss[row + p.w + u32(x)];
      let wt = exp(f32(i * i + j * j) * exp_scale);
      let mag = sqrt(dx * dx + dy * dy);
      var bin = i32(round(bin_scale * fast_atan2(dy, dx)));
      if (bin >= nb) { bin -= nb; }
      if (bin < 0) { bin += nb; }
      own[bin] += wt * mag;
    }
  }
  for (var k = 0; k < nb; k++) { partial[lid * 64u + u32(k)] = own[k]; }
  workgroupBarrier();
  for (var k = i32(lid); k < nb; k += WG) {
    var a = 0.0;
    for (var t = 0u; t < u32(WG); t++) { a += partial[t * 64u + u32(k)]; }
    tmp[k] = a;
  }
  workgroupBarrier();
  if (lid != 0u) { return; }
  var hist: array<f32, 64>;
  var omax = 0.0;
  for (var k = 0; k < nb; k++) {
    let m2 = tmp[(k + nb - 2) % nb];
    let m1 = tmp[(k + nb - 1) % nb];
    let p1 = tmp[(k + 1) % nb];
    let p2 = tmp[(k + 2) % nb];
    hist[k] = ((m2 + p2) * (1.0 / 16.0) + (m1 + p1) * (4.0 / 16.0)) + tmp[k] * (6.0 / 16.0);
    if (k == 0) { omax = hist[0]; } else { omax = max(omax, hist[k]); }
  }
  let thr = omax * p.peak_ratio;
  for (var j = 0; j < nb; j++) {
    let l = select(nb - 1, j - 1, j > 0);
    let r2 = select(0, j + 1, j < nb - 1);
    if (hist[j] > hist[l] && hist[j] > hist[r2] && hist[j] >= thr) {
      var bin = f32(j) + (0.5 * (hist[l] - hist[r2])) / ((hist[l] - 2.0 * hist[j]) + hist[r2]);
      if (bin < 0.0) { bin = f32(nb) + bin; } else if (bin >= f32(nb)) { bin = bin - f32(nb); }
      var angle = 360.0 - (360.0 / f32(nb)) * bin;
      if (abs(angle - 360.0) < 1.1920928955078125e-7) { angle = 0.0; }
      atomicAdd(&out_octave_counts[slot], 1u);
      let idx = atomicAdd(&out_counts[b], 1u);
      if (idx < p.cap) {
        let o = (b * p.cap + idx) * 12u;
        for (var q = 0u; q < 12u; q++) { out[o + q] = cands[ci + q]; }
        out[o + 3u] = angle;
      }
    }
  }
}
