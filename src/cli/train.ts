// `mimic train`: MIM pretraining (CroCo on mined pairs, or MAE on their frames) on the GPU.
// Thin: parses the flags once into TrainOptions (parseRun) and runs src/train/loop.ts's train()
// with the GPU trainer (src/train/gpu_trainer.ts); config.json is derived from those options
// (src/train/run_config.ts). Writes <out>/config.json (what the report reads),
// metrics.jsonl, checkpoint-NNNNNN.{safetensors,json,optim.safetensors,recon.png}, latest.json.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { describeAdapter, getGpu } from "../gpu/device.js";
import { prepareOut } from "../io/outdir.js";
import { checkpointTensorsPath, readSidecar, resolveCheckpointPath } from "../models/checkpoint.js";
import { type ArchName, archPresets, modelConfig, type Objective } from "../models/config.js";
import { readPairsCsv } from "../train/data.js";
import { GpuMimTrainer } from "../train/gpu_trainer.js";
import { type StepInfo, type TrainOptions, train } from "../train/loop.js";
import { trainRunConfig } from "../train/run_config.js";
import { EXIT, floatFlag, intFlag, outFlag, type Progress, printJson, progress, UsageError } from "./common.js";

interface TrainFlags {
  data: string;
  out: string;
  objective: string;
  model: string;
  steps?: string;
  epochs?: string;
  batch: string;
  accum: string;
  blr: string;
  minLr: string;
  warmup?: string;
  warmupEpochs?: string;
  weightDecay: string;
  maskRatio?: string;
  normPix?: boolean;
  seed: string;
  checkpointEvery: string;
  resume?: string | boolean;
  force?: boolean;
  init?: string;
  workers: string;
  json?: boolean;
  quiet?: boolean;
}

const fmtEta = (s: number) => {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
};

/** The checkpoint to resume: an explicit sidecar, or the one <out>/latest.json names. */
async function resumeTarget(flag: string | boolean, out: string): Promise<string> {
  if (typeof flag === "string") {
    if (!existsSync(flag)) throw new UsageError(`--resume ${flag}: no such checkpoint file`);
    flag = resolveCheckpointPath(flag);
    return flag.endsWith(".safetensors") ? flag.replace(/(\.optim)?\.safetensors$/, ".json") : flag;
  }
  const latest = path.join(out, "latest.json");
  if (!existsSync(latest)) throw new UsageError(`--resume: ${latest} does not exist; give the checkpoint (.json) to continue from`);
  const j = JSON.parse(await readFile(latest, "utf8")) as { checkpoint?: string };
  if (!j.checkpoint) throw new UsageError(`--resume: ${latest} names no checkpoint`);
  return path.join(out, j.checkpoint);
}

export function trainCommand(): Command {
  return new Command("train")
    .description("pretrain a ViT with CroCo (cross-view completion on mined pairs) or MAE on the GPU")
    .requiredOption("--data <dir>", "mined dataset folder (pairs.csv, from 'mimic mine')")
    .requiredOption("-o, --out <dir>", "run folder: config.json, metrics.jsonl, checkpoints with reconstruction PNGs")
    .option("--objective <croco|mae>", "croco: view 1 masked, view 2 as context; mae: single frames", "croco")
    .option("--model <name>", `model preset (${Object.keys(archPresets).join(", ")})`, "nano")
    .option("--steps <n>", "optimizer steps (or --epochs)")
    .option("--epochs <n>", "epochs over the dataset (or --steps)")
    .option("--batch <n>", "images (pairs) per micro-batch", "8")
    .option("--accum <n>", "micro-batches per optimizer step (effective batch = batch * accum)", "1")
    .option("--blr <x>", "base learning rate; lr = blr * batch * accum / 256 (MAE's rule)", "1.5e-4")
    .option("--min-lr <x>", "final learning rate of the cosine schedule", "0")
    .option("--warmup <steps>", "linear warmup, optimizer steps (default: 5% of the run)")
    .option("--warmup-epochs <n>", "linear warmup in epochs (instead of --warmup)")
    .option("--weight-decay <x>", "AdamW weight decay (not on biases and norms; MAE's rule)", "0.05")
    .option("--mask-ratio <x>", "fraction of view-1 patches removed (default: croco 0.9, mae 0.75)")
    .option("--norm-pix", "per-patch normalised pixel targets (MAE's norm_pix_loss)")
    .option("--seed <k>", "seed of init, data order, view swaps and masks", "0")
    .option("--checkpoint-every <n>", "checkpoint (+ reconstruction PNG) every n steps; 0 = only at the end", "0")
    .option(
      "--resume [ckpt]",
      "continue a run exactly from a checkpoint sidecar (.json, or a run's latest.json); no value: <out>/latest.json",
    )
    .option("--force", "replace the previous run in --out (only the files 'mimic train' wrote there are removed)")
    .option(
      "--init <file>",
      "start from a compatible checkpoint (.safetensors, e.g. converted from PyTorch, a sidecar .json or a run's latest.json); decoder may be missing",
    )
    .option("--workers <n>", "JPEG decode worker threads", "2")
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (o: TrainFlags) => {
      const run = await parseRun(o);
      // A non-empty --out needs --resume or --force (--force removes only a previous run's files);
      // --out may not be, hold or sit inside --data or --init; one run per folder at a time.
      const claim = prepareOut(run.opts.out, {
        command: "train",
        resume: Boolean(o.resume),
        force: o.force,
        inputs: [o.data, ...(run.opts.init ? [run.opts.init] : [])],
      });
      try {
        await runTraining(run);
      } finally {
        claim.lock.release();
      }
    });
}

/** The flags, parsed once: the loop's options (all but the progress callback) and what only the CLI needs. */
interface TrainRun {
  opts: TrainOptions;
  /** Architecture preset name. */
  model: string;
  weightDecay: number;
  quiet: boolean;
  json: boolean;
}

async function parseRun(o: TrainFlags): Promise<TrainRun> {
  if (o.objective !== "croco" && o.objective !== "mae") throw new UsageError(`--objective must be croco or mae, got '${o.objective}'`);
  if (!(o.model in archPresets)) throw new UsageError(`unknown --model '${o.model}'; use ${Object.keys(archPresets).join(", ")}`);
  if (!o.steps === !o.epochs) throw new UsageError("give exactly one of --steps and --epochs");
  if (!existsSync(path.join(o.data, "pairs.csv")))
    throw new UsageError(`--data ${o.data}: no pairs.csv there; point it at a dataset written by 'mimic mine'`);
  if (o.resume && o.init) throw new UsageError("--resume and --init exclude each other (--resume continues a run; --init starts one)");
  const objective = o.objective as Objective;
  const config = modelConfig(o.model as ArchName, objective, {
    ...(o.maskRatio !== undefined ? { maskRatio: floatFlag("mask-ratio", o.maskRatio, 0, 0.99) } : {}),
    normPixLoss: !!o.normPix,
  });
  const steps = o.steps ? intFlag("steps", o.steps) : undefined;
  const epochs = o.epochs ? intFlag("epochs", o.epochs) : undefined;
  const batch = intFlag("batch", o.batch);
  const accum = intFlag("accum", o.accum);
  await fitsOneBatch(o.data, objective, batch);
  const blr = floatFlag("blr", o.blr, 0, 1);
  const minLr = floatFlag("min-lr", o.minLr, 0, 1);
  const weightDecay = floatFlag("weight-decay", o.weightDecay, 0, 10);
  const seed = intFlag("seed", o.seed, 0);
  const out = outFlag(o.out);
  const warmupFlags = {
    warmupSteps: o.warmup !== undefined ? intFlag("warmup", o.warmup, 0) : undefined,
    warmupEpochs: o.warmupEpochs !== undefined ? floatFlag("warmup-epochs", o.warmupEpochs, 0) : undefined,
  };
  const workers = Math.min(intFlag("workers", o.workers, 0), availableParallelism()); // more threads than cores only costs memory
  const checkpointEvery = intFlag("checkpoint-every", o.checkpointEvery, 0);
  const resume = o.resume ? await resumeTarget(o.resume, out) : undefined;
  if (resume && steps !== undefined) {
    const at = (await readSidecar(resume)).step;
    if (at >= steps)
      throw new UsageError(
        `--resume ${resume}: that checkpoint is at step ${at}, and this run has ${steps} steps in all: nothing is left to train. Fix: raise --steps above ${at}`,
      );
  }
  // --init takes model tensors: a sidecar or a run's latest.json stands for its .safetensors.
  let init: string | undefined;
  if (o.init !== undefined) {
    if (!existsSync(o.init))
      throw new UsageError(`--init ${o.init}: no such file. Fix: pass a checkpoint (.safetensors, .json or a run's latest.json)`);
    init = checkpointTensorsPath(o.init);
  }
  const warmup = await resolveWarmup(warmupFlags, steps, epochs, resume);
  const opts: TrainOptions = {
    config,
    data: path.resolve(o.data),
    out,
    batch,
    accum,
    steps,
    epochs,
    blr,
    minLr,
    ...warmup,
    seed,
    checkpointEvery,
    resume,
    init,
    workers,
    // stored in every checkpoint's sidecar: what a --resume needs back (the warmup) and the flags
    extra: {
      objective,
      model: o.model,
      weightDecay,
      warmupSteps: warmup.warmupSteps ?? null,
      warmupEpochs: warmup.warmupEpochs ?? null,
      minLr,
    },
  };
  return { opts, model: o.model, weightDecay, quiet: Boolean(o.quiet || o.json), json: Boolean(o.json) };
}

/**
 * A pairs.csv that cannot be read, or holds fewer items (CroCo: pairs; MAE: distinct frames) than
 * one batch, is the user's input to fix: exit 2, before --out is claimed.
 */
async function fitsOneBatch(data: string, objective: Objective, batch: number): Promise<void> {
  let rows: Awaited<ReturnType<typeof readPairsCsv>>;
  try {
    rows = await readPairsCsv(path.resolve(data));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const n = objective === "croco" ? rows.length : new Set(rows.flatMap((r) => [path.normalize(r.path1), path.normalize(r.path2)])).size;
  const what = objective === "croco" ? "pairs" : "distinct frames";
  if (n < batch)
    throw new UsageError(
      `--data ${data}: pairs.csv has ${n} ${what}, fewer than one batch of ${batch}. Fix: pass --batch ${n} or less, or mine more pairs`,
    );
}

type Warmup = Pick<TrainOptions, "warmupSteps" | "warmupEpochs">;

/**
 * The warmup as given; else, when resuming, the one the run was started with (the checkpoint's
 * extra); else 5% of the run (in steps, or in epochs that the loop converts).
 */
async function resolveWarmup(given: Warmup, steps?: number, epochs?: number, resume?: string): Promise<Warmup> {
  if (given.warmupSteps !== undefined || given.warmupEpochs !== undefined) return given;
  if (resume) {
    const ex = (await readSidecar(resume)).extra as { warmupSteps?: number | null; warmupEpochs?: number | null };
    return {
      warmupSteps: typeof ex.warmupSteps === "number" ? ex.warmupSteps : undefined,
      warmupEpochs: typeof ex.warmupEpochs === "number" ? ex.warmupEpochs : undefined,
    };
  }
  return steps ? { warmupSteps: Math.round(0.05 * steps) } : { warmupEpochs: 0.05 * (epochs ?? 0) };
}

async function runTraining(run: TrainRun): Promise<void> {
  const { opts, model, quiet } = run;
  const objective = opts.config.objective;
  const gpu = await getGpu();
  const trainer = new GpuMimTrainer(gpu, opts.config, { weightDecay: run.weightDecay });
  await mkdir(opts.out, { recursive: true });
  const runConfig = trainRunConfig(opts, { model, weightDecay: run.weightDecay, adapter: describeAdapter(gpu.adapter) });
  // Written once train() has opened the data and checked --resume/--init: a refused run (a bad
  // pairs.csv row, a --resume with another --seed) leaves the folder as it found it.
  const onStart = () => writeFile(path.join(opts.out, "config.json"), `${JSON.stringify(runConfig, null, 2)}\n`);

  let bar: Progress | null = null;
  const ipsWindow: number[] = [];
  let last: StepInfo | null = null;
  const t0 = Date.now();
  const onStep = (s: StepInfo) => {
    last = s;
    ipsWindow.push(s.imgPerSec);
    if (ipsWindow.length > 10) ipsWindow.shift();
    if (!bar)
      bar = progress(`train ${model} ${objective}`, s.totalSteps, {
        quiet,
        format: `loss {loss} lr {lr} {ips} ${objective === "croco" ? "pairs" : "img"}/s eta {eta}`,
      });
    const ips = ipsWindow.reduce((a, b) => a + b, 0) / ipsWindow.length;
    bar.update(s.step, { loss: s.loss.toFixed(4), lr: s.lr.toExponential(2), ips: ips.toFixed(2), eta: fmtEta(s.etaSec) });
  };
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train(trainer, { ...opts, onStart, onStep });
  } finally {
    (bar as Progress | null)?.stop();
  }
  const sec = (Date.now() - t0) / 1000;
  const final = (last as StepInfo | null)?.loss ?? Number.NaN;
  const summary = {
    out: opts.out,
    steps: result.steps,
    stepsThisRun: result.losses.length,
    firstLoss: result.losses[0] ?? null,
    finalLoss: final,
    seconds: sec,
    stepsPerSec: result.losses.length / sec,
    lastCheckpoint: result.lastCheckpoint,
  };
  if (run.json) printJson(summary);
  else if (!quiet)
    console.error(
      `trained ${model} ${objective}: ${summary.stepsThisRun} steps in ${sec.toFixed(1)} s (${summary.stepsPerSec.toFixed(2)} steps/s), ` +
        `loss ${summary.firstLoss?.toFixed(4)} -> ${final.toFixed(4)}; checkpoint ${result.lastCheckpoint}`,
    );
  process.exitCode = EXIT.ok;
}
