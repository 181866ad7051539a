// The GPU MIM model (src/models/mim_gpu.ts: ViT encoder, MAE / CroCo decoders, masked MSE) against
// the PyTorch fixture (test/fixtures/mim, make_reference.py) and the CPU reference
// (src/ref/models/mim.ts): forward loss within 1e-4, prediction close, and the backward's gradients
// against torch's float64 gradients. Also: a few AdamW steps on a repeated batch lower the loss.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadParamsInto } from "../../src/models/checkpoint.js";
import { type ModelConfig, modelConfig } from "../../src/models/config.js";
import { maskingFromShuffle, randomMasking } from "../../src/models/masking.js";
import { MimGpuModel } from "../../src/models/mim_gpu.js";
import { initParams, ParamStore } from "../../src/models/params.js";
import { readSafetensors } from "../../src/models/safetensors.js";
import { mimForwardRef } from "../../src/ref/models/mim.js";
import { GpuMimTrainer } from "../../src/train/gpu_trainer.js";
import { expectClose, randomFloats, testGpu } from "../helpers.js";
import { TOL } from "../tolerances.js";

const DIR = join(import.meta.dirname, "../fixtures/mim");

interface Fixture {
  config: ModelConfig;
  batch: number;
  keep: number;
  loss: number;
  lossNormPix: number;
}

async function load(objective: "croco" | "mae") {
  const fx = JSON.parse(readFileSync(join(DIR, `${objective}.json`), "utf8")) as Fixture;
  const config = modelConfig({ ...fx.config, inChans: 3 }, objective, { maskRatio: fx.config.maskRatio });
  const params = new ParamStore(config);
  loadParamsInto(params, await readSafetensors(join(DIR, `${objective}.weights.safetensors`)));
  const io = await readSafetensors(join(DIR, `${objective}.io.safetensors`));
  const B = fx.batch;
  const L = (config.imgSize / config.patchSize) ** 2;
  const masking = maskingFromShuffle(B, L, fx.keep, Int32Array.from(io.float32("ids_shuffle")));
  const view1 = io.float32("view1");
  const view2 = objective === "croco" ? io.float32("view2") : null;
  return { fx, config, params, io, masking, B, view1, view2 };
}

describe("GPU MIM model (mim_gpu.ts) vs PyTorch fixture and CPU reference", () => {
  for (const objective of ["croco", "mae"] as const) {
    it(`${objective}: forward loss (plain and norm_pix) within 1e-4 of torch, prediction close`, async () => {
      const gpu = await testGpu();
      const { fx, config, params, io, masking, view1, view2 } = await load(objective);
      const model = new MimGpuModel(gpu, config);
      model.setParams(params.data);
      const { loss, pred } = await model.predict(view1, view2, masking);
      console.log(`${objective}: gpu loss ${loss} torch ${fx.loss} |diff| ${Math.abs(loss - fx.loss)}`);
      expect(Math.abs(loss - fx.loss), `loss ${loss} vs torch ${fx.loss}`).toBeLessThan(TOL.model.loss);
      expectClose(pred, io.float32("pred"), TOL.model.gpuPred, `${objective} pred`);
      const np = new MimGpuModel(gpu, { ...config, normPixLoss: true });
      np.setParams(params.data);
      const lnp = (await np.predict(view1, view2, masking)).loss;
      expect(Math.abs(lnp - fx.lossNormPix), `norm_pix loss ${lnp} vs torch ${fx.lossNormPix}`).toBeLessThan(TOL.model.loss);
      gpu.check(`${objective} forward`);
    });

    it(`${objective}: backward gradients match torch's float64 gradients (rel. to max |g|)`, async () => {
      const gpu = await testGpu();
      const { config, params, masking, view1, view2 } = await load(objective);
      const grads = await readSafetensors(join(DIR, `${objective}.grads.safetensors`));
      const model = new MimGpuModel(gpu, config);
      model.setParams(params.data);
      await model.step(view1, view2, masking, true);
      const g = await model.getGrads();
      const layout = new ParamStore(config).layout;
      const bad: string[] = [];
      let worst = 0;
      for (const name of grads.names()) {
        const want = grads.float32(name);
        const e = layout.byName.get(name);
        if (!e) throw new Error(`fixture gradient ${name} is not a model tensor`);
        const got = g.subarray(e.offset, e.offset + e.size);
        let gmax = 0;
        let err = 0;
        for (let i = 0; i < want.length; i++) {
          gmax = Math.max(gmax, Math.abs(want[i]));
          err = Math.max(err, Math.abs(got[i] - want[i]));
        }
        const rel = err / Math.max(gmax, 1e-12);
        worst = Math.max(worst, rel);
        if (!(rel <= 1e-3))
          bad.push(`${name}: max |err| ${err.toExponential(3)}, max |g| ${gmax.toExponential(3)} (rel ${rel.toExponential(3)})`);
      }
      console.log(`${objective}: ${grads.names().length} gradients, worst relative error ${worst.toExponential(3)}`);
      expect(bad, bad.join("\n")).toEqual([]);
      // frozen position embeddings get no gradient
      for (const name of ["pos_embed", "decoder_pos_embed"]) {
        const e = layout.byName.get(name)!;
        expect(
          g.subarray(e.offset, e.offset + e.size).every((v) => v === 0),
          `${name} gradient is zero`,
        ).toBe(true);
      }
    });
  }

  it("croco: gradients accumulate over micro-steps (two identical steps = 2x one step)", async () => {
    const gpu = await testGpu();
    const { config, params, masking, view1, view2 } = await load("croco");
    const model = new MimGpuModel(gpu, config);
    model.setParams(params.data);
    await model.step(view1, view2, masking);
    const g1 = await model.getGrads();
    await model.step(view1, view2, masking);
    const g2 = await model.getGrads();
    expectClose(
      g2,
      g1.map((v) => 2 * v),
      TOL.model.accumulatedGrads,
      "accumulated gradients",
    );
  });

  it("croco: the trainer's AdamW steps lower the loss on a repeated batch; CPU reference agrees on the trained weights", async () => {
    const gpu = await testGpu();
    const config = modelConfig(
      {
        imgSize: 32,
        patchSize: 8,
        inChans: 3,
        width: 32,
        depth: 2,
        heads: 2,
        decoderWidth: 32,
        decoderDepth: 1,
        decoderHeads: 2,
        mlpRatio: 2,
        lnEps: 1e-6,
      },
      "croco",
    );
    const B = 2;
    const S = config.imgSize;
    const view1 = randomFloats(B * 3 * S * S, 1, -1, 1);
    const view2 = randomFloats(B * 3 * S * S, 2, -1, 1);
    const masking = randomMasking(B, 16, config.maskRatio, 5);
    const trainer = new GpuMimTrainer(gpu, config, { weightDecay: 0.05 });
    await trainer.importParams(initParams(config, 1).data);
    const batch = { epoch: 0, index: 0, B, view1, view2, items: new Int32Array(B), swapped: new Uint8Array(B) };
    const losses: number[] = [];
    for (let s = 0; s < 20; s++) {
      losses.push(await trainer.microStep(batch, masking));
      await trainer.optimizerStep(2e-3, 1);
    }
    console.log(`croco 20 steps: ${losses.map((l) => l.toFixed(4)).join(" ")}`);
    expect(losses[19]).toBeLessThan(0.7 * losses[0]);
    const p = new ParamStore(config, await trainer.exportParams());
    const ref = mimForwardRef((n) => p.get(n), config, view1, view2, B, masking).loss;
    const gpuLoss = (await trainer.model.predict(view1, view2, masking)).loss;
    expect(Math.abs(gpuLoss - ref), `trained weights: gpu ${gpuLoss} vs cpu ${ref}`).toBeLessThan(TOL.model.loss);
  });
});
