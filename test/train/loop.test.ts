// The training loop (src/train/loop.ts) with a CPU stand-in trainer: the CPU reference forward and
// an exact AdamW update of decoder_pred.bias only (its gradient is analytic). Enough to check the
// loop's data/mask/lr bookkeeping, checkpoints, exact resume and the non-finite-loss stop; the GPU
// trainer plugs into the same interface.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { type ModelConfig, modelConfig, numPatches, patchDim } from "../../src/models/config.js";
import type { Masking } from "../../src/models/masking.js";
import { ParamStore } from "../../src/models/params.js";
import type { Safetensors } from "../../src/models/safetensors.js";
import { adamwPresets } from "../../src/nn/optim_config.js";
import { mimForwardRef } from "../../src/ref/models/mim.js";
import { adamwStep } from "../../src/ref/nn/adamw.js";
import type { MimBatch } from "../../src/train/data.js";
import { type MimTrainer, train } from "../../src/train/loop.js";
import { randomBytes, toyVit } from "../helpers.js";
import { TOL } from "../tolerances.js";

const config: ModelConfig = modelConfig(toyVit({ width: 16 }), "croco", { maskRatio: 0.75 });
const BIAS = "decoder_pred.bias";

/** Trains decoder_pred.bias with AdamW on the exact gradient of the masked MSE. */
class BiasTrainer implements MimTrainer {
  store = new ParamStore(config);
  m = new Float64Array(patchDim(config));
  v = new Float64Array(patchDim(config));
  g = new Float64Array(patchDim(config));
  t = 0;
  nanAt = -1;
  calls = 0;

  private forward(batch: MimBatch, masking: Masking) {
    return mimForwardRef((n) => this.store.get(n), config, batch.view1, batch.view2, batch.B, masking);
  }
  async microStep(batch: MimBatch, masking: Masking): Promise<number> {
    if (this.calls++ === this.nanAt) return Number.NaN;
    const r = this.forward(batch, masking);
    const L = numPatches(config);
    const pd = patchDim(config);
    let den = 0;
    for (let n = 0; n < batch.B * L; n++) den += masking.mask[n];
    for (let n = 0; n < batch.B * L; n++)
      if (masking.mask[n]) for (let j = 0; j < pd; j++) this.g[j] += (2 * (r.pred[n * pd + j] - r.target[n * pd + j])) / (pd * den);
    return r.loss;
  }
  async optimizerStep(lr: number, gradScale: number): Promise<void> {
    this.t++;
    const p = Float64Array.from(this.store.get(BIAS));
    adamwStep(p, this.g, this.m, this.v, new Float64Array(p.length), { ...adamwPresets.mae, lr }, this.t, lr, gradScale);
    this.store.get(BIAS).set(p);
    this.g.fill(0);
  }
  async importParams(data: Float32Array): Promise<void> {
    this.store.data.set(data);
  }
  async exportParams(): Promise<Float32Array> {
    return this.store.data.slice();
  }
  async exportOptimizer() {
    const shape = [patchDim(config)];
    return {
      tensors: [
        { name: `exp_avg.${BIAS}`, shape, data: Float32Array.from(this.m) },
        { name: `exp_avg_sq.${BIAS}`, shape, data: Float32Array.from(this.v) },
      ],
      state: { t: this.t },
    };
  }
  async importOptimizer(st: Safetensors, state: Record<string, unknown>): Promise<void> {
    this.m = Float64Array.from(st.float32(`exp_avg.${BIAS}`));
    this.v = Float64Array.from(st.float32(`exp_avg_sq.${BIAS}`));
    this.t = state.t as number;
  }
  async predict(batch: MimBatch, masking: Masking): Promise<Float32Array> {
    return this.forward(batch, masking).pred;
  }
}

let ds = "";
beforeAll(async () => {
  ds = await mkdtemp(join(tmpdir(), "loop-"));
  const lines = ["path1,path2,correspondence"];
  for (let i = 0; i < 6; i++) {
    const dir = join("s", "v", String(i));
    await mkdir(join(ds, dir), { recursive: true });
    // bright images: the bias has a clear offset to learn
    for (const k of [0, 1])
      await sharp(
        randomBytes(16 * 16 * 3, 50 + 2 * i + k).map((v) => 190 + (v % 60)),
        { raw: { width: 16, height: 16, channels: 3 } },
      )
        .png()
        .toFile(join(ds, dir, `${k}.png`));
    lines.push(`${dir}/0.png,${dir}/1.png,${dir}/c.json`);
  }
  await writeFile(join(ds, "pairs.csv"), `${lines.join("\n")}\n`);
});

const base = (out: string) => ({ config, data: ds, out, batch: 2, accum: 2, steps: 5, blr: 8, warmupSteps: 1, seed: 3, workers: 0 });

describe("training loop (src/train/loop.ts)", () => {
  it("loss falls; metrics, checkpoints and reconstructions are written; --resume replays the same losses", async () => {
    const out = await mkdtemp(join(tmpdir(), "run-"));
    const full = await train(new BiasTrainer(), { ...base(out), checkpointEvery: 2 });
    expect(full.steps).toBe(5);
    expect(full.losses[4]).toBeLessThan(full.losses[0]);
    const metrics = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5]);
    expect(metrics[0].lr).toBe(0); // warmup starts at 0
    for (const s of ["000002", "000004", "000005"]) {
      expect(existsSync(join(out, `checkpoint-${s}.safetensors`))).toBe(true);
      expect(existsSync(join(out, `checkpoint-${s}.optim.safetensors`))).toBe(true);
      expect(existsSync(join(out, `checkpoint-${s}.recon.png`))).toBe(true);
    }
    expect(JSON.parse(await readFile(join(out, "latest.json"), "utf8"))).toEqual({ checkpoint: "checkpoint-000005.json", step: 5 });

    const out2 = await mkdtemp(join(tmpdir(), "run-"));
    const resumed = await train(new BiasTrainer(), { ...base(out2), resume: join(out, "checkpoint-000002.json") });
    expect(resumed.losses.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(Math.abs(resumed.losses[i] - full.losses[i + 2])).toBeLessThan(TOL.model.rerunLoss);
  });

  it("--resume in the same folder drops the metrics lines past the checkpoint: a killed run's steps are logged once", async () => {
    const out = await mkdtemp(join(tmpdir(), "run-"));
    await train(new BiasTrainer(), { ...base(out), checkpointEvery: 2 });
    const steps = async () =>
      (await readFile(join(out, "metrics.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).step);
    // as if killed after logging step 3 (the last checkpoint: step 2), with a torn line after it
    const lines = (await readFile(join(out, "metrics.jsonl"), "utf8")).split("\n").slice(0, 3);
    await writeFile(join(out, "metrics.jsonl"), `${lines.join("\n")}\n{"step":4,"ep`);
    await train(new BiasTrainer(), { ...base(out), resume: join(out, "checkpoint-000002.json") });
    expect(await steps()).toEqual([1, 2, 3, 4, 5]);
  });

  it("stops on a non-finite loss with the step and what to do", async () => {
    const out = await mkdtemp(join(tmpdir(), "run-"));
    const t = new BiasTrainer();
    t.nanAt = 3;
    await expect(train(t, base(out))).rejects.toThrow(/non-finite loss \(NaN\) at step 1 \(micro-batch 1.*lower --blr/);
  });

  it("refuses a resume with another seed or config, and an empty run", async () => {
    const out = await mkdtemp(join(tmpdir(), "run-"));
    await train(new BiasTrainer(), { ...base(out), steps: 1 });
    const ck = join(out, "checkpoint-000001.json");
    await expect(train(new BiasTrainer(), { ...base(out), resume: ck, seed: 4 })).rejects.toThrow(/--seed 3, not 4/);
    await expect(train(new BiasTrainer(), { ...base(out), resume: ck, config: { ...config, normPixLoss: true } })).rejects.toThrow(
      /differs/,
    );
    await expect(train(new BiasTrainer(), { ...base(out), steps: undefined })).rejects.toThrow(/give --steps or --epochs/);
    await expect(train(new BiasTrainer(), { ...base(out), resume: ck, accum: 1 })).rejects.toThrow(/--batch 2 --accum 2; use the same/);
  });
});
