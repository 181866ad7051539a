// Shared body of shaders/nn/matmul.wgsl (B read as vec4), matmul_scalar.wgsl (B read as f32) and
// matmul_f16.wgsl / matmul_f16_scalar.wgsl (A and B stored as f16, f32 accumulation). Included by
// them; they declare `a`, `b`, `load_a(index) -> f32` and `load_b4(index) -> vec4f`.
//
// Problem, strides, batching and flags: matmul_common.wgsl.
// Invocation mapping: one invocation computes an 8 x 8 block (8 rows x two vec4 column groups) from
// 8 A values (the same for the whole workgroup) and two vec4 of B per k. Workgroup: WG invocations
// along n (WG * 8 columns, 8 rows). grid: (ceil(N / (8 WG)), ceil(M / 8), batches).
// Why this shape (lavapipe, Mesa 25, read from its generated x86): llvmpipe runs 8 invocations per
// AVX2 vector and expands EVERY storage-buffer load inside a loop lane by lane with a bounds check
// (~10 instructions per lane and element; only constant / push-constant addresses are treated as
// uniform), fma becomes mul + add + a mask blend, and shared memory adds barrier coroutine switches.
// So the cost per k is ~80 (R + C) + 3 R C instructions per 8 lanes: 8 x 8 balances loads against
// accumulator spills. Measured alternatives (slower): 64x64 shared-memory tiles, 4x4 / 8x4 / 16x8
// blocks, k unrolled by 4 with chained fma, B as an rgba32float texture, lanes along m with B uniform.

//!include nn/matmul_common.wgsl

override WG: u32 = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let offs = batch_offsets(wid.z);
  let aoff = offs.x;
  let boff = offs.y;
  let coff = offs.z;
  let m0 = wid.y * 8u;
  let n0 = (wid.x * WG + lid.x) * 8u;
  // Rows past M reload row M - 1 (branch-free tails); stores are guarded.
  let lastm = p.M - 1u;
  let a0 = aoff + min(m0, lastm) * p.sam;
  let a1 = aoff + min(m0 + 1u, lastm) * p.sam;
  let a2 = aoff + min(m0 + 2u, lastm) * p.sam;
  let a3 = aoff + min(m0 + 3u, lastm) * p.sam;
  let a4 = aoff + min(m0 + 4u, lastm) * p.sam;
  let a5 = aoff + min(m0 + 5u, lastm) * p.sam;
  let a6 = aoff + min(m0 + 6u, lastm) * p.sam;
  let a7 = aoff + min(m0 + 7u, lastm) * p.sam;
  // Columns past N (the tail of the last vec4) read neighbouring or clamped in-buffer values
  // (WebGPU bounds-checks every access) and are never stored.
  let bn0 = boff + n0;
  let bn1 = boff + n0 + 4u;
  var c00 = vec4f(0.0); var c01 = vec4f(0.0);
  var c10 = vec4f(0.0); var c11 = vec4f(0.0);
  var c20 = vec4f(0.0); var c21 = vec4f(0.0);
  var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  var c40 = vec4f(0.0); var c41 = vec4f(0.0);
  var c50 = vec4f(0.0); var c51 = vec4f(0.0);
  var c60 = vec4f(0.0); var c61 = vec4f(0.0);
  var c70 = vec4f(0.0); var c71 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let ak = k * p.sak;
    let bk = k * p.ldb;
    let b0 = load_b4(bn0 + bk);
    let b1 = load_b4(bn1 + bk);
    let x0 = vec4f(load_a(a0 + ak));
    c00 = fma(x0, b0, c00); c01 = fma(x0, b1, c01);
    let x1 = vec4f(load_a(a1 + ak));
    c10 = fma(x1, b0, c10); c11 = fma(x1, b1, c11);
    let x2 = vec4f(load_a(a2 + ak));
    c20 = fma(x2, b0, c20); c21 = fma(x2, b1, c21);
    let x3 = vec4f(load_a(a3 + ak));
    c30 = fma(x3, b0, c30); c31 = fma(x3, b1, c31);
    let x4 = vec4f(load_a(a4 + ak));
    c40 = fma(x4, b0, c40); c41 = fma(x4, b1, c41);
    let x5 = vec4f(load_a(a5 + ak));
    c50 = fma(x5, b0, c50); c51 = fma(x5, b1, c51);
    let x6 = vec4f(load_a(a6 + ak));
    c60 = fma(x6, b0, c60); c61 = fma(x6, b1, c61);
    let x7 = vec4f(load_a(a7 + ak));
    c70 = fma(x7, b0, c70); c71 = fma(x7, b1, c71);
  }
  if (n0 >= p.N) { return; }
  // The epilogue is a loop (not unrolled): lavapipe expands every store lane by lane, and 64
  // inlined copies made the first dispatch's LLVM compile take tens of seconds.
  let blk = array<vec4f, 16>(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
  for (var i = 0u; i < 16u; i++) {
    store4(m0 + i / 2u, n0 + (i % 2u) * 4u, coff, blk[i]);
  }
}
