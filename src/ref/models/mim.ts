// CPU twin of the MIM models (the oracle for the GPU model in src/models/mim_gpu.ts). The probe and
// `mimic reconstruct` run the same code, so it lives in src/models/mim_cpu.ts; re-exported here
// under its twin names. Its blocks are src/nn/cpu_transformer.ts (the twins in src/ref/nn/block.ts)
// at float32.
export {
  type CpuMimDims as RefMimDims,
  crocoDecoderCpu as crocoDecoderRef,
  encoderCpu as encoderRef,
  type MimForwardCpu as MimForwardRef,
  maeDecoderCpu as maeDecoderRef,
  mimForwardCpu as mimForwardRef,
  type ParamGetter,
  patchEmbedCpu as patchEmbedRef,
  patchifyCpu as patchifyRef,
  unpatchifyCpu as unpatchifyRef,
} from "../../models/mim_cpu.js";
