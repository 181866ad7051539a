// MIM training throughput: images/s (pairs/s for CroCo) of one full training step (forward, masked
// MSE, backward, AdamW) of the GPU model (src/models/mim_gpu.ts via GpuMimTrainer) on the adapter,
// beside the same model in PyTorch on the CPU (bench/peers/train.py, which imports
// test/fixtures/make_reference.py's MIM) in the same run. Presets nano (batch 8) and tiny (batch 4;
// --quick: nano only, fewer steps). Random inputs, fresh random masks per step, as in training.
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeAdapter, getGpu } from "../src/gpu/device.js";
import { packageRoot } from "../src/gpu/kernel.js";
import { type ArchName, modelConfig, numPatches } from "../src/models/config.js";
import { randomMasking } from "../src/models/masking.js";
import { initParams } from "../src/models/params.js";
import { Pcg32 } from "../src/ref/prng.js";
import type { MimBatch } from "../src/train/data.js";
import { GpuMimTrainer } from "../src/train/gpu_trainer.js";
import { type BenchOptions, type BenchResult, type BenchRow, row, runPython } from "./lib.js";

interface Case {
  arch: ArchName;
  objective: "croco" | "mae";
  batch: number;
  warmup: number;
  steps: number;
}

function randomViews(n: number, seed: number): Float32Array {
  const r = new Pcg32(seed, 3);
  return Float32Array.from({ length: n }, () => 2 * r.nextFloat() - 1);
}

/** Seconds per training step of the GPU trainer (median-free: mean over `steps` after `warmup`). */
async function oursSecPerStep(c: Case): Promise<number> {
  const gpu = await getGpu();
  const config = modelConfig(c.arch, c.objective);
  const trainer = new GpuMimTrainer(gpu, config);
  await trainer.importParams(initParams(config, 0).data);
  const S = config.imgSize;
  const B = c.batch;
  const batch: MimBatch = {
    epoch: 0,
    index: 0,
    B,
    view1: randomViews(B * 3 * S * S, 1),
    view2: c.objective === "croco" ? randomViews(B * 3 * S * S, 2) : null,
    items: new Int32Array(B),
    swapped: new Uint8Array(B),
  };
  const L = numPatches(config);
  const one = async (s: number) => {
    await trainer.microStep(batch, randomMasking(B, L, config.maskRatio, 7, s * B));
    await trainer.optimizerStep(1e-4, 1);
  };
  for (let s = 0; s < c.warmup; s++) await one(s);
  const t0 = performance.now();
  for (let s = 0; s < c.steps; s++) await one(c.warmup + s);
  await gpu.device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000 / c.steps;
}

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const cases: Case[] = opts.quick
    ? [{ arch: "nano", objective: "croco", batch: 8, warmup: 1, steps: 3 }]
    : [
        { arch: "nano", objective: "croco", batch: 8, warmup: 1, steps: 5 },
        { arch: "nano", objective: "mae", batch: 8, warmup: 1, steps: 5 },
        { arch: "tiny", objective: "croco", batch: 4, warmup: 1, steps: 2 },
      ];
  const peerScript = path.join(packageRoot(), "bench", "peers", "train.py");
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let peerName = "PyTorch (CPU)";
  for (const c of cases) {
    const config = modelConfig(c.arch, c.objective);
    const sec = await oursSecPerStep(c);
    const out = JSON.parse(runPython(peerScript, [JSON.stringify({ config, batch: c.batch, warmup: c.warmup, steps: c.steps })]));
    peerName = `PyTorch ${out.torch} on the CPU (${out.threads} threads)`;
    const unit = c.objective === "croco" ? "pairs/s" : "img/s";
    rows.push(row(`${c.arch} ${c.objective} train step, batch ${c.batch}`, unit, c.batch / sec, out.imgPerSec));
    notes.push(
      `${c.arch} ${c.objective} batch ${c.batch}: ours ${sec.toFixed(3)} s/step (${(1 / sec).toFixed(2)} steps/s), torch ${out.secPerStep.toFixed(3)} s/step`,
    );
  }
  return { name: "train", peer: peerName, adapter: describeAdapter(gpu.adapter), rows, notes };
}
