import { describe, expect, it } from "vitest";
import { PARAM_ALIGN } from "../../src/models/params.js";
import { Pcg32 } from "../../src/prng.js";
import {
  bilinearUpsampleBackward,
  bilinearUpsampleForward,
  headDims,
  headOutputShape,
  headParamSpecs,
  initHeadParams,
  makeHeadConfig,
} from "../../src/probe/heads.js";
import { unpatchifyRef } from "../../src/ref/models/mim.js";
import {
  gelu,
  geluGrad,
  type HeadDims,
  headBackward,
  headForward,
  pixelShuffleBackward,
  pixelShuffleForward,
} from "../../src/ref/probe/heads.js";
import { crossEntropyBackward, crossEntropyForward, siLogBackward, siLogForward } from "../../src/ref/probe/losses.js";
import { TOL } from "../tolerances.js";

function rand(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = new Pcg32(seed, 9);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r.nextFloat());
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; at: number } {
  let max = 0;
  let at = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (e > max) [max, at] = [e, i];
  }
  return { max, at };
}

describe("pixel shuffle (token blocks -> dense map)", () => {
  it("hand example: 1x2 tokens, p = 2, C = 1", () => {
    // token 0 = [0, 1, 2, 3] (py, px) = (0,0), (0,1), (1,0), (1,1); token 1 = [4, 5, 6, 7]
    // map 2x4: row 0 = [0, 1, 4, 5], row 1 = [2, 3, 6, 7]
    expect(Array.from(pixelShuffleForward([0, 1, 2, 3, 4, 5, 6, 7], 1, 1, 2, 2, 1))).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
  });

  it("uses MAE's unpatchify order (so decoder_pred kernels serve both) and backward is its transpose", () => {
    // B = 2, 3x3 tokens, p = 2, C = 3 (RGB): unpatchifyRef gives (B, 3, H, W); ours (B, H, W, 3).
    const B = 2;
    const G = 3;
    const p = 2;
    const x = rand(B * G * G * p * p * 3, 1);
    const ours = pixelShuffleForward(x, B, G, G, p, 3);
    const mae = unpatchifyRef(Float32Array.from(x), B, G * p, p);
    const S = G * p;
    let max = 0;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < S; y++)
        for (let xx = 0; xx < S; xx++)
          for (let c = 0; c < 3; c++)
            max = Math.max(max, Math.abs(ours[((b * S + y) * S + xx) * 3 + c] - mae[((b * 3 + c) * S + y) * S + xx]));
    expect(max).toBeLessThan(TOL.f32.elementwise); // mae is f32
    // <shuffle(x), y> = <x, shuffle^T(y)>
    const yv = rand(ours.length, 2);
    const back = new Float64Array(x.length);
    pixelShuffleBackward(yv, back, B, G, G, p, 3);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
    expect(dot(ours, yv)).toBeCloseTo(dot(x, back), 10);
  });
});

describe("bilinear upsampling (DINOv2-style linear head: per-token values -> dense map)", () => {
  const x = [1, 2, 4, 0, -1, 3]; // (gh, gw) = (2, 3), C = 1
  it("matches PyTorch's F.interpolate(bilinear, align_corners=False) at scale 2 and 3", () => {
    // torch.nn.functional.interpolate(x.view(1, 1, 2, 3), scale_factor=s, mode="bilinear", align_corners=False)
    const torch2 = [
      [1.0, 1.25, 1.75, 2.5, 3.5, 4.0],
      [0.75, 0.875, 1.125, 1.875, 3.125, 3.75],
      [0.25, 0.125, -0.125, 0.625, 2.375, 3.25],
      [0.0, -0.25, -0.75, 0.0, 2.0, 3.0],
    ].flat();
    const torch3row3 = [
      0.3333333134651184, 0.3333333134651184, 0.22222217917442322, 0.11111103743314743, 8.94e-8, 1.1111111640930176, 2.222222328186035,
      3.3333332538604736, 3.3333332538604736,
    ];
    const up2 = bilinearUpsampleForward(x, 1, 2, 3, 2, 1);
    expect(up2.length).toBe(24);
    for (let i = 0; i < 24; i++) expect(up2[i]).toBeCloseTo(torch2[i], 12);
    const up3 = bilinearUpsampleForward(x, 1, 2, 3, 3, 1);
    for (let i = 0; i < 9; i++) expect(up3[3 * 9 + i]).toBeCloseTo(torch3row3[i], 6); // torch ran in float32
  });

  it("keeps channels and batch items apart, is the identity at p = 1, and backward is its adjoint", () => {
    const B = 2;
    const C = 3;
    const v = rand(B * 2 * 3 * C, 11);
    expect(Array.from(bilinearUpsampleForward(v, B, 2, 3, 1, C))).toEqual(Array.from(v));
    const up = bilinearUpsampleForward(v, B, 2, 3, 4, C);
    // channel 1 of item 1 alone, upsampled, equals that slice of the joint upsampling
    const slice = Float64Array.from({ length: 6 }, (_, i) => v[(6 + i) * C + 1]);
    const alone = bilinearUpsampleForward(slice, 1, 2, 3, 4, 1);
    for (let i = 0; i < alone.length; i++) expect(up[(96 + i) * C + 1]).toBe(alone[i]);
    const y = rand(up.length, 12);
    const back = new Float64Array(v.length);
    bilinearUpsampleBackward(y, back, B, 2, 3, 4, C);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, t, i) => s + t * b[i], 0);
    expect(dot(up, y)).toBeCloseTo(dot(v, back), 10);
  });
});

describe("probe heads: CPU reference forward/backward", () => {
  it("linear head by hand: 1 token, D = 2, p = 1, C = 2", () => {
    // W = [[1, 2], [3, -1]], b = [0.5, -0.5], token [2, 1] -> [1*2 + 2*1 + 0.5, 3*2 - 1 + -0.5] = [4.5, 4.5]
    const dims: HeadDims = { B: 1, gh: 1, gw: 1, D: 2, p: 1, C: 2, hidden: 0, upsample: false };
    const { out } = headForward([2, 1], { w1: [1, 2, 3, -1], b1: [0.5, -0.5] }, dims);
    expect(Array.from(out)).toEqual([4.5, 4.5]);
    // mlp with identity-ish sizes: hidden 1, w1 = [1, 0], b1 = 0, w2 = [2], b2 = [1]: 2 * gelu(2) + 1
    const mlp = headForward([2, 1], { w1: [1, 0], b1: [0], w2: [2], b2: [1] }, { ...dims, C: 1, hidden: 1 });
    expect(mlp.out[0]).toBeCloseTo(2 * gelu(2) + 1, 12);
    // gelu(2) = 2 * Phi(2) = 2 * 0.977249868051821
    expect(gelu(2)).toBeCloseTo(1.954499736103642, 12);
    expect(geluGrad(0)).toBeCloseTo(0.5, 14);
    expect(() => headForward([1, 2, 3], { w1: [1, 2], b1: [0] }, { ...dims, C: 1 })).toThrow(/expected \(B, L, D\) = \(1, 1, 2\)/);
  });

  // Finite-difference check of head + loss w.r.t. every weight and the tokens, float64.
  function gradCheck(kind: "linear" | "mlp", task: "depth" | "seg", upsample = false) {
    const C = task === "depth" ? 1 : 3;
    const dims: HeadDims = { B: 2, gh: 2, gw: 3, D: 4, p: upsample ? 3 : 2, C, hidden: kind === "mlp" ? 5 : 0, upsample };
    const M = dims.B * dims.gh * dims.gw;
    const P = upsample ? C : dims.p * dims.p * C;
    const pixels = dims.B * dims.gh * dims.p * dims.gw * dims.p;
    const tokens = rand(M * dims.D, 3);
    type W = { w1: Float64Array; b1: Float64Array; w2?: Float64Array; b2?: Float64Array };
    const w: W =
      kind === "linear"
        ? { w1: rand(P * dims.D, 4, -0.5, 0.5), b1: rand(P, 5, -0.2, 0.2) }
        : {
            w1: rand(dims.hidden * dims.D, 4),
            b1: rand(dims.hidden, 5),
            w2: rand(P * dims.hidden, 6, -0.5, 0.5),
            b2: rand(P, 7, -0.2, 0.2),
          };
    const gt = rand(pixels, 8, 0.5, 4);
    gt[3] = 0; // a hole in depth
    const r = new Pcg32(10, 1);
    const labels = Array.from({ length: pixels }, (_, i) => (i % 7 === 0 ? 255 : r.nextBelow(C)));
    const N = pixels / dims.B;
    const loss = (): number => {
      const { out } = headForward(tokens, w, dims);
      return task === "depth" ? siLogForward(out, gt, dims.B, N).loss : crossEntropyForward(out, labels, pixels, C).loss;
    };
    // analytic
    const { out, acts } = headForward(tokens, w, dims);
    const dout = new Float64Array(out.length);
    if (task === "depth") siLogBackward(siLogForward(out, gt, dims.B, N).acts, 1, dout);
    else crossEntropyBackward(crossEntropyForward(out, labels, pixels, C).acts, 1, dout);
    const grads = Object.fromEntries(Object.entries(w).map(([k, v]) => [k, new Float64Array(v.length)])) as W;
    const dtokens = headBackward(acts, w, dout, grads, true)!;
    // numeric
    const h = 1e-6;
    const check = (name: string, x: Float64Array, g: ArrayLike<number>) => {
      const num = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const keep = x[i];
        x[i] = keep + h;
        const up = loss();
        x[i] = keep - h;
        const down = loss();
        x[i] = keep;
        num[i] = (up - down) / (2 * h);
      }
      const { max, at } = maxRelErr(g, num);
      expect(max, `${kind}/${task} d${name}: max rel err ${max} at ${at} (analytic ${g[at]}, numeric ${num[at]})`).toBeLessThan(
        TOL.head.gradCheckRel,
      );
      expect(
        num.some((v) => Math.abs(v) > 1e-4),
        `${kind}/${task} d${name} is not all zero`,
      ).toBe(true);
    };
    for (const k of Object.keys(w) as (keyof W)[]) check(k, w[k]!, grads[k]!);
    check("tokens", tokens, dtokens);
  }

  it("linear head + SILog: gradients match finite differences", () => gradCheck("linear", "depth"));
  it("linear head + cross-entropy: gradients match finite differences", () => gradCheck("linear", "seg"));
  it("mlp head + SILog: gradients match finite differences", () => gradCheck("mlp", "depth"));
  it("mlp head + cross-entropy: gradients match finite differences", () => gradCheck("mlp", "seg"));
  it("upsampling linear head + SILog: gradients match finite differences", () => gradCheck("linear", "depth", true));
  it("upsampling linear head + cross-entropy: gradients match finite differences", () => gradCheck("linear", "seg", true));
});

describe("head configs, parameter table and init", () => {
  it("presets fill in from the encoder and the task", () => {
    const enc = { embedDim: 192, patchSize: 16, imageHeight: 224, imageWidth: 224 };
    const lin = makeHeadConfig("linear", enc, "depth");
    expect(lin).toEqual({
      kind: "linear",
      task: "depth",
      embedDim: 192,
      patchSize: 16,
      gridH: 14,
      gridW: 14,
      outChannels: 1,
      hidden: 0,
      upsample: false,
    });
    expect(headOutputShape(lin, 4)).toEqual([4, 224, 224, 1]);
    expect(headParamSpecs(lin).map((s) => [s.name, s.shape])).toEqual([
      ["head.weight", [256, 192]],
      ["head.bias", [256]],
    ]);
    const mlp = makeHeadConfig("mlp", enc, "seg", 13);
    expect(headDims(mlp, 2)).toEqual({ B: 2, gh: 14, gw: 14, D: 192, p: 16, C: 13, hidden: 256, upsample: false });
    const up = makeHeadConfig("upsample", enc, "seg", 13);
    expect(up.upsample).toBe(true);
    expect(headParamSpecs(up).map((s) => [s.name, s.shape])).toEqual([
      ["head.weight", [13, 192]],
      ["head.bias", [13]],
    ]);
    expect(headOutputShape(up, 2)).toEqual([2, 224, 224, 13]);
    expect(headParamSpecs(mlp).map((s) => [s.name, s.shape, s.decay])).toEqual([
      ["head.fc1.weight", [256, 192], true],
      ["head.fc1.bias", [256], false],
      ["head.fc2.weight", [16 * 16 * 13, 256], true],
      ["head.fc2.bias", [16 * 16 * 13], false],
    ]);
    expect(() => makeHeadConfig("linear", { ...enc, imageWidth: 200 }, "depth")).toThrow(/200x224 is not a multiple of the patch size 16/);
    expect(() => makeHeadConfig("mlp", enc, "seg")).toThrow(/needs numClasses/);
  });

  it("flat aligned layout, seeded xavier init, output bias", () => {
    const cfg = makeHeadConfig("mlp", { embedDim: 8, patchSize: 2, imageHeight: 4, imageWidth: 6 }, "seg", 3);
    const a = initHeadParams(cfg, 7);
    const b = initHeadParams(cfg, 7);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(initHeadParams(cfg, 8).data)).not.toEqual(Array.from(a.data));
    for (const e of a.layout.entries) expect(e.offset % PARAM_ALIGN).toBe(0);
    // hidden 256 x D 8: bound sqrt(6 / 264)
    const w1 = a.get("head.fc1.weight");
    const bound = Math.sqrt(6 / (256 + 8));
    expect(Math.max(...Array.from(w1).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w1).map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(a.get("head.fc1.bias")).every((v) => v === 0)).toBe(true);
    const d = initHeadParams(
      makeHeadConfig("linear", { embedDim: 8, patchSize: 2, imageHeight: 4, imageWidth: 6 }, "depth"),
      1,
      Math.log(2.5),
    );
    expect(Array.from(d.get("head.bias"))).toEqual(new Array(4).fill(Math.fround(Math.log(2.5))));
    expect(() => d.get("head.fc1.weight")).toThrow(/no parameter 'head.fc1.weight' in a linear head/);
    // the views drive the reference forward: output (B, H, W, C)
    const { out } = headForward(new Float32Array(6 * 8).fill(0.1), a.weights(), headDims(cfg, 1));
    expect(out.length).toBe(4 * 6 * 3);
    const g = a.zeroGrads();
    expect(g.data.length).toBe(a.data.length);
  });
});
