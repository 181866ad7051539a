// The vec4 entries of elementwise.wgsl (add4, axpy4, scale4, fill4) and gelu.wgsl (forward4,
// backward4), taken when n and every offset are multiples of 4, against the twins in
// src/ref/nn/layers.ts; views start inside their buffers (offset 8) and the elements around them
// must stay untouched. The f32 entries keep their own tests (test/nn/layers.test.ts, n odd).
import { describe, expect, it } from "vitest";
import { view } from "../../src/nn/core.js";
import * as L from "../../src/nn/layers.js";
import * as ref from "../../src/ref/nn/layers.js";
import { expectClose, testGpu } from "../helpers.js";
import { f32, gpuTensor, rand64, run, TOL } from "./util.js";

describe("vec4 elementwise entries (elementwise.wgsl *4, gelu.wgsl forward4 / backward4)", () => {
  const n = 1028;
  const pad = 8;
  const entry = (c: { pipe: GPUComputePipeline }) => c.pipe.label.split(":").pop();

  it("add4, axpy4, scale4, fill4 match the twins on views at offset 8", async () => {
    const gpu = await testGpu();
    const a = f32(rand64(n, 31));
    const b = f32(rand64(n, 32));
    const around = f32(rand64(n + 2 * pad, 33));
    const T = (name: string, data?: Float64Array) => gpuTensor(gpu, name, [n + 2 * pad], data ?? around);
    const v = (t: ReturnType<typeof T>) => view(t, pad, [n]);
    const withIn = (x: Float64Array) => {
      const y = Float64Array.from(around);
      y.set(x, pad);
      return y;
    };
    const [A, B, O, Acc, S, F] = [T("a", withIn(a)), T("b", withIn(b)), T("o"), T("acc", withIn(b)), T("s"), T("f")];
    const calls = [
      L.addCall(gpu, v(A), v(B), v(O), n),
      L.axpyCall(gpu, v(A), v(Acc), n, 0.5),
      L.scaleCall(gpu, v(A), v(S), n, -2),
      L.fillCall(gpu, v(F), n, 3),
    ];
    expect(calls.map(entry)).toEqual(["add4", "axpy4", "scale4", "fill4"]);
    const [o, acc, s, fl] = await run(gpu, calls, O, Acc, S, F);
    expectClose(o, withIn(ref.add(a, b)), TOL.f32.elementwise, "add4");
    expectClose(acc, withIn(ref.axpy(a, Float64Array.from(b), 0.5)), TOL.f32.elementwise, "axpy4");
    expectClose(s, withIn(Float64Array.from(a, (x) => -2 * x)), TOL.f32.elementwise, "scale4");
    expectClose(fl, withIn(new Float64Array(n).fill(3)), TOL.exact, "fill4");
  });

  it("gelu forward4 / backward4 (and backward4 accumulating) match the twins", async () => {
    const gpu = await testGpu();
    const x = f32(rand64(n, 34, -6, 6));
    const g = f32(rand64(n, 35));
    const d0 = f32(rand64(n, 36));
    const X = gpuTensor(gpu, "x", [n], x);
    const Y = gpuTensor(gpu, "y", [n]);
    const DY = gpuTensor(gpu, "dy", [n], g);
    const DX = gpuTensor(gpu, "dx", [n]);
    const DXA = gpuTensor(gpu, "dx acc", [n], d0);
    const calls = [L.geluForward(gpu, X, Y, n), L.geluBackward(gpu, X, DY, DX, n), L.geluBackward(gpu, X, DY, DXA, n, true)];
    expect(calls.map(entry)).toEqual(["forward4", "backward4", "backward4"]);
    const [y, dx, dxa] = await run(gpu, calls, Y, DX, DXA);
    expectClose(y, ref.geluForward(x), TOL.f32.elementwise, "gelu forward4");
    expectClose(dx, ref.geluBackward(x, g), TOL.f32.elementwise, "gelu backward4");
    const acc = ref.geluBackward(x, g).map((v, i) => v + d0[i]);
    expectClose(dxa, acc, TOL.f32.elementwise, "gelu backward4 accumulate");
  });
});
