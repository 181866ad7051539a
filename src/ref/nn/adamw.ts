// CPU twin of shaders/nn/adamw.wgsl + src/nn/optim.ts: AdamW (PyTorch semantics), global
// gradient-norm clipping, gradient-accumulation scaling. The config, presets and the host LR
// schedule live in src/nn/optim_config.ts.
import type { AdamWConfig } from "../../nn/optim_config.js";

/**
 * One AdamW step `t` (1-based) in place; `lr` overrides cfg.lr (schedule); gradScale = 1/accum.
 * decay[i]: 1 = decayed, 0 = not decayed, -1 = frozen (skipped). The gradient norm (for clipping)
 * covers every element, frozen ones included (keep their gradients zero).
 */
export function adamwStep(
  param: Float64Array,
  grad: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
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
    param[i] *= 1 - lr * cfg.weightDecay * decay[i];
    param[i] -= (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + cfg.eps);
  }
  return { gradNorm: norm };
}
