enable subgroups;
// matmul_sg.wgsl for a transposed A (sam == 1: A(m, k) = a[aoff + m + k * sak], a Linear weight
// gradient dW = dy^T x, attention's dV = P^T dO and dK = dS^T Q), vec4-aligned (sak, A's offsets
// % 4 == 0; src/nn/matmul.ts picks it). Everything is matmul_sg.wgsl's (read its header) except
// how A comes in: the 16 rows m0 .. m0 + 15 of one k are contiguous, so lane j loads them as four
// vec4 (k = k0 + j) instead of 16 scalars. llvmpipe expands a storage load lane by lane once per
// vec4, and the 16 values take the same 16 registers either way (unlike A read as vec4 along k,
// which holds 64 and was slower). CPU time per dispatch (bench shapes, nano dW 384x128 / 512x128 /
// 128x512 with K = 1576): 1.04-1.24x matmul_sg.wgsl.
// Tails: rows past M read the last vec4 group of rows (values never stored); k past K: A = 0.

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;

//!include nn/matmul_common.wgsl

override COLS: u32 = 2u;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) j: u32) {
  let offs = batch_offsets(wid.z);
  let aoff = offs.x;
  let boff4 = offs.y / 4u;
  let coff = offs.z;
  let m0 = wid.y * 16u;
  let n0 = wid.x * 32u * COLS;
  let lastk = p.K - 1u;
  let ldb4 = p.ldb / 4u;
  // This lane's two vec4 columns of B (clamped to the last vec4 holding a column < N; with a
  // ragged N its tail lies in the row's padding).
  let lastn4 = (p.N + 3u) / 4u - 1u;
  let bc0 = boff4 + min(n0 / 4u + j, lastn4);
  let bc1 = boff4 + min(n0 / 4u + 8u + j, lastn4);
  // A (sam == 1): rows m0 .. m0 + 15 of one k are four vec4 groups (clamped to the last group).
  let lastg = (p.M - 1u) / 4u;
  let ag0 = aoff / 4u + min(m0 / 4u + 0u, lastg);
  let ag1 = aoff / 4u + min(m0 / 4u + 1u, lastg);
  let ag2 = aoff / 4u + min(m0 / 4u + 2u, lastg);
  let ag3 = aoff / 4u + min(m0 / 4u + 3u, lastg);
  var s0_0 = vec4f(0.0); var s0_1 = vec4f(0.0);
  var s1_0 = vec4f(0.0); var s1_1 = vec4f(0.0);
  var s2_0 = vec4f(0.0); var s2_1 = vec4f(0.0);
  var s3_0 = vec4f(0.0); var s3_1 = vec4f(0.0);
  var s4_0 = vec4f(0.0); var s4_1 = vec4f(0.0);
  var s5_0 = vec4f(0.0); var s5_1 = vec4f(0.0);
  var s6_0 = vec4f(0.0); var s6_1 = vec4f(0.0);
  var s7_0 = vec4f(0.0); var s7_1 = vec4f(0.0);
  var s8_0 = vec4f(0.0); var s8_1 = vec4f(0.0);
  var s9_0 = vec4f(0.0); var s9_1 = vec4f(0.0);
  var s10_0 = vec4f(0.0); var s10_1 = vec4f(0.0);
  var s11_0 = vec4f(0.0); var s11_1 = vec4f(0.0);
  var s12_0 = vec4f(0.0); var s12_1 = vec4f(0.0);
  var s13_0 = vec4f(0.0); var s13_1 = vec4f(0.0);
  var s14_0 = vec4f(0.0); var s14_1 = vec4f(0.0);
  var s15_0 = vec4f(0.0); var s15_1 = vec4f(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += 8u) {
    let kj = k0 + j;
    let ka = min(kj, lastk) * (p.sak / 4u);
    let kin = kj < p.K;
    let g0 = select(vec4f(0.0), a[ag0 + ka], kin);
    let g1 = select(vec4f(0.0), a[ag1 + ka], kin);
    let g2 = select(vec4f(0.0), a[ag2 + ka], kin);
    let g3 = select(vec4f(0.0), a[ag3 + ka], kin);
    let a0 = g0.x;
    let a1 = g0.y;
    let a2 = g0.z;
    let a3 = g0.w;
    let a4 = g1.x;
    let a5 = g1.y;
    let a6 = g1.z;
    let a7 = g1.w;
    let a8 = g2.x;
    let a9 = g2.y;
    let a10 = g2.z;
    let a11 = g2.w;
    let a12 = g3.x;
    let a13 = g3.y;
    let a14 = g3.z;
    let a15 = g3.w;
    // Two values of k per step: each accumulator takes the sum of two products at once.
    for (var kk = 0u; kk < 8u; kk += 2u) {
      let kb = min(k0 + kk, lastk) * ldb4;
      let kc = min(k0 + kk + 1u, lastk) * ldb4;
      let b0 = b[bc0 + kb];
      let c0 = b[bc0 + kc];
      var b1 = vec4f(0.0);
      var c1 = vec4f(0.0);
      if (COLS == 2u) { b1 = b[bc1 + kb]; c1 = b[bc1 + kc]; }
      let x0 = vec4f(subgroupShuffle(a0, kk)); let y0 = vec4f(subgroupShuffle(a0, kk + 1u));
      s0_0 += x0 * b0 + y0 * c0; if (COLS == 2u) { s0_1 += x0 * b1 + y0 * c1; }
      let x1 = vec4f(subgroupShuffle(a1, kk)); let y1 = vec4f(subgroupShuffle(a1, kk + 1u));
      s1_0 += x1 * b0 + y1 * c0; if (COLS == 2u) { s1_1 += x1 * b1 + y1 * c1; }
      let x2 = vec4f(subgroupShuffle(a2, kk)); let y2 = vec4f(subgroupShuffle(a2, kk + 1u));
      s2_0 += x2 * b0 + y2 * c0; if (COLS == 2u) { s2_1 += x2 * b1 + y2 * c1; }
      let x3 = vec4f(subgroupShuffle(a3, kk)); let y3 = vec4f(subgroupShuffle(a3, kk + 1u));
      s3_0 += x3 * b0 + y3 * c0; if (COLS == 2u) { s3_1 += x3 * b1 + y3 * c1; }
      let x4 = vec4f(subgroupShuffle(a4, kk)); let y4 = vec4f(subgroupShuffle(a4, kk + 1u));
      s4_0 += x4 * b0 + y4 * c0; if (COLS == 2u) { s4_1 += x4 * b1 + y4 * c1; }
      let x5 = vec4f(subgroupShuffle(a5, kk)); let y5 = vec4f(subgroupShuffle(a5, kk + 1u));
      s5_0 += x5 * b0 + y5 * c0; if (COLS == 2u) { s5_1 += x5 * b1 + y5 * c1; }
      let x6 = vec4f(subgroupShuffle(a6, kk)); let y6 = vec4f(subgroupShuffle(a6, kk + 1u));
      s6_0 += x6 * b0 + y6 * c0; if (COLS == 2u) { s6_1 += x6 * b1 + y6 * c1; }
      let x7 = vec4f(subgroupShuffle(a7, kk)); let y7 = vec4f(subgroupShuffle(a7, kk + 1u));
      s7_0 += x7 * b0 + y7 * c0; if (COLS == 2u) { s7_1 += x7 * b1 + y7 * c1; }
      let x8 = vec4f(subgroupShuffle(a8, kk)); let y8 = vec4f(subgroupShuffle(a8, kk + 1u));
      s8_0 += x8 * b0 + y8 * c0; if (COLS == 2u) { s8_1 += x8 * b1 + y8 * c1; }
      let x9 = vec4f(subgroupShuffle(a9, kk)); let y9 = vec4f(subgroupShuffle(a9, kk + 1u));
      s9_0 += x9 * b0 + y9 * c0; if (COLS == 2u) { s9_1 += x9 * b1 + y9 * c1; }
      let x10 = vec4f(subgroupShuffle(a10, kk)); let y10 = vec4f(subgroupShuffle(a10, kk + 1u));
      s10_0 += x10 * b0 + y10 * c0; if (COLS == 2u) { s10_1 += x10 * b1 + y10 * c1; }
      let x11 = vec4f(subgroupShuffle(a11, kk)); let y11 = vec4f(subgroupShuffle(a11, kk + 1u));
      s11_0 += x11 * b0 + y11 * c0; if (COLS == 2u) { s11_1 += x11 * b1 + y11 * c1; }
      let x12 = vec4f(subgroupShuffle(a12, kk)); let y12 = vec4f(subgroupShuffle(a12, kk + 1u));
      s12_0 += x12 * b0 + y12 * c0; if (COLS == 2u) { s12_1 += x12 * b1 + y12 * c1; }
      let x13 = vec4f(subgroupShuffle(a13, kk)); let y13 = vec4f(subgroupShuffle(a13, kk + 1u));
      s13_0 += x13 * b0 + y13 * c0; if (COLS == 2u) { s13_1 += x13 * b1 + y13 * c1; }
      let x14 = vec4f(subgroupShuffle(a14, kk)); let y14 = vec4f(subgroupShuffle(a14, kk + 1u));
      s14_0 += x14 * b0 + y14 * c0; if (COLS == 2u) { s14_1 += x14 * b1 + y14 * c1; }
      let x15 = vec4f(subgroupShuffle(a15, kk)); let y15 = vec4f(subgroupShuffle(a15, kk + 1u));
      s15_0 += x15 * b0 + y15 * c0; if (COLS == 2u) { s15_1 += x15 * b1 + y15 * c1; }
    }
  }
  // A loop, not 32 inlined stores: lavapipe expands every store lane by lane (compile time).
  let blk = array<vec4f, 32>(
    s0_0, s0_1, s1_0, s1_1, s2_0, s2_1, s3_0, s3_1,
    s4_0, s4_1, s5_0, s5_1, s6_0, s6_1, s7_0, s7_1,
    s8_0, s8_1, s9_0, s9_1, s10_0, s10_1, s11_0, s11_1,
    s12_0, s12_1, s13_0, s13_1, s14_0, s14_1, s15_0, s15_1
  );
  for (var i = 0u; i < 32u; i++) {
    if (COLS == 1u && i % 2u == 1u) { continue; }
    store4(m0 + i / 2u, n0 + (i % 2u) * 32u + 4u * j, coff, blk[i]);
  }
}
