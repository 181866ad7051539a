// PyTorch parity: the CPU reference MIM forward (src/ref/models/mim.ts) on the weights, inputs and
// mask that test/fixtures/make_reference.py (python3-torch) wrote, against its loss and tensors.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadParamsInto } from "../../src/models/checkpoint.js";
import { type ModelConfig, modelConfig } from "../../src/models/config.js";
import { explicitMasking, maskingFromShuffle } from "../../src/models/masking.js";
import { ParamStore, paramShapes } from "../../src/models/params.js";
import { readSafetensors } from "../../src/models/safetensors.js";
import { mimForwardRef } from "../../src/ref/models/mim.js";
import { expectClose } from "../helpers.js";
import { TOL } from "../tolerances.js";

const DIR = join(import.meta.dirname, "../fixtures/mim");

interface Fixture {
  config: ModelConfig;
  batch: number;
  keep: number;
  masked: number[][];
  loss: number;
  lossNormPix: number;
  lossF64: number;
  lossNormPixF64: number;
}

async function load(objective: "croco" | "mae") {
  const fx = JSON.parse(readFileSync(join(DIR, `${objective}.json`), "utf8")) as Fixture;
  const config = modelConfig({ ...fx.config, inChans: 3 }, objective, { maskRatio: fx.config.maskRatio });
  const params = new ParamStore(config);
  // strict: every name and shape of our table must be in PyTorch's state_dict and vice versa
  loadParamsInto(params, await readSafetensors(join(DIR, `${objective}.weights.safetensors`)));
  const io = await readSafetensors(join(DIR, `${objective}.io.safetensors`));
  const B = fx.batch;
  const L = (config.imgSize / config.patchSize) ** 2;
  const shuffle = Int32Array.from(io.float32("ids_shuffle"));
  const masking = maskingFromShuffle(B, L, fx.keep, shuffle);
  return { fx, config, params, io, masking, B, L };
}

describe("PyTorch parity of the CPU reference MIM forward (make_reference.py)", () => {
  for (const objective of ["croco", "mae"] as const) {
    it(`${objective}: loss (plain and norm_pix) within 1e-4, latents and prediction close`, async () => {
      const { fx, config, params, io, masking, B } = await load(objective);
      const P = (n: string) => params.get(n);
      const view1 = io.float32("view1");
      const view2 = objective === "croco" ? io.float32("view2") : null;
      const out = mimForwardRef(P, config, view1, view2, B, masking);
      expect(Math.abs(out.loss - fx.loss), `loss ${out.loss} vs torch ${fx.loss}`).toBeLessThan(TOL.model.loss);
      // float64 accumulation puts the reference within 1e-6 of torch in float64
      expect(Math.abs(out.loss - fx.lossF64), `loss ${out.loss} vs torch float64 ${fx.lossF64}`).toBeLessThan(TOL.model.lossF64);
      // the mask the fixture lists matches the one derived from ids_shuffle
      for (let b = 0; b < B; b++) {
        const m = [];
        for (let i = 0; i < masking.L; i++) if (masking.mask[b * masking.L + i]) m.push(i);
        expect(m).toEqual(fx.masked[b]);
      }
      expectClose(out.latent1, io.float32("latent1"), TOL.model.cpuActivations, `${objective} latent1`);
      if (view2) expectClose(out.latent2!, io.float32("latent2"), TOL.model.cpuActivations, `${objective} latent2`);
      expectClose(out.pred, io.float32("pred"), TOL.model.cpuActivations, `${objective} pred`);
      const np = mimForwardRef(P, { ...config, normPixLoss: true }, view1, view2, B, masking);
      expect(Math.abs(np.loss - fx.lossNormPix), `norm_pix loss ${np.loss} vs torch ${fx.lossNormPix}`).toBeLessThan(TOL.model.loss);
      expect(Math.abs(np.loss - fx.lossNormPixF64)).toBeLessThan(TOL.model.loss);
      // an explicit mask with the same masked patches gives the same loss (token order does not matter)
      const ex = mimForwardRef(P, config, view1, view2, B, explicitMasking(B, masking.L, fx.masked));
      expect(Math.abs(ex.loss - fx.loss)).toBeLessThan(TOL.model.loss);
    });
  }

  for (const objective of ["croco", "mae"] as const) {
    it(`${objective}: torch's float64 gradients (the GPU backward's oracle) match finite differences of the reference`, async () => {
      const { params, io, masking, config, B } = await load(objective);
      const grads = await readSafetensors(join(DIR, `${objective}.grads.safetensors`));
      const view1 = io.float32("view1");
      const view2 = objective === "croco" ? io.float32("view2") : null;
      const lossAt = () => mimForwardRef((n) => params.get(n), config, view1, view2, B, masking).loss;
      const h = 1e-2;
      const bad: string[] = [];
      for (const name of grads.names()) {
        const g = grads.float32(name);
        const w = params.get(name);
        expect(g.length, name).toBe(w.length);
        let imax = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[imax])) imax = i;
        for (const i of new Set([imax, 0, Math.floor(g.length / 2)])) {
          const w0 = w[i];
          w[i] = w0 + h;
          const up = lossAt();
          w[i] = w0 - h;
          const down = lossAt();
          w[i] = w0;
          const fd = (up - down) / (2 * h);
          if (!(Math.abs(fd - g[i]) <= 2e-4 + 2e-2 * Math.abs(g[i]))) bad.push(`${name}[${i}]: torch ${g[i]} vs finite difference ${fd}`);
        }
      }
      expect(bad, bad.join("\n")).toEqual([]);
    });
  }

  it("our parameter table equals PyTorch's state_dict (names, shapes, order) for nano and base", () => {
    const table = JSON.parse(readFileSync(join(DIR, "param_table.json"), "utf8")) as Record<string, [string, number[]][]>;
    for (const [key, want] of Object.entries(table)) {
      const [arch, objective] = key.split(".") as ["nano" | "base", "croco" | "mae"];
      expect(paramShapes(modelConfig(arch, objective)), key).toEqual(want);
    }
  });
});
