// `mimic reconstruct`: run a checkpoint on one image (CroCo: a pair) with an explicit or seeded
// random mask and write masked input / prediction / target (/ view 2) side by side. Thin: loads the
// checkpoint and calls src/train/reconstruct.ts's reconstruct() with the GPU forward (or the CPU
// reference with --device cpu).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { getGpu } from "../gpu/device.js";
import { outsideInputs } from "../io/outdir.js";
import { loadCheckpoint, loadParams, resolveCheckpointPath } from "../models/checkpoint.js";
import { type ArchName, archPresets, type ModelConfig, modelConfig, numPatches, validateConfig } from "../models/config.js";
import type { ParamStore } from "../models/params.js";
import { readSafetensors } from "../models/safetensors.js";
import { gpuForward } from "../train/gpu_trainer.js";
import { cpuForward, reconstruct } from "../train/reconstruct.js";
import { checkpointFiles, EXIT, intFlag, outFlag, printJson, UsageError } from "./common.js";

interface ReconstructFlags {
  ckpt: string;
  view1: string;
  view2?: string;
  mask?: string;
  seed: string;
  out: string;
  model?: string;
  objective?: string;
  device: string;
  json?: boolean;
  quiet?: boolean;
}

/** Parameters + config from a sidecar (.json), a checkpoint's .safetensors, a run's latest.json (or run folder), or a bare safetensors file. */
export async function loadModelFile(file: string, model?: string, objective?: string): Promise<ParamStore> {
  if (!existsSync(file)) throw new UsageError(`--ckpt ${file}: no such file`);
  file = resolveCheckpointPath(file);
  if (!existsSync(file)) throw new UsageError(`--ckpt: the checkpoint ${file} that it names does not exist`);
  const sidecar = file.endsWith(".json") ? file : file.replace(/(\.optim)?\.safetensors$/, ".json");
  if (existsSync(sidecar) && !model) return (await loadCheckpoint(sidecar)).params;
  if (model && file.endsWith(".json"))
    throw new UsageError(
      `--ckpt ${file} is a checkpoint sidecar, which names its own model; drop --model/--objective, or give the .safetensors file with --model`,
    );
  let config: ModelConfig;
  if (model) {
    if (!(model in archPresets)) throw new UsageError(`unknown --model '${model}'; use ${Object.keys(archPresets).join(", ")}`);
    const obj = objective ?? "croco";
    if (obj !== "croco" && obj !== "mae") throw new UsageError(`--objective must be croco or mae, got '${obj}'`);
    config = modelConfig(model as ArchName, obj);
  } else {
    const st = await readSafetensors(file);
    const meta = st.metadata["mimic-kit.config"];
    if (!meta)
      throw new UsageError(
        `${file} has no sidecar (.json) and no mimic-kit config in its metadata; say what it is with --model <preset> --objective <croco|mae>`,
      );
    config = JSON.parse(meta) as ModelConfig;
    validateConfig(config);
  }
  return loadParams(file, config);
}

/** A mask file: a JSON list of masked patch indices (row-major from the top left), or {"masked": [...]}. */
async function readMask(file: string, L: number): Promise<number[]> {
  let j: unknown;
  try {
    j = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new UsageError(`--mask ${file}: not readable JSON (${(e as Error).message}); write a list of patch indices, e.g. [0, 1, 14]`);
  }
  const list = Array.isArray(j) ? j : (j as { masked?: unknown }).masked;
  if (!Array.isArray(list) || !list.every((v) => Number.isInteger(v)))
    throw new UsageError(`--mask ${file}: expected a JSON list of integer patch indices 0..${L - 1} (or {"masked": [...]})`);
  return list as number[];
}

export function reconstructCommand(): Command {
  return new Command("reconstruct")
    .description("show what a checkpoint learned: masked input / prediction / target for one image (pair)")
    .requiredOption(
      "--ckpt <file>",
      "checkpoint sidecar (.json), a run's latest.json, or .safetensors (bare files need --model/--objective)",
    )
    .requiredOption("--view1 <image>", "the image to mask and reconstruct (resized to the model's input size)")
    .option("--view2 <image>", "the second view (CroCo checkpoints)")
    .option("--mask <file>", "JSON list of masked patch indices (row-major from the top left); default: a seeded random mask")
    .option("--seed <k>", "seed of the random mask", "0")
    .requiredOption("-o, --out <png>", "where to write the side-by-side picture")
    .option("--model <name>", `preset of a bare safetensors file (${Object.keys(archPresets).join(", ")})`)
    .option("--objective <croco|mae>", "objective of a bare safetensors file", undefined)
    .option("--device <gpu|cpu>", "gpu (WebGPU model) or cpu (the float64-accumulating reference)", "gpu")
    .option("--json", "print the loss and the mask used as JSON on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (o: ReconstructFlags) => {
      if (o.device !== "gpu" && o.device !== "cpu") throw new UsageError(`--device must be gpu or cpu, got '${o.device}'`);
      for (const f of [o.view1, o.view2].filter(Boolean) as string[]) if (!existsSync(f)) throw new UsageError(`image ${f} does not exist`);
      const out = outFlag(o.out);
      outsideInputs(
        out,
        [o.view1, o.view2, o.mask, ...checkpointFiles(o.ckpt)].filter((f): f is string => !!f),
      );
      const params = await loadModelFile(o.ckpt, o.model, o.objective);
      const c = params.config;
      if (c.objective === "croco" && !o.view2) throw new UsageError(`${o.ckpt} is a CroCo model: give the second view with --view2`);
      if (c.objective === "mae" && o.view2) throw new UsageError(`${o.ckpt} is an MAE model: it takes one view; drop --view2`);
      const mask = o.mask ? await readMask(o.mask, numPatches(c)) : undefined;
      const forward = o.device === "gpu" ? gpuForward(await getGpu()) : cpuForward;
      let r: Awaited<ReturnType<typeof reconstruct>>;
      try {
        r = await reconstruct({ params, view1: o.view1, view2: o.view2, mask, seed: intFlag("seed", o.seed, 0), out, forward });
      } catch (e) {
        const msg = (e as Error).message;
        if (/explicit mask/.test(msg)) throw new UsageError(`--mask ${o.mask}: ${msg}`);
        throw e;
      }
      const summary = {
        out,
        loss: r.loss,
        masked: r.masked,
        numMasked: r.masked.length,
        numPatches: numPatches(c),
        model: c.name,
        objective: c.objective,
        imgSize: c.imgSize,
        patchSize: c.patchSize,
        device: o.device,
      };
      if (o.json) printJson(summary);
      else if (!o.quiet)
        console.error(
          `${c.name} ${c.objective}: loss ${r.loss.toFixed(4)} on ${r.masked.length}/${numPatches(c)} masked patches; wrote ${summary.out}`,
        );
      process.exitCode = EXIT.ok;
    });
}
