// Canonical order of each image's kept keypoints, and their descriptors moved into a feature
// store (src/features/store.ts) for matching on the GPU.
// sift_select keeps each octave's records in the order the orientation pass appended them (an
// atomic counter: it varies from run to run). Matching ties and RANSAC refits depend on the order,
// so every image's keypoints are put in one total order: (octave, y, x, size, angle, response)
// ascending as f32 values (readFeatures' order), then the key (layer, r, c) that makes a record
// unique (sift_select: one record per (octave, layer, r, c, angle)). A record's rank is the number
// of records of its octave's run before it in that order (octave is the first field, so runs stay
// where they are).
// kps: (N, cap_out, 12) records, counts: (N) u32, ranges: (N, n_oct + 1) u32 (octave runs),
// desc: (N, cap_out, 32) vec4 descriptors, dst: (N) u32 the store row of each image's first
// keypoint. Out: sorted: (N, cap_out, 12) the records in order, store: (rows, 32) vec4, row
// dst[b] + rank = the record's descriptor, or its RootSIFT (L1-normalise, element-wise square
// root; f32, summed in index order) when p.root_sift = 1.
// Grid: (ceil(cap_out / 64), N); invocation = one record. CPU twin: orderRef in src/ref/features/sift.ts.

struct Params { n: u32, cap_out: u32, n_oct: u32, root_sift: u32 }

@group(0) @binding(0) var<storage, read> kps: array<f32>;
@group(0) @binding(1) var<storage, read> counts: array<u32>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read> desc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dst: array<u32>;
@group(0) @binding(5) var<storage, read_write> sorted: array<f32>;
@group(0) @binding(6) var<storage, read_write> store: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> p: Params;

const KPW: u32 = 12u;

// Whether the record at offset i comes before the record whose fields are `k` (octave, y, x,
// size, angle, response) and `u` (layer, r, c).
fn before(i: u32, key: array<f32, 6>, u: vec3<u32>) -> bool {
  var a = array<f32, 6>(kps[i + 5u], kps[i + 1u], kps[i], kps[i + 2u], kps[i + 3u], kps[i + 4u]);
  var k = key;
  for (var f = 0u; f < 6u; f++) {
    if (a[f] != k[f]) { return a[f] < k[f]; }
  }
  let v = vec3<u32>(u32(kps[i + 6u]), u32(kps[i + 7u]), u32(kps[i + 8u]));
  if (v.x != u.x) { return v.x < u.x; }
  if (v.y != u.y) { return v.y < u.y; }
  return v.z < u.z;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.y;
  let i = gid.x;
  if (b >= p.n || i >= counts[b]) { return; }
  let base = b * p.cap_out * KPW;
  let at = base + i * KPW;
  let k = array<f32, 6>(kps[at + 5u], kps[at + 1u], kps[at], kps[at + 2u], kps[at + 3u], kps[at + 4u]);
  let u = vec3<u32>(u32(kps[at + 6u]), u32(kps[at + 7u]), u32(kps[at + 8u]));
  let rb = b * (p.n_oct + 1u) + u32(k[0]);
  let lo = ranges[rb];
  let hi = ranges[rb + 1u];
  var rank = lo;
  for (var j = lo; j < hi; j++) {
    if (j != i && before(base + j * KPW, k, u)) { rank++; }
  }
  for (var f = 0u; f < KPW; f++) { sorted[base + rank * KPW + f] = kps[at + f]; }

  let src = (b * p.cap_out + i) * 32u;
  let out = (dst[b] + rank) * 32u;
  if (p.root_sift == 0u) {
    for (var q = 0u; q < 32u; q++) { store[out + q] = desc[src + q]; }
    return;
  }
  var l1 = 0.0;
  for (var q = 0u; q < 32u; q++) {
    let d = abs(desc[src + q]);
    l1 = l1 + d.x;
    l1 = l1 + d.y;
    l1 = l1 + d.z;
    l1 = l1 + d.w;
  }
  for (var q = 0u; q < 32u; q++) {
    store[out + q] = select(vec4<f32>(0.0), sqrt(abs(desc[src + q]) / l1), l1 > 0.0);
  }
}
