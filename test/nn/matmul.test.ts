// matmul.wgsl, matmul_scalar.wgsl, transpose_view.wgsl, bias_grad.wgsl vs src/ref/nn/matmul.ts.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Gpu } from "../../src/gpu/device.js";
import { compileErrors, packageRoot } from "../../src/gpu/kernel.js";
import { tensorF16, view } from "../../src/nn/core.js";
import {
  biasGradCall,
  castCall,
  type LinearParams,
  linearBackward,
  linearForward,
  matmulCall,
  matmulShader,
  transposeCall,
} from "../../src/nn/matmul.js";
import * as ref from "../../src/ref/nn/matmul.js";
import { expectClose, testGpu } from "../helpers.js";
import { dotLoss, f32, gpuTensor, gradCheck, rand64, run, TOL } from "./util.js";

describe("shaders/nn compile", () => {
  it("every kernel in shaders/nn compiles (the included bodies, e.g. matmul_core.wgsl, through their includers)", async () => {
    const gpu = await testGpu();
    const dir = path.join(packageRoot(), "shaders", "nn");
    const all = fs.readdirSync(dir).filter((f) => f.endsWith(".wgsl"));
    const included = new Set(
      all.flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/^\/\/!include nn\/(\S+)\s*$/gm)].map((m) => m[1])),
    );
    expect([...included].sort()).toEqual(["matmul_common.wgsl", "matmul_core.wgsl", "matmul_sg_tail.wgsl"]);
    const names = all.filter((f) => !included.has(f));
    expect(names.length).toBeGreaterThan(15);
    const errors = (await Promise.all(names.map((n) => compileErrors(gpu, `nn/${n}`)))).flat();
    expect(errors, errors.join("\n")).toEqual([]);
  });
});

describe("matmul (nn/matmul_sg.wgsl, nn/matmul.wgsl, nn/matmul_scalar.wgsl, bodies nn/matmul_core.wgsl, nn/matmul_common.wgsl)", () => {
  it("f32 matmuls with vec4-aligned B take matmul_sg.wgsl on an adapter with subgroups of >= 8", async () => {
    const gpu = await testGpu();
    const t = (n: number) => gpuTensor(gpu, "t", [n]);
    const spec = { M: 5, N: 8, K: 3, a: t(15), b: t(24), c: t(40) };
    const sg = gpu.subgroupMinSize >= 8;
    expect(matmulShader(gpu, spec)).toBe(sg ? "nn/matmul_sg.wgsl" : "nn/matmul.wgsl");
    expect(matmulShader(gpu, { ...spec, kernel: "tiled" })).toBe("nn/matmul.wgsl");
    expect(matmulShader(gpu, { ...spec, N: 7, b: t(21), c: t(35) })).toBe("nn/matmul_scalar.wgsl");
  });

  // matmul_sg_at.wgsl: A transposed (sam = 1) and vec4-aligned; ragged M (rows padded to sak),
  // K not a multiple of 8, two-level batches, C at an aligned offset, bias and accumulate.
  for (const [M, N, K, sak] of [
    [13, 20, 9, 16],
    [40, 64, 29, 40],
    [197, 32, 21, 200],
  ])
    it(`transposed A in vec4 groups (matmul_sg_at.wgsl) M=${M} N=${N} K=${K} sak=${sak}, batched, bias, accumulate`, async () => {
      const gpu = await testGpu();
      const Bn = 2;
      const H = 2;
      const aLen = Bn * H * sak * K + 4;
      const a = f32(rand64(aLen, 11));
      const b = f32(rand64(Bn * H * K * N, 12));
      const bias = f32(rand64(N, 13));
      const c0 = f32(rand64(Bn * H * M * N + 4, 14));
      const C = gpuTensor(gpu, "c", [c0.length], c0);
      const spec = {
        M,
        N,
        K,
        a: view(gpuTensor(gpu, "a", [aLen], a), 4, [aLen - 4]),
        sam: 1,
        sak,
        b: gpuTensor(gpu, "b", [b.length], b),
        c: view(C, 4, [Bn * H * M * N]),
        bias: gpuTensor(gpu, "bias", [N], bias),
        accumulate: true,
        batches: Bn * H,
        batchH: H,
        aStride: [H * sak * K, sak * K] as [number, number],
        bStride: [H * K * N, K * N] as [number, number],
        cStride: [H * M * N, M * N] as [number, number],
      };
      expect(matmulShader(gpu, spec)).toBe(gpu.subgroupMinSize >= 8 ? "nn/matmul_sg_at.wgsl" : "nn/matmul.wgsl");
      const [out] = await run(gpu, [matmulCall(gpu, spec)], C);
      const want = ref.matmul(a.subarray(4), b, Float64Array.from(c0.subarray(4)), { ...spec, bias: Float64Array.from(bias) });
      expectClose(out.subarray(4), want, TOL.f32.matmul * Math.sqrt(K), "transposed-A matmul");
      expect(Array.from(out.subarray(0, 4))).toEqual(Array.from(c0.subarray(0, 4)));
    });

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 5, 3],
    [13, 20, 9],
    [33, 36, 17],
    [50, 128, 40],
    [9, 130, 64],
    [16, 64, 8],
    [37, 200, 29],
    [21, 32, 11],
  ];
  for (const [M, N, K] of shapes)
    for (const kernel of N % 4 === 0 ? (["auto", "tiled"] as const) : (["auto"] as const))
      it(`M=${M} N=${N} K=${K} (${N % 4 === 0 ? (kernel === "auto" ? "subgroup" : "tiled vec4") : "scalar"} B), bias, accumulate`, async () => {
        const gpu = await testGpu();
        const a = f32(rand64(M * K, 1));
        const b = f32(rand64(K * N, 2));
        const bias = f32(rand64(N, 3));
        const c0 = f32(rand64(M * N, 4));
        const A = gpuTensor(gpu, "a", [M, K], a);
        const B = gpuTensor(gpu, "b", [K, N], b);
        const Bias = gpuTensor(gpu, "bias", [N], bias);
        const C = gpuTensor(gpu, "c", [M, N]);
        const C2 = gpuTensor(gpu, "c2", [M, N], c0);
        const [out, out2] = await run(
          gpu,
          [
            matmulCall(gpu, { M, N, K, a: A, b: B, c: C, bias: Bias, kernel }),
            matmulCall(gpu, { M, N, K, a: A, b: B, c: C2, accumulate: true, kernel }),
          ],
          C,
          C2,
        );
        const want = ref.matmul(a, b, new Float64Array(M * N), { M, N, K, bias });
        const want2 = ref.matmul(a, b, Float64Array.from(c0), { M, N, K, accumulate: true });
        expectClose(out, want, TOL.f32.matmul * Math.sqrt(K), `matmul ${M}x${N}x${K}`);
        expectClose(out2, want2, TOL.f32.matmul * Math.sqrt(K), `matmul accumulate ${M}x${N}x${K}`);
      });

  for (const kernel of ["auto", "tiled"] as const)
    it(`batched two-level (B, H) with strided A (transposed) and offsets (${kernel === "auto" ? "subgroup" : "tiled"})`, async () => {
      const gpu = await testGpu();
      // A stored transposed: A(m, k) = a[k * M + m]; per (b, h): offsets b * s1 + h * s2.
      const Bn = 2;
      const H = 3;
      const M = 11;
      const N = 12;
      const K = 10;
      const aLen = Bn * H * M * K + 5;
      const a = f32(rand64(aLen, 5));
      const b = f32(rand64(Bn * H * K * N + 8, 6));
      const A = gpuTensor(gpu, "a", [aLen], a);
      const B = gpuTensor(gpu, "b", [b.length], b);
      const C = gpuTensor(gpu, "c", [Bn * H * M * N + 3]);
      const spec = {
        M,
        N,
        K,
        sam: 1,
        sak: M,
        batches: Bn * H,
        batchH: H,
        aStride: [H * M * K, M * K] as [number, number],
        bStride: [H * K * N, K * N] as [number, number],
        cStride: [H * M * N, M * N] as [number, number],
      };
      const Av = view(A, 5, [aLen - 5]);
      const Bv = view(B, 8, [b.length - 8]);
      const Cv = view(C, 3, [Bn * H * M * N]);
      const [out] = await run(gpu, [matmulCall(gpu, { ...spec, a: Av, b: Bv, c: Cv, kernel })], C);
      const want = ref.matmul(a.subarray(5), b.subarray(8), new Float64Array(Bn * H * M * N), spec);
      expectClose(out.subarray(3), want, TOL.f32.matmul * Math.sqrt(K), "batched matmul");
    });

  it("transpose_view.wgsl and bias_grad.wgsl", async () => {
    const gpu = await testGpu();
    const R = 7;
    const Cc = 13;
    const src = f32(rand64(R * Cc + 2, 7));
    const S = gpuTensor(gpu, "src", [R * Cc + 2], src);
    const D = gpuTensor(gpu, "dst", [Cc * R]);
    const db0 = f32(rand64(Cc, 8));
    const DB = gpuTensor(gpu, "db", [Cc], db0);
    const Sv = view(S, 2, [R, Cc]);
    const [t, db] = await run(gpu, [transposeCall(gpu, Sv, D, R, Cc), biasGradCall(gpu, Sv, DB, R, Cc, true)], D, DB);
    expectClose(t, ref.transpose(src.subarray(2), R, Cc), TOL.exact, "transpose");
    expectClose(db, ref.biasGrad(src.subarray(2), Float64Array.from(db0), R, Cc, true), TOL.f32.reduction, "bias grad");
  });

  it("transpose4.wgsl (vec4 blocks: rows, cols and offsets multiples of 4) matches the twin", async () => {
    const gpu = await testGpu();
    for (const [R, Cc] of [
      [12, 20],
      [4, 68],
      [72, 8],
    ]) {
      const src = f32(rand64(R * Cc + 4, 9));
      const S = gpuTensor(gpu, "src", [R * Cc + 4], src);
      const D = gpuTensor(gpu, "dst", [Cc * R + 8]);
      const [t] = await run(gpu, [transposeCall(gpu, view(S, 4, [R, Cc]), view(D, 8, [Cc, R]), R, Cc)], D);
      expect(Array.from(t.subarray(0, 8))).toEqual(new Array(8).fill(0));
      expectClose(t.subarray(8), ref.transpose(src.subarray(4), R, Cc), TOL.exact, `transpose4 ${R}x${Cc}`);
    }
  });
});

describe("linear (PyTorch layout W (out, in))", () => {
  it("twin passes a float64 gradient check", () => {
    const M = 3;
    const inF = 4;
    const outF = 5;
    const x = rand64(M * inF, 11);
    const w = rand64(outF * inF, 12);
    const b = rand64(outF, 13);
    const g = rand64(M * outF, 14);
    const loss = () => dotLoss(ref.linearForward(x, w, b, M, inF, outF), g);
    const dw = new Float64Array(outF * inF);
    const db = new Float64Array(outF);
    const dx = ref.linearBackward(x, w, g, dw, db, M, inF, outF);
    gradCheck("linear dx", x, dx, loss);
    gradCheck("linear dW", w, dw, loss);
    gradCheck("linear db", b, db, loss);
  });

  for (const [M, inF, outF] of [
    [10, 7, 9],
    [24, 32, 48],
  ])
    it(`GPU forward/backward M=${M} in=${inF} out=${outF} match the twin`, async () => {
      const gpu = await testGpu();
      const x = f32(rand64(M * inF, 21));
      const w = f32(rand64(outF * inF, 22));
      const b = f32(rand64(outF, 23));
      const g = f32(rand64(M * outF, 24));
      const dw0 = f32(rand64(outF * inF, 25));
      // W and b as views into one flat parameter buffer at odd offsets.
      const flat = gpuTensor(gpu, "params", [3 + outF * inF + outF], [0, 0, 0, ...w, ...b]);
      const gflat = gpuTensor(gpu, "grads", [3 + outF * inF + outF], [0, 0, 0, ...dw0, ...new Array(outF).fill(0)]);
      const p: LinearParams = {
        w: view(flat, 3, [outF, inF], "w"),
        b: view(flat, 3 + outF * inF, [outF], "b"),
        dw: view(gflat, 3, [outF, inF], "dw"),
        db: view(gflat, 3 + outF * inF, [outF], "db"),
        wT: gpuTensor(gpu, "wT", [inF, outF]),
      };
      const X = gpuTensor(gpu, "x", [M, inF], x);
      const Y = gpuTensor(gpu, "y", [M, outF]);
      const G = gpuTensor(gpu, "g", [M, outF], g);
      const DX = gpuTensor(gpu, "dx", [M, inF]);
      const calls = [...linearForward(gpu, p, X, Y, M, inF, outF), ...linearBackward(gpu, p, X, G, DX, M, inF, outF)];
      const [y, dx, grads] = await run(gpu, calls, Y, DX, gflat);
      const dw = Float64Array.from(dw0);
      const db = new Float64Array(outF);
      const wantDx = ref.linearBackward(x, w, g, dw, db, M, inF, outF);
      const tol = TOL.f32.matmul * Math.sqrt(Math.max(M, inF, outF));
      expectClose(y, ref.linearForward(x, w, b, M, inF, outF), tol, "linear y");
      expectClose(dx, wantDx, tol, "linear dx");
      expectClose(grads.subarray(3, 3 + outF * inF), dw, tol, "linear dW");
      expectClose(grads.subarray(3 + outF * inF), db, tol, "linear db");
    });
});

describe("f16 storage (cast.wgsl, matmul_f16.wgsl, matmul_f16_scalar.wgsl)", () => {
  it("twin f16 rounding: known values", () => {
    expect(ref.roundF16(1 + 2 ** -11)).toBe(1); // tie -> even
    expect(ref.roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(ref.roundF16(0.1)).toBe(0.0999755859375);
    expect(ref.roundF16(65504)).toBe(65504);
    expect(ref.roundF16(2 ** -24)).toBe(2 ** -24);
  });

  // What f16 storage costs, checked on every adapter: with shader-f16 the GPU casts (cast.wgsl) and
  // multiplies f16 tensors (matmul_f16*.wgsl); without it the engine must refuse f16 tensors with
  // the fix, and f16 storage is emulated on the CPU (roundF16, the cast's twin) feeding the f32
  // matmul, so the same comparisons still run instead of the test returning early.
  const f16Cases = [
    [13, 20, 9],
    [9, 30, 17],
  ];
  async function f16Matmul(gpu: Gpu, M: number, N: number, K: number, emulate: boolean) {
    const a = f32(rand64(M * K, 41, -2, 2));
    const b = f32(rand64(K * N, 42, -2, 2));
    const a16 = Float64Array.from(a, ref.roundF16);
    const b16 = Float64Array.from(b, ref.roundF16);
    let out: Float32Array;
    if (emulate) {
      const A = gpuTensor(gpu, "a (f16-rounded on the CPU)", [M, K], a16);
      const B = gpuTensor(gpu, "b (f16-rounded on the CPU)", [K, N], b16);
      const C = gpuTensor(gpu, "c", [M, N]);
      [out] = await run(gpu, [matmulCall(gpu, { M, N, K, a: A, b: B, c: C })], C);
    } else {
      const A = gpuTensor(gpu, "a32", [M, K], a);
      const B = gpuTensor(gpu, "b32", [K, N], b);
      const A16 = tensorF16(gpu, "a16", [M, K]);
      const B16 = tensorF16(gpu, "b16", [K, N]);
      const Aback = gpuTensor(gpu, "a back", [M, K]);
      const C = gpuTensor(gpu, "c", [M, N]);
      let aBack: Float32Array;
      [aBack, out] = await run(
        gpu,
        [
          castCall(gpu, A, A16, M * K),
          castCall(gpu, B, B16, K * N),
          castCall(gpu, A16, Aback, M * K),
          matmulCall(gpu, { M, N, K, a: A16, b: B16, c: C }),
        ],
        Aback,
        C,
      );
      expectClose(aBack, a16, TOL.exact, "cast f32 -> f16 -> f32");
    }
    const what = emulate ? "f16 matmul (storage emulated on the CPU)" : "f16 matmul";
    // Inputs are exact in f16 and accumulation is f32: the f32 tolerance applies to the rounded inputs.
    expectClose(out, ref.matmul(a16, b16, new Float64Array(M * N), { M, N, K }), TOL.f32.matmul * Math.sqrt(K), what);
    // Against the unrounded f32 inputs the f16 tolerance applies.
    expectClose(out, ref.matmul(a, b, new Float64Array(M * N), { M, N, K }), TOL.f16.matmul * Math.sqrt(K), `${what} vs f32 inputs`);
  }

  for (const [M, N, K] of f16Cases)
    it(`cast to f16 and matmul with f32 accumulation M=${M} N=${N} K=${K}`, async () => {
      const gpu = await testGpu();
      if (!gpu.hasF16) expect(() => tensorF16(gpu, "a16", [M, K])).toThrow(/shader-f16/);
      await f16Matmul(gpu, M, N, K, !gpu.hasF16);
    });

  for (const [M, N, K] of f16Cases)
    it(`f16 storage emulated on the CPU (any adapter) M=${M} N=${N} K=${K}`, async () => {
      await f16Matmul(await testGpu(), M, N, K, true);
    });
});
