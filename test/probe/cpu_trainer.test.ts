import { describe, expect, it } from "vitest";
import { CpuHeadTrainer, headBackwardF32, headForwardF32, probeLoss } from "../../src/probe/cpu_trainer.js";
import { headDims, makeHeadConfig } from "../../src/probe/heads.js";
import { type HeadDims, headBackward, headForward } from "../../src/ref/probe/heads.js";
import { expectClose, randomFloats } from "../helpers.js";
import { TOL } from "../tolerances.js";

describe("CPU head trainer", () => {
  for (const [hidden, upsample] of [
    [0, false],
    [6, false],
    [0, true],
  ] as const)
    it(`float32 fast path matches the float64 reference heads (${hidden ? "mlp" : upsample ? "upsampling linear" : "linear"})`, () => {
      // odd sizes exercise the 4-wide column blocking tails
      const d: HeadDims = { B: 2, gh: 3, gw: 2, D: 7, p: upsample ? 3 : 2, C: 5, hidden, upsample };
      const M = d.B * d.gh * d.gw;
      const P = upsample ? d.C : d.p * d.p * d.C;
      const tokens = randomFloats(M * d.D, 1, -1, 1);
      const w = hidden
        ? {
            w1: randomFloats(hidden * d.D, 2, -0.5, 0.5),
            b1: randomFloats(hidden, 3, -0.1, 0.1),
            w2: randomFloats(P * hidden, 4, -0.5, 0.5),
            b2: randomFloats(P, 5, -0.1, 0.1),
          }
        : { w1: randomFloats(P * d.D, 2, -0.5, 0.5), b1: randomFloats(P, 3, -0.1, 0.1) };
      const fast = headForwardF32(tokens, w, d);
      const ref = headForward(tokens, w, d);
      expectClose(fast.out, ref.out, TOL.head.forward, "head forward f32 vs ref");
      const dout = randomFloats(fast.out.length, 6, -1, 1);
      const zeros = (v: Float32Array) => new Float32Array(v.length);
      const gf = hidden ? { w1: zeros(w.w1), b1: zeros(w.b1), w2: zeros(w.w2!), b2: zeros(w.b2!) } : { w1: zeros(w.w1), b1: zeros(w.b1) };
      headBackwardF32(tokens, fast, w, dout, gf, d);
      const gr = hidden
        ? {
            w1: new Float64Array(w.w1.length),
            b1: new Float64Array(w.b1.length),
            w2: new Float64Array(w.w2!.length),
            b2: new Float64Array(w.b2!.length),
          }
        : { w1: new Float64Array(w.w1.length), b1: new Float64Array(w.b1.length) };
      headBackward(ref.acts, w, dout, gr);
      for (const k of Object.keys(gf) as (keyof typeof gf)[])
        expectClose(gf[k]!, gr[k]!, TOL.head.backward, `head backward d${k} f32 vs ref`);
    });

  it("AdamW: the first step moves each parameter by lr * sign(grad) (+ decoupled decay on weights only)", async () => {
    const cfg = makeHeadConfig("linear", { embedDim: 4, patchSize: 1, imageHeight: 2, imageWidth: 2 }, "depth");
    const lr = 0.01;
    const tr = new CpuHeadTrainer(cfg, 3, 0.5, { beta1: 0.9, beta2: 0.999, eps: 1e-12, weightDecay: 0.1 });
    const before = tr.params.data.slice();
    const tokens = randomFloats(4 * 4, 7, -1, 1);
    const depth = Float32Array.from([1, 2, 3, 4]);
    // the gradient the step will use
    const d = headDims(cfg, 1);
    const fwd = headForwardF32(tokens, tr.params.weights() as never, d);
    const { dout } = probeLoss(fwd.out, { kind: "depth", depth }, 1, 4, 1);
    const g = tr.params.zeroGrads();
    headBackwardF32(tokens, fwd, tr.params.weights() as never, dout, g.grads as never, d);
    const loss = await tr.step(tokens, { kind: "depth", depth }, 1, lr);
    expect(loss).toBeGreaterThan(0);
    const w = tr.params.layout.byName.get("head.weight")!;
    const b = tr.params.layout.byName.get("head.bias")!;
    for (let i = w.offset; i < w.offset + w.size; i++)
      expect(tr.params.data[i]).toBeCloseTo(before[i] - lr * (Math.sign(g.data[i]) + 0.1 * before[i]), 6);
    // bias: no decay; initial value is the output bias 0.5
    expect(before[b.offset]).toBe(0.5);
    expect(tr.params.data[b.offset]).toBeCloseTo(0.5 - lr * Math.sign(g.data[b.offset]), 6);
  });
});
