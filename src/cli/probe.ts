// `mimic probe`: train a depth or segmentation head on a frozen encoder and report val metrics.
// Thin: parses flags into a ProbeTrainConfig and calls runProbe (src/probe/pipeline.ts).
import path from "node:path";
import { Command, Option } from "commander";
import { notALink, outsideInputs } from "../io/outdir.js";
import { type ArchName, archPresets } from "../models/config.js";
import { openProbeDataset, type ProbeFormat, type ProbeTask } from "../probe/datasets.js";
import { checkpointEncoder, type EncoderDevice, positionEncoder, randomEncoder } from "../probe/encoders.js";
import { type HeadPresetName, headPresets } from "../probe/heads.js";
import { type ClassWeights, type FeatureNorm, formatMetrics, type ProbeTrainConfig, probePresets, runProbe } from "../probe/pipeline.js";
import { DEFAULT_RESAMPLES } from "../probe/stats.js";
import { checkpointFiles, EXIT, floatFlag, intFlag, outFlag, type Progress, printJson, progress, UsageError } from "./common.js";

interface ProbeFlags {
  ckpt: string;
  task: string;
  data: string;
  out: string;
  model: string;
  arch?: string;
  seed: string;
  preset: string;
  head?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  encoderLr?: string;
  featureNorm?: string;
  classWeights?: string;
  format: string;
  cache?: string;
  device: string;
  resamples: string;
  json?: boolean;
  quiet?: boolean;
}

export function probeCommand(): Command {
  return new Command("probe")
    .description(
      "depth / segmentation transfer: a head on a frozen encoder (or, --preset finetune, a fine-tuned one), metrics on the val split",
    )
    .requiredOption(
      "--ckpt <file|random|position>",
      "encoder checkpoint (.json sidecar, a run's latest.json, or .safetensors), 'random' for the random-init baseline, or 'position' for the position prior (tokens = the position embedding only)",
    )
    .requiredOption("--task <depth|seg>", "depth (AbsRel, RMSE, delta) or seg (mIoU, pixel accuracy)")
    .requiredOption("--data <dir>", "probe dataset: NYU (rgb/ + depth/ or a list file), ADE20K, or a 'mimic synth' folder")
    .requiredOption("-o, --out <dir>", "output folder: metrics.json, predictions.png")
    .option(
      "--model <name>",
      `model preset of 'random', 'position' or a bare safetensors file (${Object.keys(archPresets).join(", ")})`,
      "nano",
    )
    .addOption(new Option("--arch <name>", "old spelling of --model").hideHelp())
    .option("--seed <k>", "seed of the random encoder, the head and the bootstrap resamples", "0")
    .option("--resamples <n>", "bootstrap resamples (over val images) for each metric's 95% interval", String(DEFAULT_RESAMPLES))
    .option("--preset <name>", `training preset (${Object.keys(probePresets).join(", ")})`, "linear")
    .option("--head <kind>", `head (${Object.keys(headPresets).join(", ")}); default from the preset`)
    .option("--epochs <n>", "epochs over the train split")
    .option("--batch <n>", "images per step")
    .option("--lr <x>", "peak learning rate of the head (AdamW, cosine decay)")
    .option("--encoder-lr <x>", "preset finetune: peak learning rate of the encoder (default from the preset)")
    .option(
      "--feature-norm <standardize|none>",
      "per-channel standardisation of the frozen features with train-split statistics (MAE's linear-probe BatchNorm), the same for every encoder; default from the preset",
    )
    .option(
      "--class-weights <none|balanced>",
      "seg: loss weight per class; balanced = median frequency balancing over the train split (rare classes weigh more); default from the preset (none)",
    )
    .option("--format <layout>", "dataset layout: auto, nyu, ade20k, synth", "auto")
    .option("--cache <dir>", "cache encoder features on disk here (reused while the weights are the same)")
    .option("--device <gpu|cpu>", "where the encoder runs: gpu (WebGPU) or cpu (the reference; slow; frozen only)", "gpu")
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (opts: ProbeFlags) => {
      if (opts.task !== "depth" && opts.task !== "seg") throw new UsageError(`--task must be depth or seg, got '${opts.task}'`);
      if (!["auto", "nyu", "ade20k", "synth"].includes(opts.format))
        throw new UsageError(`--format must be auto, nyu, ade20k or synth, got '${opts.format}'`);
      if (!(opts.preset in probePresets))
        throw new UsageError(`unknown --preset '${opts.preset}'; use ${Object.keys(probePresets).join(", ")}`);
      if (opts.head && !(opts.head in headPresets))
        throw new UsageError(`unknown --head '${opts.head}'; use ${Object.keys(headPresets).join(", ")}`);
      if (opts.featureNorm && opts.featureNorm !== "standardize" && opts.featureNorm !== "none")
        throw new UsageError(`--feature-norm must be standardize or none, got '${opts.featureNorm}'`);
      if (opts.classWeights && opts.classWeights !== "none" && opts.classWeights !== "balanced")
        throw new UsageError(`--class-weights must be none or balanced, got '${opts.classWeights}'`);
      if (opts.classWeights && opts.task !== "seg") throw new UsageError("--class-weights is for --task seg (depth has no classes)");
      const model = opts.arch ?? opts.model; // --arch: the old spelling, kept for one release
      if (!(model in archPresets)) throw new UsageError(`unknown --model '${model}'; use ${Object.keys(archPresets).join(", ")}`);
      if (opts.device !== "gpu" && opts.device !== "cpu") throw new UsageError(`--device must be gpu or cpu, got '${opts.device}'`);
      const device = opts.device as EncoderDevice;
      const seed = intFlag("seed", opts.seed, 0);
      const resamples = intFlag("resamples", opts.resamples, 1);
      const config: ProbeTrainConfig = {
        ...probePresets[opts.preset as keyof typeof probePresets],
        seed,
        ...(opts.head ? { head: opts.head as HeadPresetName } : {}),
        ...(opts.epochs ? { epochs: intFlag("epochs", opts.epochs, 0) } : {}),
        ...(opts.batch ? { batchSize: intFlag("batch", opts.batch) } : {}),
        ...(opts.lr ? { lr: floatFlag("lr", opts.lr, 0, 10) } : {}),
        ...(opts.featureNorm ? { featureNorm: opts.featureNorm as FeatureNorm } : {}),
        ...(opts.classWeights ? { classWeights: opts.classWeights as ClassWeights } : {}),
        ...(opts.encoderLr ? { encoderLr: floatFlag("encoder-lr", opts.encoderLr, 0, 10) } : {}),
      };
      if (opts.encoderLr && config.mode !== "finetune")
        throw new UsageError("--encoder-lr needs --preset finetune (the encoder is frozen otherwise)");
      if (config.mode === "finetune" && config.featureNorm !== "none")
        throw new UsageError("--preset finetune trains on the encoder's own tokens: --feature-norm must be none");
      if (config.mode === "finetune" && opts.device !== "gpu")
        throw new UsageError("--preset finetune runs on the GPU engine: drop --device cpu");
      let dataset: ReturnType<typeof openProbeDataset>;
      try {
        dataset = openProbeDataset(opts.data, { task: opts.task as ProbeTask, format: opts.format as ProbeFormat | "auto" });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      // metrics.json, predictions.png and the feature cache never land in the dataset (a PNG in its
      // rgb/ would break it) or over the checkpoint.
      const out = outFlag(opts.out);
      const inputs = [opts.data, ...(opts.ckpt === "random" || opts.ckpt === "position" ? [] : checkpointFiles(opts.ckpt))];
      outsideInputs(out, inputs);
      if (opts.cache) outsideInputs(path.resolve(opts.cache), inputs, "--cache");
      for (const f of ["metrics.json", "predictions.png"]) notALink(path.join(out, f));
      const arch = model as ArchName;
      if (opts.ckpt === "position" && config.mode === "finetune")
        throw new UsageError("--ckpt position has no weights to fine-tune: use a frozen preset (linear, mlp, quick)");
      const encoder =
        opts.ckpt === "position"
          ? positionEncoder(arch)
          : opts.ckpt === "random"
            ? randomEncoder(arch, seed, device, config.mode)
            : await checkpointEncoder(opts.ckpt, arch, device, config.mode);
      const quiet = opts.quiet || opts.json;
      let bar: Progress | null = null;
      let stage = "";
      const result = await runProbe({
        dataset,
        encoder,
        config,
        out,
        cacheDir: opts.cache ? path.resolve(opts.cache) : null,
        resamples,
        onProgress(s, done, total, info) {
          if (s !== stage) {
            bar?.stop();
            stage = s;
            bar = progress(`probe ${s}`, total, { quiet, format: s === "train" ? "loss {loss}" : "" });
          }
          bar!.update(done, info ? { loss: (info.loss ?? 0).toFixed(4), epoch: info.epoch ?? 0 } : undefined);
        },
      });
      (bar as Progress | null)?.stop();
      if (opts.json) printJson(result);
      else if (!opts.quiet) {
        console.error(
          `${result.task} probe, ${result.encoder}, ${result.head.kind} head, ${result.dataset.train} train / ${result.dataset.val} val images`,
        );
        for (const n of result.dataset.notes) console.error(`note: ${n}`);
        console.error(formatMetrics(result.metrics, result.classNames, result.intervals));
        console.error(`wrote ${result.files.metrics}${result.files.pictures ? ` and ${result.files.pictures}` : ""}`);
      }
      process.exitCode = EXIT.ok;
    });
}
