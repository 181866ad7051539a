enable subgroups;
// Batched f32 matmul for CPU adapters (lavapipe), using subgroup shuffles:
// C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias). Problem, strides, batching, flags:
// matmul_common.wgsl. Needs B vec4-aligned (ldb and B's offsets % 4 == 0, and N % 4 == 0 or rows
// padded to ldb >= N rounded up to 4: attention's K^T / V^T with 197 tokens) and the `subgroups`
// feature with subgroups of at least 8 invocations (src/nn/matmul.ts picks it; else matmul.wgsl).
// Bindings: a (f32), b (vec4), bias (N) (unused unless flags bit 1), c (out), params.
//
// Invocation mapping: a workgroup is ONE subgroup of 8 invocations (lane j = 0..7) and computes a
// 16 x (32 * COLS) block of C: rows m0 .. m0 + 15, and for lane j the columns n0 + 4j .. + 3 and,
// when COLS = 2, n0 + 32 + 4j .. + 3 (two vec4 accumulators per row, 32 vec4 in all). COLS = 1
// (an override, so the unused half compiles away) serves N <= 32 (attention's head dim).
// grid: (ceil(N / (32 * COLS)), ceil(M / 16), batches).
// Per 8 values of k: lane j loads A(m0 + r, k0 + j) for the 16 rows (one load per row instead of
// eight); then, two values of k at a time, the A values come from lanes kk and kk + 1 by
// subgroupShuffle while every lane loads its own vec4 of B rows k0 + kk and k0 + kk + 1, and each
// accumulator takes both products in one update (s += x * b + y * c).
// Why (lavapipe, Mesa 25; see matmul_core.wgsl's header): llvmpipe runs the 8 lanes in one AVX2
// vector and expands every storage-buffer load lane by lane with a bounds check, so loads, not
// FMAs, set the speed. The tiled kernel loads the 8 A values of a k in every lane (64 lane loads
// per k); here each lane loads 2 per k and gets the rest by shuffle (register work, no load).
// Two k per update: inside a loop llvmpipe writes every loop-carried variable through the
// execution mask (a blend), and 32 vec4 accumulators do not fit the 32 vector registers, so each
// update is load + mul + add + blend + store; updating once per two k halves the blends and the
// spill traffic (perf, GALLIVM_DEBUG=asm: the update block was ~45% of the time, the B loads ~28%).
// llvmpipe also lowers fma to mul + add (lower_ffma32), so fma() buys nothing here.
// Measured (bench/matmul.ts, 2 cores, dawn.node's polling throttled: src/gpu/poll.ts): 43-50
// GFLOP/s at 1024^3, 33-43 on ViT-B's qkv, 32-46 on the nano shapes (27-33 in slow hours of the VM,
// when numpy moves by 10%), about 2x matmul.wgsl; the two-k update is 1.12-1.16x the one-k update
// (A/B of both kernels in one process).
// Slower or no faster: four or eight k per update (B values spill), unrolling the kk loop by hand,
// 8 / 12 / 20 / 24 / 32 rows, 1, 3 or 4 vec4 per row, A read as vec4 along k, B through a
// texture, 16 lanes (LP_NATIVE_VECTOR_WIDTH=512: 2.5x slower). B through a uniform buffer (whose
// gathers have no per-lane branches) was 1.15x more, but a uniform binding holds 64 KiB, so B would
// need packing into 256 x 64 panels and one dispatch per panel (~0.1 ms each on lavapipe).
// Issue 18, measured again (variants A/B against this kernel in one process, CPU time per dispatch,
// median of 9 rounds; 1576x384x128, 1576x128x512, 1576x96x96 and 32 x 196x196x32):
// one row of C per lane with B's addresses the same in all lanes: 0.09-0.12x. Mesa 25.0 loads
// once and broadcasts only when the offset is a constant or push constant
// (nir_src_is_always_uniform); an offset from workgroup_id or a loop counter is loaded lane by lane
// with a bounds check, like any other. Accumulators that fit the registers (4 rows x 1 vec4; the
// asm has no spills): 0.30-0.48x, the loads per FMA set the speed. 20 / 24 / 32 rows:
// 0.94-1.13x / 0.92-1.03x / 0.79-0.96x (fewer instructions per FMA; likely the loop body, ~3.4k
// instructions at 16 rows and ~6.9k at 32, outgrowing the op cache and L1i; the VM has no PMU to
// confirm). B staged in workgroup memory for 4 subgroups: 0.47-0.57x (the barrier makes the kernel
// a coroutine that keeps every variable in its frame). B through a texture: 0.91-1.11x
// (1576x384x128, 1576x128x512); through a uniform buffer: 0.90-1.13x (1576x384x40, 1576x128x128,
// 1576x96x96, problems whose B fits one 64 KiB binding). Where the time goes (same A/B): with B's
// loads replaced by arithmetic on the indices the kernel runs 1.55-1.65x, with A's 1.20-1.22x;
// B gathered from a private array (branch-free, ~2.3 instead of ~11 instructions per lane and
// component, filling it not timed) only 1.03x, so the per-lane extract / insert, not the bounds
// check, makes a load dear. Next pair's B loads spread between the updates: 0.64-0.98x.
// Tails: rows past M reload row M - 1, columns past N reload the last vec4, and k past K
// multiplies B's last row by an A forced to 0; stores are guarded (store4).

@group(0) @binding(0) var<storage, read> a: array<f32>;
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
  let lastm = p.M - 1u;
  let lastk = p.K - 1u;
  let ldb4 = p.ldb / 4u;
  // This lane's two vec4 columns of B (clamped to the last vec4 holding a column < N; with a
  // ragged N its tail lies in the row's padding).
  let lastn4 = (p.N + 3u) / 4u - 1u;
  let bc0 = boff4 + min(n0 / 4u + j, lastn4);
  let bc1 = boff4 + min(n0 / 4u + 8u + j, lastn4);
  // Start of each of the 16 rows of A.
  let ar0 = aoff + min(m0 + 0u, lastm) * p.sam;
  let ar1 = aoff + min(m0 + 1u, lastm) * p.sam;
  let ar2 = aoff + min(m0 + 2u, lastm) * p.sam;
  let ar3 = aoff + min(m0 + 3u, lastm) * p.sam;
  let ar4 = aoff + min(m0 + 4u, lastm) * p.sam;
  let ar5 = aoff + min(m0 + 5u, lastm) * p.sam;
  let ar6 = aoff + min(m0 + 6u, lastm) * p.sam;
  let ar7 = aoff + min(m0 + 7u, lastm) * p.sam;
  let ar8 = aoff + min(m0 + 8u, lastm) * p.sam;
  let ar9 = aoff + min(m0 + 9u, lastm) * p.sam;
  let ar10 = aoff + min(m0 + 10u, lastm) * p.sam;
  let ar11 = aoff + min(m0 + 11u, lastm) * p.sam;
  let ar12 = aoff + min(m0 + 12u, lastm) * p.sam;
  let ar13 = aoff + min(m0 + 13u, lastm) * p.sam;
  let ar14 = aoff + min(m0 + 14u, lastm) * p.sam;
  let ar15 = aoff + min(m0 + 15u, lastm) * p.sam;
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
    // Lane j holds A(m0 + r, k0 + j) for every row r (0 past K).
    let kj = k0 + j;
    let ka = min(kj, lastk) * p.sak;
    let kin = kj < p.K;
    let a0 = select(0.0, a[ar0 + ka], kin);
    let a1 = select(0.0, a[ar1 + ka], kin);
    let a2 = select(0.0, a[ar2 + ka], kin);
    let a3 = select(0.0, a[ar3 + ka], kin);
    let a4 = select(0.0, a[ar4 + ka], kin);
    let a5 = select(0.0, a[ar5 + ka], kin);
    let a6 = select(0.0, a[ar6 + ka], kin);
    let a7 = select(0.0, a[ar7 + ka], kin);
    let a8 = select(0.0, a[ar8 + ka], kin);
    let a9 = select(0.0, a[ar9 + ka], kin);
    let a10 = select(0.0, a[ar10 + ka], kin);
    let a11 = select(0.0, a[ar11 + ka], kin);
    let a12 = select(0.0, a[ar12 + ka], kin);
    let a13 = select(0.0, a[ar13 + ka], kin);
    let a14 = select(0.0, a[ar14 + ka], kin);
    let a15 = select(0.0, a[ar15 + ka], kin);
//!include nn/matmul_sg_tail.wgsl
