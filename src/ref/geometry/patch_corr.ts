// CPU twin of shaders/geometry/patch_corr.wgsl. Mining also runs it (backend "cpu"), so it lives in
// src/geometry/patch_corr_cpu.ts; re-exported here under its twin name.
export * from "../../geometry/patch_corr_cpu.js";
export { patchCorrCpu as patchCorrRef } from "../../geometry/patch_corr_cpu.js";
