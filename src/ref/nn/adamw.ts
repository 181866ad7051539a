// CPU twin of shaders/nn/adamw.wgsl + src/nn/optim.ts: AdamW (PyTorch semantics), global
// gradient-norm clipping, gradient-accumulation scaling. The probe's CPU head trainer runs the same
// step, so it lives in src/nn/adamw_cpu.ts; the config, presets and host LR schedule in
// src/nn/optim_config.ts.
export { adamwStep } from "../../nn/adamw_cpu.js";
