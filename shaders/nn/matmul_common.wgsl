// Shared by the batched matmul kernels (included by matmul_core.wgsl and matmul_sg.wgsl): the
// parameter block, the bias / C bindings and the guarded epilogue store.
//
// C[z] (M, N) (+)= A[z](M, K) @ B[z](K, N) (+ bias (N))
//   A(m, k) = a[aoff + m * sam + k * sak]     (any strides: transposed operands cost nothing here)
//   B(k, n) = b[boff + k * ldb + n]            (row-major, n contiguous)
//   C(m, n) = c[coff + m * ldc + n]
//   batch z = wid.z: off = base + (z / batch_h) * s1 + (z % batch_h) * s2 (two-level batch: (B, H)
//   heads); base offsets (elements) let A, B, C and bias be views into larger buffers.
// flags: bit 0 = accumulate into C (gradients), bit 1 = add bias[n].
// C is bound as vec4: an aligned, complete group of four outputs is one vec4 store (and load when
// accumulating), which llvmpipe expands lane by lane once for all four components instead of four
// times (CPU time of one dispatch, bench shapes: 1.05-1.13x at K = 128, 1.25x at K = 32, N = 384;
// no change at K >= 512). Tails and unaligned rows (ldc % 4 != 0) write single components, so C's
// buffer must span whole vec4s (src/nn/core.ts rounds tensor buffers up to 16 bytes).

struct Params {
  M: u32, N: u32, K: u32, sam: u32,
  sak: u32, ldb: u32, ldc: u32, batch_h: u32,
  a_s1: u32, a_s2: u32, b_s1: u32, b_s2: u32,
  c_s1: u32, c_s2: u32, flags: u32, a_base: u32,
  b_base: u32, c_base: u32, bias_base: u32, _pad: u32,
}

@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(4) var<uniform> p: Params;

// Element offsets of batch z's A, B and C.
fn batch_offsets(z: u32) -> vec3u {
  let zo = z / p.batch_h;
  let zi = z % p.batch_h;
  return vec3u(p.a_base + zo * p.a_s1 + zi * p.a_s2, p.b_base + zo * p.b_s1 + zi * p.b_s2, p.c_base + zo * p.c_s1 + zi * p.c_s2);
}

// Stores four consecutive outputs of one row (columns n .. n + 3; those past N are skipped).
fn store4(row: u32, n: u32, coff: u32, v: vec4f) {
  if (row >= p.M) { return; }
  let o = coff + row * p.ldc + n;
  let acc = (p.flags & 1u) != 0u;
  let hasb = (p.flags & 2u) != 0u;
  if (n + 3u < p.N && (o & 3u) == 0u) {
    var x = v;
    if (hasb) {
      let bo = p.bias_base + n;
      x += vec4f(bias[bo], bias[bo + 1u], bias[bo + 2u], bias[bo + 3u]);
    }
    if (acc) { x += c[o / 4u]; }
    c[o / 4u] = x;
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < p.N) {
      let oj = o + j;
      var x = v[j];
      if (hasb) { x += bias[p.bias_base + n + j]; }
      if (acc) { x += c[oj / 4u][oj % 4u]; }
      c[oj / 4u][oj % 4u] = x;
    }
  }
}
