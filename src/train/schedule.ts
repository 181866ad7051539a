// Learning-rate schedule as MAE / MIMIC (util/lr_sched.py adjust_learning_rate): linear warmup from
// 0, then half-cycle cosine down to minLr. MAE evaluates it at fractional epochs (iteration /
// iterations-per-epoch + epoch); here it is in optimizer steps, which is the same curve.

export interface LrSchedule {
  /** Peak (absolute) learning rate, e.g. absoluteLr(blr, effectiveBatch). */
  lr: number;
  /** Floor of the cosine (MAE default 0). */
  minLr: number;
  /** Steps of linear warmup (MIMIC: warmup_epochs * steps per epoch). */
  warmupSteps: number;
  /** Total optimizer steps of the run. */
  totalSteps: number;
}

/** MAE's lr scaling rule: absolute lr = blr * effective batch / 256 (effective = batch * accum). */
export function absoluteLr(blr: number, effectiveBatch: number): number {
  return (blr * effectiveBatch) / 256;
}

/** The learning rate at optimizer step `step` (0-based; may be fractional). */
export function lrAt(step: number, s: LrSchedule): number {
  if (!(s.totalSteps > 0)) throw new Error(`lr schedule: totalSteps must be > 0 (got ${s.totalSteps})`);
  if (step < s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  const span = s.totalSteps - s.warmupSteps;
  if (span <= 0) return s.lr;
  const t = Math.min(1, (step - s.warmupSteps) / span);
  return s.minLr + (s.lr - s.minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
}
