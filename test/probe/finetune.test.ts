// Fine-tuning probe (src/probe/gpu_finetune.ts + runProbe's "finetune" mode): the head's input
// gradient against the float64 twin, the encoder gradient against central differences of the whole
// loss (GPU encoder + host head), fine-tuning at encoder lr 0 = the frozen probe, and determinism.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writePng } from "../../src/image/io.js";
import { modelConfig, type VitArch } from "../../src/models/config.js";
import { initParams, ParamStore } from "../../src/models/params.js";
import { Pcg32 } from "../../src/prng.js";
import { CpuHeadTrainer, headBackwardF32, headForwardF32, probeLoss } from "../../src/probe/cpu_trainer.js";
import { openProbeDataset } from "../../src/probe/datasets.js";
import { randomEncoder } from "../../src/probe/encoders.js";
import { gpuEncoder } from "../../src/probe/gpu_encoder.js";
import { gpuTrainableEncoder } from "../../src/probe/gpu_finetune.js";
import { headDims, initHeadParams, makeHeadConfig } from "../../src/probe/heads.js";
import { isTrainable, runProbe } from "../../src/probe/pipeline.js";
import { headBackward, headForward } from "../../src/ref/probe/heads.js";
import { randomFloats, toyVit } from "../helpers.js";
import { TOL } from "../tolerances.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-probe-ft-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A toy ViT: 16x16 input, 4 px patches (4x4 grid), width 8, one block.
const arch: VitArch = toyVit();
const S = 16;
const L = 16;
const D = 8;

/** A synth-layout set of 12 random-texture 16x16 images: depth and labels from the local brightness. */
async function makeSet(root: string): Promise<void> {
  for (const d of ["rgb", "depth", "labels"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  const r = new Pcg32(11, 3);
  for (let k = 0; k < 12; k++) {
    const g = Uint8Array.from({ length: S * S }, () => r.nextBelow(256));
    const rgb = new Uint8Array(S * S * 3);
    for (let i = 0; i < g.length; i++) rgb.set([g[i], 255 - g[i], (g[i] * 7) & 255], 3 * i);
    const stem = `s${k % 3}_${String(k).padStart(4, "0")}`;
    await writePng(path.join(root, "rgb", `${stem}.png`), S, S, rgb, 3);
    await writePng(
      path.join(root, "depth", `${stem}.png`),
      S,
      S,
      Uint16Array.from(g, (v) => 1000 + 10 * v),
      1,
    );
    await writePng(
      path.join(root, "labels", `${stem}.png`),
      S,
      S,
      Uint8Array.from(g, (v) => 1 + (v >> 7)),
      1,
    );
  }
  fs.writeFileSync(
    path.join(root, "classes.json"),
    JSON.stringify({
      unlabelled: 0,
      classes: [
        { id: 1, name: "dark" },
        { id: 2, name: "light" },
      ],
    }),
  );
  fs.writeFileSync(path.join(root, "splits.json"), JSON.stringify({ train: ["s0", "s1"], val: ["s2"] }));
}

describe("fine-tuning probe", () => {
  const root = path.join(tmp, "set");
  const ready = makeSet(root);

  it("the head's input gradient dL/dtokens matches the float64 twin (linear and mlp heads)", () => {
    for (const kind of ["linear", "mlp"] as const) {
      const cfg = makeHeadConfig(
        { kind, hidden: kind === "mlp" ? 6 : 0 },
        { embedDim: D, patchSize: 4, imageHeight: S, imageWidth: S },
        "seg",
        3,
      );
      const params = initHeadParams(cfg, 2);
      const dims = headDims(cfg, 2);
      const tokens = randomFloats(2 * L * D, 5, -2, 2);
      const classes = Uint8Array.from({ length: 2 * S * S }, (_, i) => (i * 7) % 3);
      const w = params.weights() as never;
      const fwd = headForwardF32(tokens, w, dims);
      const { dout } = probeLoss(fwd.out, { kind: "seg", classes }, 2, S * S, 3);
      const g = params.zeroGrads();
      const dx = headBackwardF32(tokens, fwd, w, dout, g.grads as never, dims, true)!;
      const ref = headForward(Float64Array.from(tokens), params.weights(), dims);
      const g64 = new ParamStoreLikeGrads(params.data.length);
      const dx64 = headBackward(ref.acts, params.weights(), dout, g64.views(params), true)!;
      expect(dx.length).toBe(2 * L * D);
      let err = 0;
      for (let i = 0; i < dx.length; i++) err = Math.max(err, Math.abs(dx[i] - dx64[i]));
      expect(err).toBeLessThan(TOL.head.backward);
      expect(Math.max(...Array.from(dx64, Math.abs))).toBeGreaterThan(1e-4); // not trivially zero
    }
  });

  it("encoder gradients agree with central differences of the whole loss (GPU encoder + host head)", async () => {
    const params = initParams(modelConfig(arch, "mae"), 3);
    const enc = gpuTrainableEncoder(params, "t");
    const head = makeHeadConfig("linear", enc, "depth");
    const trainer = new CpuHeadTrainer(head, 1, 0.5);
    const imgs = randomFloats(2 * 3 * S * S, 9, -2, 2);
    const depth = randomFloats(2 * S * S, 10, 1, 4);
    const targets = { kind: "depth" as const, depth };
    // lr 0 everywhere: nothing moves, the gradients stay readable
    const tokens = await enc.forwardTrain(imgs, 2);
    const r = trainer.stepWithInputGrad(tokens, targets, 2, 0, true);
    await enc.backwardStep(r.dTokens!, 0);
    const g = await enc.readGradients();
    expect(Array.from(await enc.readParameters())).toEqual(Array.from(params.data));
    const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
    expect(norm).toBeGreaterThan(1e-3);
    const lossAt = async (eps: number): Promise<number> => {
      const p = new ParamStore(
        params.config,
        Float32Array.from(params.data, (x, i) => x + (eps * g[i]) / norm),
      );
      const t = await gpuEncoder(p, "fd").encode(imgs, 2);
      return trainer.stepWithInputGrad(t, targets, 2, 0, false).loss;
    };
    const eps = 1e-2;
    const fd = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps); // d loss along g/|g| = |g|
    expect(Math.abs(fd - norm) / norm).toBeLessThan(TOL.head.finetuneDirectionalRel);
    // the frozen sin-cos position embedding gets no gradient
    const pos = params.layout.byName.get("pos_embed")!;
    expect(g.subarray(pos.offset, pos.offset + pos.size).every((x) => x === 0)).toBe(true);
  });

  it("at encoder lr 0 fine-tuning is the frozen probe without feature normalisation; with lr > 0 it moves the encoder", async () => {
    await ready;
    const ds = openProbeDataset(root, { task: "depth" });
    const base = { head: "linear" as const, epochs: 3, batchSize: 4, lr: 1e-2, featureNorm: "none" as const, pictures: 0, warmup: 0.1 };
    const frozen = await runProbe({ dataset: ds, encoder: randomEncoder(arch, 4, "gpu"), config: { ...base, mode: "frozen" } });
    const ft0 = randomEncoder(arch, 4, "gpu", "finetune");
    expect(isTrainable(ft0)).toBe(true);
    const still = await runProbe({ dataset: ds, encoder: ft0, config: { ...base, mode: "finetune", encoderLr: 0 } });
    expect(still.train.steps).toBe(frozen.train.steps);
    for (let i = 0; i < frozen.train.losses.length; i++) expect(still.train.losses[i]).toBeCloseTo(frozen.train.losses[i], 5);
    expect(still.metrics.absRel).toBeCloseTo((frozen.metrics as typeof still.metrics).absRel, 5);
    const moved = await runProbe({
      dataset: ds,
      encoder: randomEncoder(arch, 4, "gpu", "finetune"),
      config: { ...base, mode: "finetune", encoderLr: 1e-2 },
    });
    expect(moved.train.losses.at(-1)).not.toBeCloseTo(still.train.losses.at(-1)!, 4);
    // same seed, same bytes
    const again = await runProbe({
      dataset: ds,
      encoder: randomEncoder(arch, 4, "gpu", "finetune"),
      config: { ...base, mode: "finetune", encoderLr: 1e-2 },
    });
    expect(again.train.losses).toEqual(moved.train.losses);
    expect(again.imageStats).toEqual(moved.imageStats);
  });

  it("refuses what cannot be fine-tuned", async () => {
    await ready;
    const ds = openProbeDataset(root, { task: "seg" });
    await expect(
      runProbe({ dataset: ds, encoder: randomEncoder(arch, 0, "cpu"), config: { mode: "finetune", featureNorm: "none" } }),
    ).rejects.toThrow(/cannot be fine-tuned/);
    await expect(
      runProbe({
        dataset: ds,
        encoder: randomEncoder(arch, 0, "gpu", "finetune"),
        config: { mode: "finetune", featureNorm: "standardize" },
      }),
    ).rejects.toThrow(/featureNorm to none/);
    expect(() => randomEncoder(arch, 0, "cpu", "finetune")).toThrow(/GPU engine/);
  });
});

/** Float64 gradient views in a head's flat layout, for the twin's headBackward. */
class ParamStoreLikeGrads {
  readonly data: Float64Array;
  constructor(n: number) {
    this.data = new Float64Array(n);
  }
  views(params: ReturnType<typeof initHeadParams>) {
    const view = (name: string) => {
      const e = params.layout.byName.get(name)!;
      return this.data.subarray(e.offset, e.offset + e.size);
    };
    return params.config.kind === "linear"
      ? { w1: view("head.weight"), b1: view("head.bias") }
      : { w1: view("head.fc1.weight"), b1: view("head.fc1.bias"), w2: view("head.fc2.weight"), b2: view("head.fc2.bias") };
  }
}
