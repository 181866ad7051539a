// The probe's frozen encoder on the GPU: the training engine's encoder (src/models/mim_gpu.ts
// GpuEncoder, unmasked: K = L) over a parameter store uploaded once. Same contract and output as
// the CPU reference (src/probe/encoders.ts referenceEncoder): images (B, 3, S, S) ImageNet-normalised
// -> patch tokens (B, L, D) after the final norm, cls token dropped, patch n = row * G + col.
//
// It is the fine-tuning encoder (gpu_finetune.ts) used for encode alone: same plans per batch size,
// no backward calls and no optimizer state are ever made.
//
// Name (the probe's feature-cache key): `${label}@${encoderHash(params)}`, the same as the CPU
// reference's. The GPU features agree with the reference within float32 rounding (test/probe/
// gpu_encoder.test.ts bounds the difference), so a cache written on one device is valid on the other.

import type { Gpu } from "../gpu/device.js";
import { encoderHash, type ParamStore } from "../models/params.js";
import { gpuTrainableEncoder } from "./gpu_finetune.js";
import type { FrozenEncoder } from "./pipeline.js";

/** A FrozenEncoder on the GPU over a parameter store (src/models/params.ts); the GPU is acquired on first use. */
export function gpuEncoder(params: ParamStore, label: string, gpuIn?: Gpu): FrozenEncoder {
  const e = gpuTrainableEncoder(params, label, gpuIn);
  return {
    name: `${label}@${encoderHash(params)}`,
    embedDim: e.embedDim,
    patchSize: e.patchSize,
    imageHeight: e.imageHeight,
    imageWidth: e.imageWidth,
    encode: (images, B) => e.encode(images, B),
  };
}
