// End-to-end: a two-layer MLP and a one-block transformer learn a toy regression on the GPU
// (one command encoder per step: clear grads, forward, masked_mse, backward, grad norm, adamw.wgsl),
// matching the float64 CPU twin's loss curve step by step. Also checks the AdamW twin against
// PyTorch's update rule by hand, and the LR schedule.
import { describe, expect, it } from "vitest";
import type { Gpu } from "../../src/gpu/device.js";
import { crocoBlock, type ParamSpec, vitBlock } from "../../src/models/params.js";
import { Block, blockScratch, CrossBlock, crossScratch, linearParams } from "../../src/nn/block.js";
import { type Call, encodeCalls, numel, readTensor, type Tensor } from "../../src/nn/core.js";
import { geluBackward, geluForward, type MaskedMseArgs, maskedMseBackward, maskedMseForward } from "../../src/nn/layers.js";
import { layoutOf, tensorSpec } from "../../src/nn/layout.js";
import { linearBackward, linearForward } from "../../src/nn/matmul.js";
import { AdamW, type AdamWConfig, lrAt, maeLr } from "../../src/nn/optim.js";
import { GpuParams } from "../../src/nn/params.js";
import { Pcg32 } from "../../src/prng.js";
import { adamwStep } from "../../src/ref/nn/adamw.js";
import { blockBackward, blockForward, crossBlockBackward, crossBlockForward } from "../../src/ref/nn/block.js";
import * as ref from "../../src/ref/nn/layers.js";
import { linearBackward as refLinB, linearForward as refLinF } from "../../src/ref/nn/matmul.js";
import { expectClose as expectCloseArr, testGpu } from "../helpers.js";
import { f32, gpuTensor, rand64, TOL } from "./util.js";

/** Host init in the store's layout: LayerNorm weights near 1, biases small, weights ~ U(-a, a). */
function init(ps: GpuParams, seed: number): Float32Array {
  const flat = ps.hostZeros();
  const r = new Pcg32(seed, 5);
  for (const s of ps.specs) {
    const n = numel(s.shape);
    const isNorm = /norm\d?\.weight$/.test(s.name);
    const fanIn = s.shape.length > 1 ? s.shape[1] : 1;
    const a = s.shape.length > 1 ? Math.sqrt(3 / fanIn) : 0.1;
    for (let i = 0; i < n; i++) flat[s.offset + i] = (isNorm ? 1 : 0) + a * (2 * r.nextFloat() - 1);
  }
  return flat;
}

/** One block's parameters (the model's table, src/models/params.ts) on the GPU side. */
function blockParams(kind: "vit" | "croco", prefix: string, c: { D: number; mlpRatio: number }): GpuParams {
  const specs: ParamSpec[] = [];
  (kind === "vit" ? vitBlock : crocoBlock)(specs, prefix, c.D, c.mlpRatio * c.D);
  return new GpuParams(layoutOf(specs));
}

/** Float64 views by name into a flat array laid out like `ps`. */
const getter = (ps: GpuParams, flat: Float64Array) => (name: string) => {
  const s = ps.spec(name);
  return flat.subarray(s.offset, s.offset + numel(s.shape));
};

function mseArgs(gpu: Gpu, pred: Tensor, target: Float64Array, R: number, F: number): MaskedMseArgs {
  return {
    pred,
    target: gpuTensor(gpu, "target", [R, F], target),
    mask: gpuTensor(gpu, "mask", [R], new Float64Array(R).fill(1)),
    tn: gpuTensor(gpu, "tn", [R, F]),
    lp: gpuTensor(gpu, "lp", [R]),
    loss: gpuTensor(gpu, "loss", [2]),
    R,
    F,
    normPix: false,
  };
}

function expectCurve(gpuLoss: number[], cpuLoss: number[], what: string): void {
  console.log(
    `${what}: loss gpu ${gpuLoss.map((v) => v.toFixed(5)).join(" ")}\n${" ".repeat(what.length)}       cpu ${cpuLoss.map((v) => v.toFixed(5)).join(" ")}`,
  );
  for (let i = 0; i < cpuLoss.length; i++) {
    const err = Math.abs(gpuLoss[i] - cpuLoss[i]);
    if (!(err <= 1e-5 + 2e-3 * Math.abs(cpuLoss[i])))
      expect.fail(`${what}: step ${i} loss gpu ${gpuLoss[i]} vs cpu ${cpuLoss[i]} (|diff| ${err})`);
  }
  expect(gpuLoss[gpuLoss.length - 1], `${what} learns`).toBeLessThan(0.6 * gpuLoss[0]);
}

/** Run `steps` GPU steps: per step one encoder with `micro` (calls per micro-batch) and the optimizer. */
async function trainGpu(
  gpu: Gpu,
  ps: GpuParams,
  opt: AdamW,
  micro: Call[][],
  loss: Tensor,
  steps: number,
  lr: (t: number) => number,
): Promise<number[]> {
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    let sum = 0;
    for (let k = 0; k < micro.length; k++) {
      const enc = gpu.device.createCommandEncoder({ label: `step ${t}.${k}` });
      if (k === 0) enc.clearBuffer((ps.grads as Tensor).buf);
      const calls = k === micro.length - 1 ? [...micro[k], ...opt.step(lr(t), 1 / micro.length)] : micro[k];
      encodeCalls(enc, calls, `step ${t}`);
      gpu.device.queue.submit([enc.finish()]);
      sum += (await readTensor(gpu, loss))[0];
    }
    losses.push(sum / micro.length);
  }
  gpu.check("training");
  return losses;
}

describe("AdamW (adamw.wgsl twin) and LR schedule", () => {
  it("twin matches PyTorch AdamW's update on one element", () => {
    const cfg: AdamWConfig = { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 0 };
    const p = Float64Array.of(1);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    adamwStep(p, [0.5], m, v, [1], cfg, 1);
    // step 1: m = 0.05, v = 0.0125, mhat = 0.5, vhat = 0.25, p = 1 * (1 - 0.005) - 0.1 * 0.5 / (0.5 + 1e-8)
    expect(p[0]).toBeCloseTo(0.995 - 0.1 / (1 + 2e-8), 12);
    const q = Float64Array.of(1);
    adamwStep(q, [0.5], new Float64Array(1), new Float64Array(1), [0], cfg, 1);
    expect(q[0]).toBeCloseTo(1 - 0.1 / (1 + 2e-8), 12);
  });

  it("GPU adamw.wgsl matches the twin: decayed / not decayed / frozen params, clipping, grad scale", async () => {
    const gpu = await testGpu();
    const ps = new GpuParams(
      layoutOf([tensorSpec("blk.fc.weight", [3, 5]), tensorSpec("blk.fc.bias", [3]), tensorSpec("pos_embed", [1, 7], false)]),
    );
    ps.allocate(gpu, "adam test");
    expect(ps.spec("blk.fc.weight").decay && !ps.spec("blk.fc.bias").decay).toBe(true);
    const p0 = f32(rand64(ps.size, 70));
    const cfg: AdamWConfig = { lr: 0.05, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 0.3 };
    const opt = new AdamW(gpu, ps, cfg);
    ps.setAll(gpu, Float32Array.from(p0));
    const P = Float64Array.from(p0);
    const m = new Float64Array(P.length);
    const v = new Float64Array(P.length);
    const mask = ps.hostDecay();
    for (let t = 1; t <= 3; t++) {
      const g = f32(rand64(ps.size, 70 + t));
      for (let i = ps.spec("pos_embed").offset; i < ps.size; i++) g[i] = 0; // frozen: no gradient
      gpu.device.queue.writeBuffer((ps.grads as Tensor).buf, 0, Float32Array.from(g));
      const enc = gpu.device.createCommandEncoder();
      encodeCalls(enc, opt.step(0.05 * t, 0.5));
      gpu.device.queue.submit([enc.finish()]);
      adamwStep(P, g, m, v, mask, cfg, t, 0.05 * t, 0.5);
    }
    const got = await ps.readAll(gpu);
    expectCloseArr(got, P, TOL.f32.adamw, "adamw params after 3 steps");
    const pos = ps.spec("pos_embed");
    expectCloseArr(
      got.subarray(pos.offset, pos.offset + 7),
      p0.subarray(pos.offset, pos.offset + 7),
      TOL.exact,
      "frozen pos_embed unchanged",
    );
  });

  it("warmup + cosine schedule and MAE's lr rule", () => {
    const s = { lr: 1e-3, minLr: 1e-5, warmupSteps: 10, totalSteps: 110 };
    expect(lrAt(0, s)).toBe(0);
    expect(lrAt(5, s)).toBeCloseTo(5e-4, 12);
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(lrAt(60, s)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 12);
    expect(lrAt(110, s)).toBeCloseTo(1e-5, 12);
    expect(maeLr(1.5e-4, 4096)).toBeCloseTo(2.4e-3, 12);
  });
});

describe("training: GPU loss curve matches the CPU twin", () => {
  it("two-layer MLP (Linear-GELU-Linear), grad accumulation 2, clipping, warmup+cosine", async () => {
    const gpu = await testGpu();
    const [N, Din, Hd, Dout] = [12, 6, 16, 3];
    const ps = new GpuParams(
      layoutOf([
        tensorSpec("fc1.weight", [Hd, Din]),
        tensorSpec("fc1.bias", [Hd]),
        tensorSpec("fc2.weight", [Dout, Hd]),
        tensorSpec("fc2.bias", [Dout]),
      ]),
    );
    ps.allocate(gpu, "mlp");
    const flat = init(ps, 1);
    ps.setAll(gpu, flat);
    const cfg: AdamWConfig = { lr: 0.02, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 0.5 };
    const sched = { lr: cfg.lr, minLr: 0.002, warmupSteps: 2, totalSteps: 12 };
    const lr = (t: number) => lrAt(t + 1, sched);
    // Two micro-batches of N rows: y = sin(2 x0) + x1 x2, ...
    const xs = [0, 1].map((k) => f32(rand64(N * Din, 40 + k)));
    const ys = xs.map((x) =>
      f32(
        Float64Array.from(
          { length: N * Dout },
          (_, i) =>
            Math.sin(2 * x[Math.floor(i / Dout) * Din + (i % Dout)]) +
            x[Math.floor(i / Dout) * Din + 3] * x[Math.floor(i / Dout) * Din + 4],
        ),
      ),
    );

    // GPU: activations once, calls once.
    const wT = gpuTensor(gpu, "wT", [Hd * Din]);
    const fc1 = linearParams(ps, "fc1", wT);
    const fc2 = linearParams(ps, "fc2", wT);
    const h = gpuTensor(gpu, "h", [N, Hd]);
    const g = gpuTensor(gpu, "g", [N, Hd]);
    const out = gpuTensor(gpu, "out", [N, Dout]);
    const dout = gpuTensor(gpu, "dout", [N, Dout]);
    const dg = gpuTensor(gpu, "dg", [N, Hd]);
    const dh = gpuTensor(gpu, "dh", [N, Hd]);
    const loss = gpuTensor(gpu, "loss", [2]);
    const micro = xs.map((x, k) => {
      const X = gpuTensor(gpu, `x${k}`, [N, Din], x);
      const mse = { ...mseArgs(gpu, out, ys[k], N, Dout), loss };
      return [
        ...linearForward(gpu, fc1, X, h, N, Din, Hd),
        geluForward(gpu, h, g, N * Hd),
        ...linearForward(gpu, fc2, g, out, N, Hd, Dout),
        ...maskedMseForward(gpu, mse),
        maskedMseBackward(gpu, mse, dout),
        ...linearBackward(gpu, fc2, g, dout, dg, N, Hd, Dout),
        geluBackward(gpu, h, dg, dh, N * Hd),
        ...linearBackward(gpu, fc1, X, dh, null, N, Din, Hd),
      ];
    });
    const opt = new AdamW(gpu, ps, cfg);
    const steps = 12;
    const gpuLoss = await trainGpu(gpu, ps, opt, micro, loss, steps, lr);

    // CPU twin.
    const P = Float64Array.from(flat);
    const get = getter(ps, P);
    const m = new Float64Array(P.length);
    const v = new Float64Array(P.length);
    const decay = ps.hostDecay();
    const cpuLoss: number[] = [];
    const norms: number[] = [];
    for (let t = 0; t < steps; t++) {
      const G = new Float64Array(P.length);
      const grad = getter(ps, G);
      let sum = 0;
      for (let k = 0; k < 2; k++) {
        const hh = refLinF(xs[k], get("fc1.weight"), get("fc1.bias"), N, Din, Hd);
        const gg = ref.geluForward(hh);
        const o = refLinF(gg, get("fc2.weight"), get("fc2.bias"), N, Hd, Dout);
        const mask = new Float64Array(N).fill(1);
        const l = ref.maskedMse(o, ys[k], mask, N, Dout, false);
        sum += l.loss;
        const d = ref.maskedMseBackward(o, l.tn, mask, l.maskSum, N, Dout);
        const dgg = refLinB(gg, get("fc2.weight"), d, grad("fc2.weight"), grad("fc2.bias"), N, Hd, Dout);
        refLinB(xs[k], get("fc1.weight"), ref.geluBackward(hh, dgg), grad("fc1.weight"), grad("fc1.bias"), N, Din, Hd);
      }
      cpuLoss.push(sum / 2);
      norms.push(adamwStep(P, G, m, v, decay, cfg, t + 1, lr(t), 1 / 2).gradNorm);
    }
    expect(Math.max(...norms), "clipping engaged (grad norm above maxGradNorm)").toBeGreaterThan(cfg.maxGradNorm);
    expect(Math.abs((await opt.gradNorm()) - norms[steps - 1]) / norms[steps - 1], "GPU grad norm of the last step").toBeLessThan(
      TOL.f32.gradNormRel,
    );
    expectCurve(gpuLoss, cpuLoss, "mlp");
    const finalGpu = await ps.readAll(gpu);
    let worst = 0;
    for (let i = 0; i < P.length; i++) worst = Math.max(worst, Math.abs(finalGpu[i] - P[i]));
    expect(worst, "final parameters gpu vs cpu").toBeLessThan(TOL.f32.trainedParams);
  });

  it("one pre-norm transformer block (LN, MHSA, GELU MLP, residuals) + AdamW", async () => {
    const gpu = await testGpu();
    const c = { D: 8, H: 2, mlpRatio: 2 };
    const [B, Ltok] = [2, 5];
    const N = B * Ltok;
    const ps = blockParams("vit", "blocks.0", c);
    ps.allocate(gpu, "block");
    const flat = init(ps, 2);
    ps.setAll(gpu, flat);
    const cfg: AdamWConfig = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 0 };
    const x = f32(rand64(N * c.D, 50));
    // Target: each token becomes the mean of its sequence (needs attention) plus a nonlinearity.
    const y = new Float64Array(N * c.D);
    for (let b = 0; b < B; b++)
      for (let d = 0; d < c.D; d++) {
        let s = 0;
        for (let l = 0; l < Ltok; l++) s += x[(b * Ltok + l) * c.D + d];
        for (let l = 0; l < Ltok; l++) y[(b * Ltok + l) * c.D + d] = s / Ltok + 0.5 * Math.tanh(x[(b * Ltok + l) * c.D + ((d + 1) % c.D)]);
      }
    const yf = f32(y);

    const X = gpuTensor(gpu, "x", [N, c.D], x);
    const blk = new Block(gpu, ps, "blocks.0", c, B, Ltok, blockScratch(gpu, c, N));
    const loss = gpuTensor(gpu, "loss", [2]);
    const mse = { ...mseArgs(gpu, blk.out, yf, N, c.D), loss };
    const dout = gpuTensor(gpu, "dout", [N, c.D]);
    const dx = gpuTensor(gpu, "dx", [N, c.D]);
    const calls = [...blk.forward(X), ...maskedMseForward(gpu, mse), maskedMseBackward(gpu, mse, dout), ...blk.backward(X, dout, dx)];
    const opt = new AdamW(gpu, ps, cfg);
    const steps = 10;
    const gpuLoss = await trainGpu(gpu, ps, opt, [calls], loss, steps, () => cfg.lr);
    const dxGpu = await readTensor(gpu, dx);

    const P = Float64Array.from(flat);
    const get = getter(ps, P);
    const m = new Float64Array(P.length);
    const v = new Float64Array(P.length);
    const decay = ps.hostDecay();
    const cpuLoss: number[] = [];
    let dxCpu = new Float64Array(0);
    for (let t = 0; t < steps; t++) {
      const G = new Float64Array(P.length);
      const f = blockForward(get, "blocks.0", c, x, B, Ltok);
      const mask = new Float64Array(N).fill(1);
      const l = ref.maskedMse(f.out, yf, mask, N, c.D, false);
      cpuLoss.push(l.loss);
      dxCpu = blockBackward(
        get,
        getter(ps, G),
        "blocks.0",
        c,
        f.cache,
        ref.maskedMseBackward(f.out, l.tn, mask, l.maskSum, N, c.D),
        B,
        Ltok,
      );
      adamwStep(P, G, m, v, decay, cfg, t + 1);
    }
    expectCurve(gpuLoss, cpuLoss, "block");
    let worst = 0;
    for (let i = 0; i < dxCpu.length; i++) worst = Math.max(worst, Math.abs(dxGpu[i] - dxCpu[i]));
    expect(worst, "last step's input gradient gpu vs cpu").toBeLessThan(TOL.f32.trainedGrads);
  });
});

describe("block twin gradient check", () => {
  it("blockForward / blockBackward (float64 finite differences)", async () => {
    const { gradCheck, dotLoss } = await import("./util.js");
    const c = { D: 4, H: 2, mlpRatio: 2 };
    const [B, Ltok] = [1, 3];
    const ps = blockParams("vit", "b", c);
    const P = Float64Array.from(init(ps, 3));
    const x = rand64(B * Ltok * c.D, 60);
    const gy = rand64(B * Ltok * c.D, 61);
    const get = getter(ps, P);
    const loss = () => dotLoss(blockForward(get, "b", c, x, B, Ltok).out, gy);
    const G = new Float64Array(P.length);
    const f = blockForward(get, "b", c, x, B, Ltok);
    const dx = blockBackward(get, getter(ps, G), "b", c, f.cache, gy, B, Ltok);
    gradCheck("block dx", x, dx, loss, 1e-6, TOL.f64.gradCheck);
    gradCheck("block params", P, G, loss, 1e-6, TOL.f64.gradCheck);
  });
});

describe("CroCo decoder CrossBlock (self + cross attention + MLP)", () => {
  const c = { D: 8, H: 2, mlpRatio: 2 };
  const [B, Lx, Ly] = [2, 3, 4];

  it("twin gradient check (x, y, parameters)", async () => {
    const { gradCheck, dotLoss } = await import("./util.js");
    const cs = { D: 4, H: 2, mlpRatio: 2 };
    const [b, lx, ly] = [1, 2, 3];
    const ps = blockParams("croco", "d", cs);
    const P = Float64Array.from(init(ps, 4));
    const x = rand64(b * lx * cs.D, 90);
    const y = rand64(b * ly * cs.D, 91);
    const gy = rand64(b * lx * cs.D, 92);
    const get = getter(ps, P);
    const loss = () => dotLoss(crossBlockForward(get, "d", cs, x, y, b, lx, ly).out, gy);
    const G = new Float64Array(P.length);
    const dy = new Float64Array(y.length);
    const f = crossBlockForward(get, "d", cs, x, y, b, lx, ly);
    const dx = crossBlockBackward(get, getter(ps, G), "d", cs, f.cache, gy, dy, b, lx, ly);
    gradCheck("cross block dx", x, dx, loss);
    gradCheck("cross block dy", y, dy, loss);
    gradCheck("cross block params", P, G, loss);
  });

  it("GPU forward/backward match the twin", async () => {
    const gpu = await testGpu();
    const ps = blockParams("croco", "decoder_blocks_croco.0", c);
    ps.allocate(gpu, "cross");
    const flat = init(ps, 5);
    ps.setAll(gpu, flat);
    const x = f32(rand64(B * Lx * c.D, 93));
    const y = f32(rand64(B * Ly * c.D, 94));
    const g = f32(rand64(B * Lx * c.D, 95));
    const dy0 = f32(rand64(B * Ly * c.D, 96));
    const X = gpuTensor(gpu, "x", [B * Lx, c.D], x);
    const Y = gpuTensor(gpu, "y", [B * Ly, c.D], y);
    const G = gpuTensor(gpu, "dout", [B * Lx, c.D], g);
    const DX = gpuTensor(gpu, "dx", [B * Lx, c.D]);
    const DY = gpuTensor(gpu, "dy", [B * Ly, c.D], dy0);
    const blk = new CrossBlock(
      gpu,
      ps,
      "decoder_blocks_croco.0",
      c,
      B,
      Lx,
      Ly,
      blockScratch(gpu, c, B * Lx),
      crossScratch(gpu, c, B * Lx, B * Ly),
    );
    const enc = gpu.device.createCommandEncoder();
    enc.clearBuffer((ps.grads as Tensor).buf);
    encodeCalls(enc, [...blk.forward(X, Y), ...blk.backward(X, Y, G, DX, DY)]);
    gpu.device.queue.submit([enc.finish()]);
    const out = await readTensor(gpu, blk.out);
    const dx = await readTensor(gpu, DX);
    const dy = await readTensor(gpu, DY);
    const grads = await readTensor(gpu, ps.grads as Tensor);
    gpu.check("cross block");

    const P = Float64Array.from(flat);
    const Gr = new Float64Array(P.length);
    const f = crossBlockForward(getter(ps, P), "decoder_blocks_croco.0", c, x, y, B, Lx, Ly);
    const wantDy = Float64Array.from(dy0);
    const wantDx = crossBlockBackward(getter(ps, P), getter(ps, Gr), "decoder_blocks_croco.0", c, f.cache, g, wantDy, B, Lx, Ly);
    expectCloseArr(out, f.out, TOL.f32.attention, "cross block out");
    expectCloseArr(dx, wantDx, TOL.f32.attention, "cross block dx");
    expectCloseArr(dy, wantDy, TOL.f32.attention, "cross block dy");
    expectCloseArr(grads, Gr, TOL.f32.training, "cross block parameter gradients");
  });
});
