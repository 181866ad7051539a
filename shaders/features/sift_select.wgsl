// SIFT per-image cap and compaction. Keeps the keypoints whose response is >= the
// max_features-th largest (all when max_features = 0 or not exceeded; OpenCV's
// KeyPointsFilter::retainBest keeps ties too), at most cap_out of them, grouped by octave; writes
// where each octave's run starts so the descriptor pass can work octave by octave.
// Which keypoints are kept is a function of the set of input records, never of their order (the
// orientation pass appends through an atomic counter, so its order varies from run to run): the
// records are ranked by a total order, response descending, then the key (octave, layer, r, c,
// angle), unique per record (sift_refine keeps one record per (octave, layer, r, c); the peaks of
// one histogram have distinct angles). When more than cap_out records tie at or above the
// threshold, the ties at the threshold are kept in key order until cap_out are kept.
// The order of the kept records within an octave's run is the input order (not canonical);
// readFeatures sorts them. Capacity: the orientation passes append octave after octave, so when
// more than cap records were appended, the octaves before the one that crossed cap are whole and
// kept; that octave (only partly appended, which part depending on invocation order) and the
// later ones are dropped, as if they had no keypoints (counted by readCounts).
// oriented: (N, cap, 12) keypoint records, octave after octave; ori_octave_counts: (N, n_oct) u32
// records per octave (appended or not),
// kps: (N, cap_out, 12), counts: (N) u32, ranges: (N, n_oct + 1) u32 (run of octave o =
// [ranges[o], ranges[o+1])), args: indirect dispatch triples of the descriptor passes (x of the
// triple at arg0 + 9 o (triples per octave: refine, orientation, descriptor) is raised to the
// workgroups octave o needs).
// One workgroup of 256 per image: wid.x = image. The threshold is found by bisection on the
// responses' bit patterns (non-negative f32 order like u32); the rank of a tied record by counting
// the tied records before it. Compaction in one pass for all octaves: invocation t owns a
// contiguous chunk of the records and counts its kept records per octave; one exclusive scan per
// octave over the invocations (octave o by invocation o) gives where each chunk writes, so a run
// keeps the input order. (A prefix sum over the workgroup per octave and per 256 records cost 17
// barriers each, about 10 ms per image on lavapipe.)
// CPU twin: selectRef in src/ref/features/sift.ts.

struct Params { n: u32, cap: u32, cap_out: u32, max_features: u32, n_oct: u32, arg0: u32 }

@group(0) @binding(0) var<storage, read> oriented: array<f32>;
@group(0) @binding(1) var<storage, read> ori_octave_counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> kps: array<f32>;
@group(0) @binding(3) var<storage, read_write> counts: array<u32>;
@group(0) @binding(4) var<storage, read_write> ranges: array<u32>;
@group(0) @binding(5) var<storage, read_write> args: array<atomic<u32>>;
@group(0) @binding(6) var<uniform> p: Params;

const WG: u32 = 256u;
// Most octaves per image (createSiftPlan checks it).
const MAX_OCT: u32 = 12u;
var<workgroup> total: atomic<u32>;
var<workgroup> ties: atomic<u32>;
// (MAX_OCT, WG): kept records of octave o in invocation t's chunk, then their exclusive prefix.
var<workgroup> cnt: array<u32, 3072>;
var<workgroup> base: array<u32, 13>; // (MAX_OCT + 1) where octave o's run starts, uncapped

// Whether record i comes before record j in key order (octave, layer, r, c, angle); i, j: offsets.
fn key_less(i: u32, j: u32) -> bool {
  for (var f = 5u; f < 9u; f++) {
    let a = u32(oriented[i + f]);
    let b = u32(oriented[j + f]);
    if (a != b) { return a < b; }
  }
  return bitcast<u32>(oriented[i + 3u]) < bitcast<u32>(oriented[j + 3u]);
}

// Record at offset q (of the `count` at src) is kept: its response is at or above the threshold,
// and when `limit`, a tie at the threshold ranks (by key) within the first `need` ties.
fn keep_record(q: u32, src: u32, count: u32, thr: u32, limit: bool, need: u32) -> bool {
  let v = bitcast<u32>(oriented[q + 4u]);
  if (v < thr) { return false; }
  if (!(limit && v == thr)) { return true; }
  var rank = 0u;
  for (var j = 0u; j < count; j++) {
    let qj = src + j * 12u;
    if (bitcast<u32>(oriented[qj + 4u]) == thr && key_less(qj, q)) { rank++; }
  }
  return rank < need;
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let b = wid.x;
  if (b >= p.n) { return; }
  let src = b * p.cap * 12u;
  // The whole octaves that fitted: their records are the first `count` of the list.
  var count = 0u;
  for (var o = 0u; o < p.n_oct; o++) {
    let next = count + ori_octave_counts[b * p.n_oct + o];
    if (next > p.cap) { break; }
    count = next;
  }
  var thr = 0u;
  var limit = false;
  var need = 0u;
  if (p.max_features > 0u && count > p.max_features) {
    // Largest t with #(bits >= t) >= max_features, i.e. the max_features-th largest response.
    var lo = 0u;
    var hi = 0x7f800000u;
    for (var it = 0u; it < 32u; it++) {
      if (lo >= hi) { break; }
      let mid = lo + (hi - lo + 1u) / 2u;
      if (t == 0u) { atomicStore(&total, 0u); }
      workgroupBarrier();
      var c = 0u;
      for (var k = t; k < count; k += WG) {
        if (bitcast<u32>(oriented[src + k * 12u + 4u]) >= mid) { c++; }
      }
      atomicAdd(&total, c);
      let all = workgroupUniformLoad(&total);
      workgroupBarrier();
      if (all >= p.max_features) { lo = mid; } else { hi = mid - 1u; }
    }
    thr = lo;
    // How many are above the threshold and at it: past cap_out, the ties are ranked by key.
    if (t == 0u) {
      atomicStore(&total, 0u);
      atomicStore(&ties, 0u);
    }
    workgroupBarrier();
    var gt = 0u;
    var eq = 0u;
    for (var k = t; k < count; k += WG) {
      let v = bitcast<u32>(oriented[src + k * 12u + 4u]);
      if (v > thr) { gt++; } else if (v == thr) { eq++; }
    }
    atomicAdd(&total, gt);
    atomicAdd(&ties, eq);
    let n_gt = workgroupUniformLoad(&total);
    let n_eq = workgroupUniformLoad(&ties);
    limit = n_gt + n_eq > p.cap_out;
    need = p.cap_out - n_gt; // n_gt < max_features <= cap_out
  }
  // Whether record k (< count) is kept: above the threshold, or a tie within the first `need`.
  let per = (count + WG - 1u) / WG;
  let k_lo = min(t * per, count);
  let k_hi = min(k_lo + per, count);
  var mine: array<u32, 12>; // MAX_OCT
  for (var k = k_lo; k < k_hi; k++) {
    let q = src + k * 12u;
    if (keep_record(q, src, count, thr, limit, need)) { mine[u32(oriented[q + 5u])] += 1u; }
  }
  for (var o = 0u; o < p.n_oct; o++) { cnt[o * WG + t] = mine[o]; }
  workgroupBarrier();
  if (t < p.n_oct) {
    var run = 0u;
    for (var i = 0u; i < WG; i++) {
      let c = cnt[t * WG + i];
      cnt[t * WG + i] = run;
      run += c;
    }
    base[t + 1u] = run;
  }
  workgroupBarrier();
  if (t == 0u) {
    base[0] = 0u;
    for (var o = 0u; o < p.n_oct; o++) { base[o + 1u] += base[o]; }
  }
  workgroupBarrier();
  for (var o = 0u; o < p.n_oct; o++) { mine[o] = base[o] + cnt[o * WG + t]; }
  for (var k = k_lo; k < k_hi; k++) {
    let q = src + k * 12u;
    if (!keep_record(q, src, count, thr, limit, need)) { continue; }
    let o = u32(oriented[q + 5u]);
    let pos = mine[o];
    mine[o] = pos + 1u;
    if (pos < p.cap_out) {
      let d = (b * p.cap_out + pos) * 12u;
      for (var i = 0u; i < 12u; i++) { kps[d + i] = oriented[q + i]; }
    }
  }
  let written = base[p.n_oct];
  if (t <= p.n_oct) { ranges[b * (p.n_oct + 1u) + t] = min(base[t], p.cap_out); }
  if (t == 0u) {
    counts[b] = min(written, p.cap_out);
    // Indirect arguments of the descriptor pass of each octave: one workgroup per keypoint of the
    // longest run.
    for (var o = 0u; o < p.n_oct; o++) {
      let run = min(base[o + 1u], p.cap_out) - min(base[o], p.cap_out);
      atomicMax(&args[p.arg0 + 9u * o], run);
    }
  }
}
