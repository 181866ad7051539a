// CPU twin of shaders/nn/adamw.wgsl + src/nn/optim.ts: AdamW (PyTorch semantics), global
// gradient-norm clipping, gradient-accumulation scaling; and the host LR schedule.

export interface AdamWConfig {
  /** Peak learning rate (MAE: blr * batch / 256, see `maeLr`). */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this (0 = no clipping). */
  maxGradNorm: number;
}

export const adamwPresets = {
  /** MAE pretraining: betas (0.9, 0.95), weight decay 0.05, no clipping. */
  mae: { lr: 1.5e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.05, maxGradNorm: 0 },
  /** PyTorch's AdamW defaults. */
  torch: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 0 },
} satisfies Record<string, AdamWConfig>;

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

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Final learning rate of the cosine. */
  minLr: number;
  /** Linear warmup steps (from 0 to lr). */
  warmupSteps: number;
  /** Total steps (cosine from warmupSteps to totalSteps). */
  totalSteps: number;
}

/** MAE's rule: absolute lr = base lr * effective batch / 256. */
export const maeLr = (blr: number, effectiveBatch: number): number => (blr * effectiveBatch) / 256;

/** Linear warmup then half-cycle cosine to minLr (MAE's util/lr_sched.py, per step). */
export function lrAt(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const p = Math.min(1, (step - s.warmupSteps) / span);
  return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
}
