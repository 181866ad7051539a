// Brute-force nearest neighbours between descriptor sets, batched over many frame pairs in one
// dispatch: for every query descriptor of frame a, the train descriptor of frame b with the
// largest dot product (descriptors are unit length, so squared distance = 2 - 2 dot) and the
// second largest dot, for the ratio test on the host (src/match/matcher.ts).
// desc:   (T, 128) f32, every frame's descriptors concatenated, read as (T, 32) vec4
// frames: (F, 2) u32 [first row in desc, count]
// pairs:  (P, 4) u32 [frame a (queries), frame b (train), first output row, 0]
// out:    (Q, 4) u32 per query: [best train index (local to frame b), bitcast(best dot),
//         bitcast(second dot), 0]; with no train descriptor: [0xffffffff, -FLT_MAX, -FLT_MAX, 0]
// Workgroup: 64 invocations = 4 query blocks x 16 train lanes; it owns 16 queries of pair
// wg.y (wg.x = block of 16 queries). Invocation (qb, lane) computes 4x4 tiles of dots for queries
// q0 + 4 qb .. +3 against trains lane*4 + 64 t .. +3 (register blocked, vec4 loads), keeps best
// and second best per query, then lanes are merged in shared memory. Ties: the lowest train
// index wins (strict > within a lane, (dot desc, index asc) order across lanes).
// Twin: src/ref/match/bf_match.ts.

struct Params { num_pairs: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> desc: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> frames: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> pairs: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(4) var<uniform> p: Params;

const NEG: f32 = -3.4028234e38;
const NONE: u32 = 0xffffffffu;

var<workgroup> sh_best: array<f32, 256>;
var<workgroup> sh_second: array<f32, 256>;
var<workgroup> sh_idx: array<u32, 256>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let pair_id = min(wg.y, p.num_pairs - 1u);
  let pr = pairs[pair_id];
  let fa = frames[pr.x];
  let fb = frames[pr.y];
  let na = fa.y;
  let nb = fb.y;
  let qb = li / 16u;
  let lane = li % 16u;
  let q0 = wg.x * 16u + qb * 4u;

  // Query rows (clamped so loads stay in bounds; results of rows past na are not written).
  let last_a = fa.x + max(na, 1u) - 1u;
  let ra0 = min(fa.x + q0, last_a) * 32u;
  let ra1 = min(fa.x + q0 + 1u, last_a) * 32u;
  let ra2 = min(fa.x + q0 + 2u, last_a) * 32u;
  let ra3 = min(fa.x + q0 + 3u, last_a) * 32u;
  let last_b = fb.x + max(nb, 1u) - 1u;

  var best = vec4<f32>(NEG);
  var second = vec4<f32>(NEG);
  var bidx = vec4<u32>(NONE);

  for (var j0 = lane * 4u; j0 < nb; j0 = j0 + 64u) {
    let rb0 = min(fb.x + j0, last_b) * 32u;
    let rb1 = min(fb.x + j0 + 1u, last_b) * 32u;
    let rb2 = min(fb.x + j0 + 2u, last_b) * 32u;
    let rb3 = min(fb.x + j0 + 3u, last_b) * 32u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k = 0u; k < 32u; k = k + 1u) {
      let bm = mat4x4<f32>(desc[rb0 + k], desc[rb1 + k], desc[rb2 + k], desc[rb3 + k]);
      acc0 = acc0 + desc[ra0 + k] * bm; // acc0[j] += dot(query 0, train j)
      acc1 = acc1 + desc[ra1 + k] * bm;
      acc2 = acc2 + desc[ra2 + k] * bm;
      acc3 = acc3 + desc[ra3 + k] * bm;
    }
    // Train columns past nb score NEG, so they never win.
    let valid = vec4<bool>(j0 < nb, j0 + 1u < nb, j0 + 2u < nb, j0 + 3u < nb);
    let accs = array<vec4<f32>, 4>(select(vec4<f32>(NEG), acc0, valid), select(vec4<f32>(NEG), acc1, valid),
                                   select(vec4<f32>(NEG), acc2, valid), select(vec4<f32>(NEG), acc3, valid));
    for (var i = 0u; i < 4u; i = i + 1u) {
      var b = best[i];
      var s = second[i];
      var bi = bidx[i];
      let a = accs[i];
      for (var j = 0u; j < 4u; j = j + 1u) {
        let d = a[j];
        if (d > b) { s = b; b = d; bi = j0 + j; } else if (d > s) { s = d; }
      }
      best[i] = b;
      second[i] = s;
      bidx[i] = bi;
    }
  }

  for (var i = 0u; i < 4u; i = i + 1u) {
    let slot = (qb * 4u + i) * 16u + lane;
    sh_best[slot] = best[i];
    sh_second[slot] = second[i];
    sh_idx[slot] = bidx[i];
  }
  workgroupBarrier();

  // 16 invocations merge the 16 lanes of one query each.
  if (li < 16u && wg.y < p.num_pairs) {
    let q = wg.x * 16u + li;
    if (q < na) {
      var b = NEG;
      var s = NEG;
      var bi = NONE;
      for (var l = 0u; l < 16u; l = l + 1u) {
        let slot = li * 16u + l;
        let d = sh_best[slot];
        let di = sh_idx[slot];
        if (d > b || (d == b && di < bi)) { s = max(b, s); b = d; bi = di; } else { s = max(s, d); }
        s = max(s, sh_second[slot]);
      }
      out[pr.z + q] = vec4<u32>(bi, bitcast<u32>(b), bitcast<u32>(s), 0u);
    }
  }
}
