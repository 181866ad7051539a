// AdamW on the CPU (PyTorch semantics: decoupled weight decay, bias corrections), with global
// gradient-norm clipping and gradient-accumulation scaling, over float32 or float64 arrays; the
// arithmetic is float64 and each parameter is rounded once into its array. The probe's CPU head
// trainer runs it, and it is the CPU twin of shaders/nn/adamw.wgsl + src/nn/optim.ts (re-exported
// by src/ref/nn/adamw.ts). The config, presets and LR schedule: optim_config.ts.
import type { AdamWConfig } from "./optim_config.js";

/**
 * One AdamW step `t` (1-based) in place; `lr` overrides cfg.lr (schedule); gradScale = 1/accum.
 * decay[i]: 1 = decayed, 0 = not decayed, -1 = frozen (skipped). The gradient norm (for clipping)
 * covers every element, frozen ones included (keep their gradients zero).
 */
export function adamwStep(
  param: Float32Array | Float64Array,
  grad: ArrayLike<number>,
  m: Float32Array | Float64Array,
  v: Float32Array | Float64Array,
  decay: ArrayLike<number>,
  cfg: AdamWConfig,
  t: number,
  lr = cfg.lr,
  gradScale = 1,
): { gradNorm: number } {
  let sq = 0;
  for (let i = 0; i < grad.length; i++) sq += (grad[i] * gradScale) ** 2;
  const norm = Math.sqrt(sq);
  const clip = cfg.maxGradNorm > 0 ? Math.min(1, cfg.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - cfg.beta1 ** t;
  const bc2 = 1 - cfg.beta2 ** t;
  for (let i = 0; i < param.length; i++) {
    if (decay[i] < 0) continue; // frozen
    const g = grad[i] * gradScale * clip;
    m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g;
    v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * g * g;
    const decayed = param[i] * (1 - lr * cfg.weightDecay * decay[i]); // in float64: one rounding into param
    param[i] = decayed - (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + cfg.eps);
  }
  return { gradNorm: norm };
}
