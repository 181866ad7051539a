// Encoders for the probe from the models' CPU reference (src/models/mim_cpu.ts encoderCpu):
// a checkpoint, or a random initialisation (the `--ckpt random` baseline). They give correct
// features on any machine (the reference); `device: "gpu"` gives the same encoders on the training
// engine's GPU encoder (src/probe/gpu_encoder.ts), same name (weights hash) and features within
// float32 rounding, much faster (the CLI's default).
//
// Tokens are the encoder output after the final norm (forward_encoder with no masking), cls token
// dropped: (B, L, D), patch n = row * G + col.
import fs from "node:fs";
import { decoderMayBeMissing, loadCheckpoint, loadParams, resolveCheckpointPath } from "../models/checkpoint.js";
import { type ArchName, modelConfig, type VitArch } from "../models/config.js";
import { encoderCpu } from "../models/mim_cpu.js";
import { encoderHash, initParams, type ParamStore } from "../models/params.js";
import { gpuEncoder } from "./gpu_encoder.js";
import { gpuTrainableEncoder } from "./gpu_finetune.js";
import type { FrozenEncoder } from "./pipeline.js";

/** Where the frozen encoder runs: the GPU engine (src/probe/gpu_encoder.ts) or the CPU reference. */
export type EncoderDevice = "gpu" | "cpu";

/** How the probe will use the encoder: frozen features, or fine-tuning (GPU only). */
export type EncoderUse = "frozen" | "finetune";

/** The encoder over a parameter store on a device (same name, same features within float32 rounding). */
export function encoderOn(device: EncoderDevice, params: ParamStore, label: string, use: EncoderUse = "frozen"): FrozenEncoder {
  if (use === "finetune") {
    if (device !== "gpu") throw new Error("fine-tuning runs on the GPU engine (--device gpu); the CPU reference has no backward");
    return gpuTrainableEncoder(params, label);
  }
  return device === "gpu" ? gpuEncoder(params, label) : referenceEncoder(params, label);
}

/** The CPU reference encoder over a parameter store. */
export function referenceEncoder(params: ParamStore, label: string): FrozenEncoder {
  const c = params.config;
  const L = (c.imgSize / c.patchSize) ** 2;
  const D = c.width;
  return {
    name: `${label}@${encoderHash(params)}`,
    embedDim: D,
    patchSize: c.patchSize,
    imageHeight: c.imgSize,
    imageWidth: c.imgSize,
    async encode(images: Float32Array, B: number): Promise<Float32Array> {
      const { latent, tokens } = encoderCpu((n) => params.get(n), c, images, B, null); // (B, 1 + L, D)
      if (tokens !== 1 + L) throw new Error(`encoder returned ${tokens} tokens per image, expected 1 + ${L}`);
      const out = new Float32Array(B * L * D); // (B, L, D)
      for (let b = 0; b < B; b++) out.set(latent.subarray((b * (1 + L) + 1) * D, (b + 1) * (1 + L) * D), b * L * D);
      return out;
    },
  };
}

/** A randomly initialised encoder (MAE's init, seeded): the baseline a pretrained encoder must beat. */
export function randomEncoder(
  arch: ArchName | VitArch,
  seed = 0,
  device: EncoderDevice = "cpu",
  use: EncoderUse = "frozen",
): FrozenEncoder {
  const cfg = modelConfig(arch, "mae");
  return encoderOn(device, initParams(cfg, seed), `random:${cfg.name}:seed${seed}`, use);
}

/**
 * The position prior: every image's tokens are the model's fixed 2D sin-cos position embedding
 * (MAE's, the one every encoder of the preset adds to its patches), whatever the pixels. A head on
 * it can only learn a per-position answer (floor at the bottom, far wall in the middle): the
 * reference that tells how much of a probe score is the dataset's layout rather than the encoder's
 * reading of the image. It cannot be fine-tuned.
 */
export function positionEncoder(arch: ArchName | VitArch): FrozenEncoder {
  const cfg = modelConfig(arch, "mae");
  const pos = initParams(cfg, 0).get("pos_embed"); // (1 + L, D), row 0 = cls
  const L = (cfg.imgSize / cfg.patchSize) ** 2;
  const D = cfg.width;
  return {
    name: `position:${cfg.name}`,
    embedDim: D,
    patchSize: cfg.patchSize,
    imageHeight: cfg.imgSize,
    imageWidth: cfg.imgSize,
    async encode(images: Float32Array, B: number): Promise<Float32Array> {
      if (images.length !== B * 3 * cfg.imgSize * cfg.imgSize)
        throw new Error(`position encoder: ${images.length} floats for ${B} images of (3, ${cfg.imgSize}, ${cfg.imgSize})`);
      const out = new Float32Array(B * L * D);
      for (let b = 0; b < B; b++) out.set(pos.subarray(D, (1 + L) * D), b * L * D);
      return out;
    },
  };
}

/**
 * An encoder from a checkpoint: a mimic-kit checkpoint (<name>.json sidecar, the .safetensors
 * beside one, or a run's latest.json / run folder), or a bare safetensors file (e.g. converted from PyTorch) with `arch` saying its
 * shape; only the encoder tensors are needed then.
 */
export async function checkpointEncoder(
  file: string,
  arch?: ArchName | VitArch,
  device: EncoderDevice = "cpu",
  use: EncoderUse = "frozen",
): Promise<FrozenEncoder> {
  if (!fs.existsSync(file)) throw new Error(`checkpoint ${file} does not exist; pass a .json/.safetensors checkpoint or "random"`);
  file = resolveCheckpointPath(file);
  const sidecar = file.endsWith(".json") ? file : file.replace(/(\.optim)?\.safetensors$/, ".json");
  if (fs.existsSync(sidecar)) {
    const ck = await loadCheckpoint(sidecar);
    return encoderOn(device, ck.params, `${file}:step${ck.sidecar.step}`, use);
  }
  if (!arch) throw new Error(`${file} has no ${sidecar} sidecar; say the model preset (e.g. --model tiny) to load a bare safetensors file`);
  const cfg = modelConfig(arch, "mae");
  const params = await loadParams(file, cfg, { allowMissing: decoderMayBeMissing, ignoreUnexpected: true }, initParams(cfg, 0));
  return encoderOn(device, params, file, use);
}
