// The MIM training loop, independent of how a step is computed: a `MimTrainer` (the GPU model, or a
// CPU stand-in in tests) does forward/backward/AdamW; this file owns everything around it: data
// order, masks, gradient accumulation, the MAE lr schedule, metrics.jsonl, checkpoints with
// reconstruction pictures, exact resume, --init, and stopping on a non-finite loss.
//
// Determinism: micro-batch m (= step * accum + k) is batch (m mod batchesPerEpoch) of epoch
// floor(m / batchesPerEpoch) of the loader (seeded order and view swaps) with the masks of
// stepMasking(config, B, seed, m). A run resumed from step s continues at micro-batch s * accum,
// with parameters and optimizer moments from the checkpoint, so it replays the same losses.

import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writePng } from "../image/io.js";
import { UsageError } from "../io/errors.js";
import { decoderMayBeMissing, loadCheckpoint, loadParams, saveCheckpoint } from "../models/checkpoint.js";
import type { ModelConfig } from "../models/config.js";
import type { Masking } from "../models/masking.js";
import { initParams, ParamStore } from "../models/params.js";
import type { Safetensors, TensorToWrite } from "../models/safetensors.js";
import { type LrSchedule, lrAt, maeLr } from "../nn/optim_config.js";
import { FrameLoader, type MimBatch, type MimLoader, PairLoader } from "./data.js";
import { reconstructionPanels, stepMasking } from "./reconstruct.js";

/** What the loop needs from a model + optimizer implementation. */
export interface MimTrainer {
  /** Forward + backward of one micro-batch; gradients accumulate until optimizerStep. Returns the loss. */
  microStep(batch: MimBatch, masking: Masking): Promise<number>;
  /** One AdamW step at `lr` with gradients scaled by `gradScale` (1 / accum); then zero the gradients. */
  optimizerStep(lr: number, gradScale: number): Promise<void>;
  /** Replace all parameters (ParamStore.data layout of the config). */
  importParams(data: Float32Array): Promise<void>;
  /** Current parameters (ParamStore.data layout). */
  exportParams(): Promise<Float32Array>;
  /** Optimizer moments as named tensors + JSON state (step count ...), for checkpoints. */
  exportOptimizer(): Promise<{ tensors: TensorToWrite[]; state: Record<string, unknown> }>;
  /** Restore what exportOptimizer wrote. */
  importOptimizer(tensors: Safetensors, state: Record<string, unknown>): Promise<void>;
  /** Prediction (B, L, p*p*3) for a batch without touching gradients (reconstruction pictures). Optional. */
  predict?(batch: MimBatch, masking: Masking): Promise<Float32Array>;
}

export interface TrainOptions {
  config: ModelConfig;
  /** Dataset folder with pairs.csv. */
  data: string;
  /** Run folder: metrics.jsonl, checkpoints, reconstructions. */
  out: string;
  /** Micro-batch size. */
  batch: number;
  /** Micro-batches per optimizer step (effective batch = batch * accum). */
  accum: number;
  /** Optimizer steps; or give epochs. */
  steps?: number;
  epochs?: number;
  /** Base lr (MAE: 1.5e-4; absolute lr = blr * batch * accum / 256). */
  blr: number;
  minLr?: number;
  /** Warmup in optimizer steps (or warmupEpochs). */
  warmupSteps?: number;
  warmupEpochs?: number;
  seed: number;
  /** Checkpoint (+ reconstruction PNG) every N optimizer steps, and at the end. 0 = only at the end. */
  checkpointEvery?: number;
  /** Sidecar (.json) of a checkpoint of this run to continue exactly. */
  resume?: string;
  /** A compatible model file (.safetensors, e.g. converted from PyTorch) to start from. */
  init?: string;
  /** Decode workers (default 2). */
  workers?: number;
  /**
   * Called once the run is set to go (dataset opened, --resume/--init checked and loaded), before
   * the first step: the CLI writes the run's config.json here, so a refused run leaves it as it was.
   */
  onStart?: () => Promise<void>;
  /** Called after every optimizer step (the CLI draws its progress bar from this). */
  onStep?: (s: StepInfo) => void;
  /** Options stored in the checkpoint sidecar's "extra" (e.g. the CLI flags). */
  extra?: Record<string, unknown>;
}

export interface StepInfo {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Images per second (pairs per second for CroCo) over the last step. */
  imgPerSec: number;
  etaSec: number;
}

export interface TrainResult {
  steps: number;
  losses: number[];
  lastCheckpoint: string;
}

/** One line of <out>/metrics.jsonl (the report reads it through this type). */
export interface MetricsLine {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  imgPerSec: number;
  elapsedSec: number;
}

/** The schedule's peak learning rate: MAE's rule, blr * effective batch / 256. */
export function peakLr(o: Pick<TrainOptions, "blr" | "batch" | "accum">): number {
  return maeLr(o.blr, o.batch * o.accum);
}

function schedule(o: TrainOptions, stepsPerEpoch: number): { total: number; lr: LrSchedule } {
  const total = o.steps ?? (o.epochs ?? 0) * stepsPerEpoch;
  if (!(total > 0)) throw new Error(`nothing to train: give --steps or --epochs (dataset: ${stepsPerEpoch} optimizer steps per epoch)`);
  const warmup = o.warmupSteps ?? Math.round((o.warmupEpochs ?? 0) * stepsPerEpoch);
  return { total, lr: { lr: peakLr(o), minLr: o.minLr ?? 0, warmupSteps: Math.min(warmup, total), totalSteps: total } };
}

/** Train (or continue training) a MIM model. The trainer must already hold `config`'s model. */
export async function train(trainer: MimTrainer, o: TrainOptions): Promise<TrainResult> {
  const c = o.config;
  if (!(Number.isInteger(o.accum) && o.accum >= 1)) throw new Error(`--accum must be a positive integer (got ${o.accum})`);
  await mkdir(o.out, { recursive: true });
  const loaderOpts = { dataset: o.data, imgSize: c.imgSize, batch: o.batch, seed: o.seed, workers: o.workers };
  const loader: MimLoader = c.objective === "croco" ? await PairLoader.open(loaderOpts) : await FrameLoader.open(loaderOpts);
  try {
    const bpe = loader.batchesPerEpoch;
    const stepsPerEpoch = Math.max(1, Math.floor(bpe / o.accum));
    const { total, lr: sched } = schedule(o, stepsPerEpoch);

    let step = 0;
    if (o.resume) {
      const ck = await loadCheckpoint(o.resume);
      const a = JSON.stringify({ ...ck.sidecar.config });
      const b = JSON.stringify({ ...c });
      if (a !== b) throw new UsageError(`--resume ${o.resume}: its model config ${a} differs from this run's ${b}`);
      if (ck.sidecar.rng.seed !== o.seed)
        throw new UsageError(`--resume ${o.resume}: it was trained with --seed ${ck.sidecar.rng.seed}, not ${o.seed}`);
      const ex = ck.sidecar.extra as { batch?: number; accum?: number };
      if ((ex.batch !== undefined && ex.batch !== o.batch) || (ex.accum !== undefined && ex.accum !== o.accum))
        throw new UsageError(
          `--resume ${o.resume}: it was trained with --batch ${ex.batch} --accum ${ex.accum}; use the same to continue exactly`,
        );
      await trainer.importParams(ck.params.data);
      if (!ck.optimizer || !ck.sidecar.optimizer)
        throw new UsageError(`--resume ${o.resume}: the checkpoint has no optimizer state; use --init to start from its weights`);
      await trainer.importOptimizer(ck.optimizer, ck.sidecar.optimizer.state);
      step = ck.sidecar.step;
      if (step >= total)
        throw new UsageError(
          `--resume ${o.resume}: that checkpoint is at step ${step}, and this run has ${total} steps in all: nothing is left to train. Fix: raise --steps (or --epochs) above ${step}`,
        );
    } else {
      let params: ParamStore = initParams(c, o.seed);
      if (o.init) params = await loadParams(o.init, c, { allowMissing: decoderMayBeMissing, ignoreUnexpected: true }, params);
      await trainer.importParams(params.data);
    }
    const metricsFile = join(o.out, "metrics.jsonl");
    if (o.resume) await keepMetricsUpTo(metricsFile, step);
    await o.onStart?.();

    const losses: number[] = [];
    let lastCheckpoint = "";
    const every = o.checkpointEvery ?? 0;
    const B = o.batch;
    const t0 = Date.now();
    const firstStep = step;

    const batchOf = async (m: number, it: { epoch: number; gen: AsyncGenerator<MimBatch> | null }): Promise<MimBatch> => {
      const epoch = Math.floor(m / bpe);
      if (!it.gen || it.epoch !== epoch) {
        await it.gen?.return(undefined);
        it.gen = loader.epoch(epoch, m % bpe);
        it.epoch = epoch;
      }
      const r = await it.gen.next();
      if (r.done) throw new Error(`internal: loader ran out in epoch ${epoch}`);
      return r.value;
    };
    const it: { epoch: number; gen: AsyncGenerator<MimBatch> | null } = { epoch: -1, gen: null };

    const checkpoint = async (picture: MimBatch | null, masking: Masking | null) => {
      const params = new ParamStore(c, await trainer.exportParams());
      const base = `checkpoint-${String(step).padStart(6, "0")}`;
      const name = join(o.out, base);
      lastCheckpoint = await saveCheckpoint(name, {
        params,
        step,
        epoch: Math.floor((step * o.accum) / bpe),
        optimizer: await trainer.exportOptimizer(),
        rng: { seed: o.seed, step, microBatch: step * o.accum },
        extra: { ...(o.extra ?? {}), blr: o.blr, batch: o.batch, accum: o.accum, totalSteps: total },
      });
      await writeFile(join(o.out, "latest.json"), `${JSON.stringify({ checkpoint: `${base}.json`, step })}\n`);
      if (trainer.predict && picture && masking) {
        const pred = await trainer.predict(picture, masking);
        const img = reconstructionPanels(c, picture.view1, pred, masking.mask, 0, picture.view2);
        await writePng(`${name}.recon.png`, img.width, img.height, img.rgb, 3);
      }
    };

    let lastBatch: MimBatch | null = null;
    let lastMasking: Masking | null = null;
    while (step < total) {
      const ts = Date.now();
      const lr = lrAt(step, sched);
      let lossSum = 0;
      for (let k = 0; k < o.accum; k++) {
        const m = step * o.accum + k;
        const batch = await batchOf(m, it);
        const masking = stepMasking(c, B, o.seed, m);
        const loss = await trainer.microStep(batch, masking);
        if (!Number.isFinite(loss))
          throw new Error(
            `non-finite loss (${loss}) at step ${step} (micro-batch ${k}, epoch ${batch.epoch}, batch ${batch.index}, lr ${lr.toExponential(3)}); ` +
              `lower --blr, lengthen --warmup, or --resume from ${lastCheckpoint || "an earlier checkpoint"}`,
          );
        lossSum += loss;
        lastBatch = batch;
        lastMasking = masking;
      }
      await trainer.optimizerStep(lr, 1 / o.accum);
      const loss = lossSum / o.accum;
      losses.push(loss);
      step++;
      const dt = (Date.now() - ts) / 1000;
      const imgPerSec = (B * o.accum) / Math.max(dt, 1e-9);
      const elapsed = (Date.now() - t0) / 1000;
      const etaSec = ((total - step) * elapsed) / Math.max(1, step - firstStep);
      const epoch = Math.floor(((step - 1) * o.accum) / bpe);
      const line: MetricsLine = { step, epoch, loss, lr, imgPerSec, elapsedSec: elapsed };
      await appendFile(metricsFile, `${JSON.stringify(line)}\n`);
      o.onStep?.({ step, totalSteps: total, epoch, loss, lr, imgPerSec, etaSec });
      if ((every > 0 && step % every === 0) || step === total) await checkpoint(lastBatch, lastMasking);
    }
    await it.gen?.return(undefined);
    return { steps: step, losses, lastCheckpoint };
  } finally {
    await loader.close();
  }
}

/**
 * A resumed run's metrics.jsonl: its whole lines up to the checkpoint's step. A run killed after
 * the checkpoint logged steps (and maybe a torn line) that the resumed run redoes and logs again.
 */
async function keepMetricsUpTo(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return; // resuming into a new folder: no metrics yet
  }
  const kept = text.split("\n").filter((l) => {
    try {
      return (JSON.parse(l) as MetricsLine).step <= step;
    } catch {
      return false; // a torn line
    }
  });
  await writeFile(file, kept.map((l) => `${l}\n`).join(""));
}
