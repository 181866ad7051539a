// The probe's frozen encoder on the GPU: the training engine's encoder (src/models/mim_gpu.ts
// GpuEncoder, unmasked: K = L) over a parameter store uploaded once. Same contract and output as
// the CPU reference (src/probe/encoders.ts referenceEncoder): images (B, 3, S, S) ImageNet-normalised
// -> patch tokens (B, L, D) after the final norm, cls token dropped, patch n = row * G + col.
//
// Per batch size B the encoder's activations, a staging buffer and the recorded calls are built
// once (first call at that B) and reused: a call uploads the images, submits one command encoder
// (forward + a copy of the latent (B, 1 + L, D) into the staging buffer), maps it once and drops
// the cls rows on the host.
//
// Name (the probe's feature-cache key): `${label}@${encoderHash(params)}`, the same as the CPU
// reference's. The GPU features agree with the reference within float32 rounding (test/probe/
// gpu_encoder.test.ts bounds the difference), so a cache written on one device is valid on the other.

import { type Gpu, getGpu } from "../gpu/device.js";
import { numPatches } from "../models/config.js";
import { GpuEncoder, mimGpuParams } from "../models/mim_gpu.js";
import { encoderHash, type ParamStore } from "../models/params.js";
import { type Call, encodeCalls, writeTensor } from "../nn/core.js";
import type { GpuParams } from "../nn/params.js";
import type { FrozenEncoder } from "./pipeline.js";

interface EncoderPlan {
  enc: GpuEncoder;
  calls: Call[];
  staging: GPUBuffer; // (B, 1 + L, D) f32, MAP_READ
  bytes: number;
}

/** A FrozenEncoder on the GPU over a parameter store (src/models/params.ts); the GPU is acquired on first use. */
export function gpuEncoder(params: ParamStore, label: string, gpuIn?: Gpu): FrozenEncoder {
  const c = params.config;
  const L = numPatches(c);
  const D = c.width;
  const S = c.imgSize;
  let state: { gpu: Gpu; ps: GpuParams } | null = null;
  const plans = new Map<number, EncoderPlan>();

  async function setup(): Promise<{ gpu: Gpu; ps: GpuParams }> {
    if (state) return state;
    const gpu = gpuIn ?? (await getGpu());
    const ps = mimGpuParams(c);
    ps.allocate(gpu, `probe ${c.name} params`);
    ps.setAll(gpu, params.data);
    state = { gpu, ps };
    return state;
  }

  function plan(gpu: Gpu, ps: GpuParams, B: number): EncoderPlan {
    let p = plans.get(B);
    if (!p) {
      const enc = new GpuEncoder(gpu, ps, c, B, L, `probe enc B${B}`);
      const bytes = B * (1 + L) * D * 4;
      const staging = gpu.device.createBuffer({
        label: `probe enc B${B} staging`,
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      p = { enc, calls: enc.forward(), staging, bytes };
      plans.set(B, p);
    }
    return p;
  }

  return {
    name: `${label}@${encoderHash(params)}`,
    embedDim: D,
    patchSize: c.patchSize,
    imageHeight: S,
    imageWidth: S,
    async encode(images: Float32Array, B: number): Promise<Float32Array> {
      if (!(Number.isInteger(B) && B >= 1) || images.length !== B * 3 * S * S)
        throw new Error(`gpu encoder: ${images.length} floats for ${B} images of (3, ${S}, ${S})`);
      const { gpu, ps } = await setup();
      const p = plan(gpu, ps, B);
      writeTensor(gpu, p.enc.imgs, images);
      const cmd = gpu.device.createCommandEncoder({ label: "probe encode" });
      encodeCalls(cmd, p.calls, "probe encoder");
      cmd.copyBufferToBuffer(p.enc.latent.buf, p.enc.latent.off * 4, p.staging, 0, p.bytes);
      gpu.device.queue.submit([cmd.finish()]);
      await p.staging.mapAsync(GPUMapMode.READ);
      const latent = new Float32Array(p.staging.getMappedRange()); // (B, 1 + L, D)
      const out = new Float32Array(B * L * D); // (B, L, D)
      for (let b = 0; b < B; b++) out.set(latent.subarray((b * (1 + L) + 1) * D, (b + 1) * (1 + L) * D), b * L * D);
      p.staging.unmap();
      return out;
    },
  };
}
