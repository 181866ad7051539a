// SIFT extremum detection in one octave: samples of DoG layers 1..L whose |value| exceeds the
// pre-threshold and that are >= (maxima) or <= (minima) all 26 neighbours in the 3x3x3 cube
// (OpenCV's findScaleSpaceExtrema test), away from a border of `border` px. Appends
// (layer << 28 | r << 14 | c) to the image's list for sift_refine.wgsl.
// dog: (L+2, stride) f32, each level (N, h, w) padded to `stride` floats.
// raw: (N, n_oct, cap) u32, raw_counts: (N, n_oct) atomic u32 (may exceed cap: overflow count),
// args: indirect dispatch arguments (x, y, z) u32 triples; x of the triple at `arg` is raised to
// the workgroups of 64 the refinement needs.
// One invocation per sample: gid.x = c, gid.y = r, gid.z = (layer - 1) * N + image.
// CPU twin: detectRef in src/ref/features/sift.ts.

struct Params {
  w: u32, h: u32, n: u32, layers: u32,
  octave: u32, n_oct: u32, cap: u32, stride: u32,
  border: u32, thr: f32, arg: u32,
}

@group(0) @binding(0) var<storage, read> dog: array<f32>;
@group(0) @binding(1) var<storage, read_write> raw: array<u32>;
@group(0) @binding(2) var<storage, read_write> raw_counts: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> args: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let bd = p.border;
  if (gid.x < bd || gid.y < bd || gid.x + bd >= p.w || gid.y + bd >= p.h || gid.z >= p.layers * p.n) { return; }
  let b = gid.z % p.n;
  let layer = gid.z / p.n + 1u;
  let i = layer * p.stride + b * p.h * p.w + gid.y * p.w + gid.x;
  let val = dog[i];
  if (!(abs(val) > p.thr)) { return; }
  // Own layer first (most samples fail there), then the layers below and above.
  var hi = max(max(max(dog[i - p.w - 1u], dog[i - p.w]), max(dog[i - p.w + 1u], dog[i - 1u])),
               max(max(dog[i + 1u], dog[i + p.w - 1u]), max(dog[i + p.w], dog[i + p.w + 1u])));
  var lo = min(min(min(dog[i - p.w - 1u], dog[i - p.w]), min(dog[i - p.w + 1u], dog[i - 1u])),
               min(min(dog[i + 1u], dog[i + p.w - 1u]), min(dog[i + p.w], dog[i + p.w + 1u])));
  let is_max = val > 0.0 && val >= hi;
  let is_min = val < 0.0 && val <= lo;
  if (!is_max && !is_min) { return; }
  for (var k = 0u; k < 2u; k++) {
    let j = select(i + p.stride, i - p.stride, k == 0u);
    for (var dy = 0u; dy < 3u; dy++) {
      let q = j + dy * p.w - p.w;
      hi = max(hi, max(max(dog[q - 1u], dog[q]), dog[q + 1u]));
      lo = min(lo, min(min(dog[q - 1u], dog[q]), dog[q + 1u]));
    }
  }
  if (!((val > 0.0 && val >= hi) || (val < 0.0 && val <= lo))) { return; }
  let slot = b * p.n_oct + p.octave;
  let idx = atomicAdd(&raw_counts[slot], 1u);
  if (idx < p.cap) {
    raw[slot * p.cap + idx] = (layer << 28u) | (gid.y << 14u) | gid.x;
    // Workgroups of 64 that sift_refine needs: indirect dispatch arguments (x of args[arg..arg+3]).
    if (idx % 64u == 0u) { atomicMax(&args[p.arg], idx / 64u + 1u); }
  }
}
