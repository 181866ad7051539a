// CPU twin of shaders/geometry/ransac_homography.wgsl. RANSAC also runs it (backend "cpu"), so it
// lives in src/geometry/ransac_cpu.ts; re-exported here under its twin name.
export * from "../../geometry/ransac_cpu.js";
export { ransacHypothesesCpu as ransacHypothesesRef } from "../../geometry/ransac_cpu.js";
