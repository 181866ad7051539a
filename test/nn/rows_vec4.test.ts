// The vec4 entries of layernorm_forward.wgsl (main4), layernorm_backward.wgsl (dx4_main, dparams4)
// and bias_grad.wgsl (main4), taken when C (N) and every offset are multiples of 4, against the twins
// (src/ref/nn/layers.ts, src/ref/nn/matmul.ts); parameters and gradients are views at offsets 4 and
// 4 + C of flat buffers, as in the model. The f32 entries keep their tests in layers.test.ts (C=19).
import { describe, expect, it } from "vitest";
import { view } from "../../src/nn/core.js";
import * as L from "../../src/nn/layers.js";
import { biasGradCall } from "../../src/nn/matmul.js";
import * as refL from "../../src/ref/nn/layers.js";
import * as refM from "../../src/ref/nn/matmul.js";
import { expectClose, testGpu } from "../helpers.js";
import { f32, gpuTensor, rand64, run, TOL } from "./util.js";

const entry = (c: { pipe: GPUComputePipeline }) => c.pipe.label.split(":").pop();

describe("vec4 row kernels (layernorm main4 / dx4_main / dparams4, bias_grad main4)", () => {
  it("LayerNorm forward + backward (dx accumulate) match the twin, N=37 C=20", async () => {
    const gpu = await testGpu();
    const N = 37;
    const C = 20;
    const x = f32(rand64(N * C, 41, -2, 3));
    const w = f32(rand64(C, 42));
    const b = f32(rand64(C, 43));
    const g = f32(rand64(N * C, 44));
    const dx0 = f32(rand64(N * C, 45));
    const dwb0 = f32(rand64(2 * C, 46));
    const P = gpuTensor(gpu, "params", [4 + 2 * C], [0, 0, 0, 0, ...w, ...b]);
    const G = gpuTensor(gpu, "grads", [4 + 2 * C], [0, 0, 0, 0, ...dwb0]);
    const X = gpuTensor(gpu, "x", [N, C], x);
    const Y = gpuTensor(gpu, "y", [N, C]);
    const M = gpuTensor(gpu, "mean", [N]);
    const R = gpuTensor(gpu, "rstd", [N]);
    const DY = gpuTensor(gpu, "dy", [N, C], g);
    const DX = gpuTensor(gpu, "dx", [N, C], dx0);
    const wv = view(P, 4, [C], "w");
    const bv = view(P, 4 + C, [C], "b");
    const calls = [
      L.layernormForward(gpu, { x: X, w: wv, b: bv, y: Y, mean: M, rstd: R, N, C }),
      ...L.layernormBackward(gpu, {
        x: X,
        dy: DY,
        w: wv,
        mean: M,
        rstd: R,
        dx: DX,
        dw: view(G, 4, [C]),
        db: view(G, 4 + C, [C]),
        N,
        C,
        accumulate: true,
      }),
    ];
    expect(calls.map(entry)).toEqual(["main4", "dx4_main", "dparams4"]);
    const [y, mean, rstd, dx, grads] = await run(gpu, calls, Y, M, R, DX, G);
    const want = refL.layernormForward(x, w, b, N, C);
    const dw = dwb0.slice(0, C);
    const db = dwb0.slice(C);
    const wantDx = refL.layernormBackward(x, g, w, want.mean, want.rstd, dw, db, N, C, dx0);
    expectClose(y, want.y, TOL.f32.reduction, "layernorm main4 y");
    expectClose(mean, want.mean, TOL.f32.reduction, "layernorm main4 mean");
    expectClose(rstd, want.rstd, TOL.f32.reduction, "layernorm main4 rstd");
    expectClose(dx, wantDx, TOL.f32.reduction, "layernorm dx4_main");
    expectClose(grads.subarray(0, 4), [0, 0, 0, 0], TOL.exact, "untouched head of the gradient buffer");
    expectClose(grads.subarray(4, 4 + C), dw, TOL.f32.reduction * 10, "layernorm dparams4 dw");
    expectClose(grads.subarray(4 + C), db, TOL.f32.reduction * 10, "layernorm dparams4 db");
  });

  it("bias grad main4 (accumulating into a view at offset 4) matches the twin, M=37 N=20", async () => {
    const gpu = await testGpu();
    const M = 37;
    const N = 20;
    const dy = f32(rand64(M * N, 47));
    const db0 = f32(rand64(N, 48));
    const DY = gpuTensor(gpu, "dy", [M, N], dy);
    const DB = gpuTensor(gpu, "db", [4 + N + 4], [9, 9, 9, 9, ...db0, 9, 9, 9, 9]);
    const call = biasGradCall(gpu, DY, view(DB, 4, [N]), M, N, true);
    expect(entry(call)).toBe("main4");
    const [out] = await run(gpu, [call], DB);
    const want = refM.biasGrad(dy, Float64Array.from(db0), M, N, true);
    expectClose(out, [9, 9, 9, 9, ...want, 9, 9, 9, 9], TOL.f32.reduction * 10, "bias grad main4");
  });
});
