// CPU twin of the MIM models (the oracle for the GPU model in src/models/mim_gpu.ts). The probe and
// `mimic reconstruct` run the same code, so it lives in src/models/mim_cpu.ts; re-exported here
// under its twin names.
export {
  attentionCpu as attentionRef,
  type CpuMimDims as RefMimDims,
  crocoBlockCpu as crocoBlockRef,
  crocoDecoderCpu as crocoDecoderRef,
  encoderCpu as encoderRef,
  geluCpu as geluRef,
  layerNormCpu as layerNormRef,
  linearCpu as linearRef,
  type MimForwardCpu as MimForwardRef,
  maeDecoderCpu as maeDecoderRef,
  mimForwardCpu as mimForwardRef,
  type ParamGetter,
  patchEmbedCpu as patchEmbedRef,
  patchifyCpu as patchifyRef,
  unpatchifyCpu as unpatchifyRef,
  vitBlockCpu as vitBlockRef,
} from "../../models/mim_cpu.js";
export { erf } from "../../nn/cpu.js";
