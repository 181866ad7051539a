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
//!include nn/matmul_sg_tail.wgsl
