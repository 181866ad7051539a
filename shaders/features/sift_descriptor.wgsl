// SIFT descriptors for the keypoints of one octave (OpenCV's calcSIFTDescriptor): gradients in a
// rotated window of 4x4 cells (cell width 3 scale), Gaussian weight (sigma = half the window),
// trilinear binning into 4x4x8 orientation bins, L2-normalise, clip at `clip`, renormalise (or
// RootSIFT: L1-normalise and square root).
// gauss: (L+3, stride) f32 (levels (N, h, w) padded to `stride`), kps: (N, cap_out, 12) keypoint
// records, ranges: (N, n_oct + 1) u32 (this octave's run), desc: (N, cap_out, 128) f32.
// Dispatched indirectly (x from sift_select). One workgroup of 16 per keypoint of this octave's
// run (wid.x = index in the run, wid.y = image): the invocations take every 16th row of the
// window into private histograms, summed in workgroup memory; invocation 0 normalises.
// CPU twin: descriptorRef in src/ref/features/sift.ts.
//!include features/fast_atan2.wgsl

struct Params {
  w: u32, h: u32, n: u32, octave: u32,
  n_oct: u32, cap_out: u32, stride: u32, root_sift: u32,
  magnification: f32, clip: f32,
}

@group(0) @binding(0) var<storage, read> gauss: array<f32>;
@group(0) @binding(1) var<storage, read> kps: array<f32>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read_write> desc: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const D: i32 = 4;
const NB: i32 = 8;
const WG: i32 = 16;
const FLT_EPSILON: f32 = 1.1920928955078125e-7;

// Per invocation: the interior cells' bins (D*D cells x (NB+2) bins, the 2 extra wrap around).
var<workgroup> partial: array<f32, 2560>; // (WG, D*D*(NB+2))
var<workgroup> dst: array<f32, 128>;

@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.y;
  let rb = b * (p.n_oct + 1u) + p.octave;
  let slot = ranges[rb] + wid.x;
  // Uniform per workgroup: the whole workgroup returns together.
  if (b >= p.n || slot >= ranges[rb + 1u]) { return; }
  let k = b * p.cap_out + slot;
  let q = k * 12u;
  let px = i32(round(kps[q + 9u]));
  let py = i32(round(kps[q + 10u]));
  var ori = 360.0 - kps[q + 3u];
  if (abs(ori - 360.0) < FLT_EPSILON) { ori = 0.0; }
  let scl = kps[q + 11u];
  let layer = u32(kps[q + 6u]);
  let w = i32(p.w);
  let h = i32(p.h);
  let base = layer * p.stride + b * p.h * p.w;

  let rad = ori * 0.017453292519943295;
  let hist_width = p.magnification * scl;
  var radius = i32(round(((hist_width * 1.4142135623730951) * f32(D + 1)) * 0.5));
  radius = min(radius, i32(sqrt(f32(w * w + h * h))));
  let cos_t = cos(rad) / hist_width;
  let sin_t = sin(rad) / hist_width;
  let bins_per_rad = f32(NB) / 360.0;
  let exp_scale = -1.0 / (f32(D * D) * 0.5);

  var hist: array<f32, 360>; // (D+2, D+2, NB+2)
  for (var i = -radius + i32(lid); i <= radius; i += WG) {
    let r = py + i;
    if (r <= 0 || r >= h - 1) { continue; }
    for (var j = -radius; j <= radius; j++) {
      let c = px + j;
      let c_rot = f32(j) * cos_t - f32(i) * sin_t;
      let r_rot = f32(j) * sin_t + f32(i) * cos_t;
      var rbin = (r_rot + f32(D / 2)) - 0.5;
      var cbin = (c_rot + f32(D / 2)) - 0.5;
      if (!(rbin > -1.0 && rbin < f32(D) && cbin > -1.0 && cbin < f32(D) && c > 0 && c < w - 1)) { continue; }
      let row = base + u32(r * w);
      let dx = gauss[row + u32(c + 1)] - gauss[row + u32(c - 1)];
      let dy = gauss[row - p.w + u32(c)] - gauss[row + p.w + u32(c)];
      let wt = exp((c_rot * c_rot + r_rot * r_rot) * exp_scale);
      let mag = sqrt(dx * dx + dy * dy) * wt;
      var obin = (fast_atan2(dy, dx) - ori) * bins_per_rad;
      let r0 = i32(floor(rbin));
      let c0 = i32(floor(cbin));
      var o0 = i32(floor(obin));
      rbin -= f32(r0);
      cbin -= f32(c0);
      obin -= f32(o0);
      if (o0 < 0) { o0 += NB; }
      if (o0 >= NB) { o0 -= NB; }
      let v_r1 = mag * rbin;
      let v_r0 = mag - v_r1;
      let v_rc11 = v_r1 * cbin;
      let v_rc10 = v_r1 - v_rc11;
      let v_rc01 = v_r0 * cbin;
      let v_rc00 = v_r0 - v_rc01;
      let v_rco111 = v_rc11 * obin;
      let v_rco110 = v_rc11 - v_rco111;
      let v_rco101 = v_rc10 * obin;
      let v_rco100 = v_rc10 - v_rco101;
      let v_rco011 = v_rc01 * obin;
      let v_rco010 = v_rc01 - v_rco011;
      let v_rco001 = v_rc00 * obin;
      let v_rco000 = v_rc00 - v_rco001;
      let idx = ((r0 + 1) * (D + 2) + c0 + 1) * (NB + 2) + o0;
      hist[idx] += v_rco000;
      hist[idx + 1] += v_rco001;
      hist[idx + (NB + 2)] += v_rco010;
      hist[idx + (NB + 3)] += v_rco011;
      hist[idx + (D + 2) * (NB + 2)] += v_rco100;
      hist[idx + (D + 2) * (NB + 2) + 1] += v_rco101;
      hist[idx + (D + 3) * (NB + 2)] += v_rco110;
      hist[idx + (D + 3) * (NB + 2) + 1] += v_rco111;
    }
  }
  // Interior cells to workgroup memory, then sum over invocations (with the circular wrap).
  let mine = lid * 160u;
  for (var ci = 0; ci < D * D; ci++) {
    let src = (((ci / D) + 1) * (D + 2) + (ci % D) + 1) * (NB + 2);
    for (var o = 0; o < NB + 2; o++) { partial[mine + u32(ci * (NB + 2) + o)] = hist[src + o]; }
  }
  workgroupBarrier();
  for (var e = i32(lid); e < 128; e += WG) {
    let ci = e / NB;
    let o = e % NB;
    var a = 0.0;
    var wrap = 0.0;
    for (var t = 0u; t < u32(WG); t++) {
      a += partial[t * 160u + u32(ci * (NB + 2) + o)];
      if (o < 2) { wrap += partial[t * 160u + u32(ci * (NB + 2) + o + NB)]; }
    }
    dst[e] = a + wrap;
  }
  workgroupBarrier();
  if (lid != 0u) { return; }
  var nrm2 = 0.0;
  for (var i = 0; i < 128; i++) { nrm2 += dst[i] * dst[i]; }
  let thr = sqrt(nrm2) * p.clip;
  nrm2 = 0.0;
  for (var i = 0; i < 128; i++) { let v = min(dst[i], thr); dst[i] = v; nrm2 += v * v; }
  let out = k * 128u;
  if (p.root_sift != 0u) {
    var l1 = 0.0;
    for (var i = 0; i < 128; i++) { l1 += dst[i]; }
    let s = 1.0 / max(l1, FLT_EPSILON);
    for (var i = 0; i < 128; i++) { desc[out + u32(i)] = sqrt(dst[i] * s); }
  } else {
    let s = 1.0 / max(sqrt(nrm2), FLT_EPSILON);
    for (var i = 0; i < 128; i++) { desc[out + u32(i)] = dst[i] * s; }
  }
}
