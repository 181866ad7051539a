// AdamW hyperparameters with named presets, and the host learning-rate schedule (linear warmup,
// half-cycle cosine). Shared by the GPU optimiser (optim.ts), the training loop and the CPU step
// (adamw_cpu.ts).

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
  /** Probe heads (src/probe): PyTorch's betas, light weight decay on weights only; the probe's
   *  cosine schedule sets lr every step (1e-2 is its linear preset's peak). */
  probe: { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, maxGradNorm: 0 },
} satisfies Record<string, AdamWConfig>;

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
