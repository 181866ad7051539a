// The shared tail of main() in matmul_sg.wgsl and matmul_sg_at.wgsl (included textually, so it
// closes their k-block loop and main): with this k block's 16 A values a0..a15 loaded (the two
// kernels load A differently), broadcast them by subgroupShuffle against B's vec4 rows, two values
// of k per step, then store the 16 x (32 or 64) output block.
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
