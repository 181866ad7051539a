// The vec4 matmul kernels (matmul_sg.wgsl, matmul.wgsl) with a ragged N (not a multiple of 4) and B
// rows padded to ldb = N rounded up to 4 (attention's K^T / V^T, src/nn/attention.ts attnLd),
// batched like attention's scores, against src/ref/nn/matmul.ts. The padding holds NaN, so a
// kernel that let a padding column into C would fail.
import { describe, expect, it } from "vitest";
import { matmulCall, matmulShader } from "../../src/nn/matmul.js";
import * as ref from "../../src/ref/nn/matmul.js";
import { expectClose, testGpu } from "../helpers.js";
import { f32, gpuTensor, rand64, run, TOL } from "./util.js";

describe("matmul with ragged N and padded B rows (ldb = N rounded up to 4)", () => {
  const cases: [number, number, number, number][] = [
    // [M, N, K, batches]
    [13, 9, 5, 1],
    [37, 197, 24, 2],
    [197, 197, 32, 3],
    [5, 66, 3, 2],
  ];
  for (const [M, N, K, Z] of cases)
    for (const kernel of ["auto", "tiled"] as const)
      it(`M=${M} N=${N} K=${K} batches=${Z} (${kernel === "auto" ? "subgroup" : "tiled vec4"}), accumulate`, async () => {
        const gpu = await testGpu();
        const ldb = Math.ceil(N / 4) * 4;
        const ldc = N + 3;
        const a = f32(rand64(Z * M * K, 11));
        const bDense = f32(rand64(Z * K * N, 12));
        const b = new Float64Array(Z * K * ldb).fill(Number.NaN);
        for (let z = 0; z < Z; z++)
          for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) b[(z * K + k) * ldb + n] = bDense[(z * K + k) * N + n];
        const c0 = f32(rand64(Z * M * ldc, 13));
        const A = gpuTensor(gpu, "a", [Z * M * K], a);
        const B = gpuTensor(gpu, "b", [Z * K * ldb], b);
        const C = gpuTensor(gpu, "c", [Z * M * ldc], c0);
        const spec = {
          M,
          N,
          K,
          a: A,
          b: B,
          ldb,
          c: C,
          ldc,
          batches: Z,
          batchH: 1,
          aStride: [M * K, 0] as [number, number],
          bStride: [K * ldb, 0] as [number, number],
          cStride: [M * ldc, 0] as [number, number],
          accumulate: true,
          kernel,
        };
        const want = kernel === "auto" && gpu.subgroupMinSize >= 8 ? "nn/matmul_sg.wgsl" : "nn/matmul.wgsl";
        expect(matmulShader(gpu, spec)).toBe(want);
        const [out] = await run(gpu, [matmulCall(gpu, spec)], C);
        const bOk = Float64Array.from(b, (x) => (Number.isNaN(x) ? 0 : x));
        const expected = ref.matmul(a, bOk, Float64Array.from(c0), { ...spec, a: undefined, b: undefined, c: undefined } as never);
        expect(out.some((x) => Number.isNaN(x))).toBe(false);
        expectClose(out, expected, TOL.f32.matmul * Math.sqrt(K), `padded matmul ${M}x${N}x${K}`);
      });
});
