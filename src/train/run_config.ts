// <out>/config.json of a training run: what `mimic train` ran with, derived from the loop's own
// options (TrainOptions) so no field is listed twice; the report reads it through this type.
import type { ModelConfig, Objective } from "../models/config.js";
import { countParams } from "../models/params.js";
import { peakLr, type TrainOptions } from "./loop.js";

export interface TrainRunConfig {
  objective: Objective;
  /** Architecture preset name (e.g. "nano"). */
  model: string;
  steps: number | null;
  epochs: number | null;
  batch: number;
  accum: number;
  blr: number;
  /** Peak learning rate of the schedule (peakLr: blr * batch * accum / 256). */
  lr: number;
  minLr: number;
  warmupSteps: number | null;
  warmupEpochs: number | null;
  weightDecay: number;
  maskRatio: number;
  normPixLoss: boolean;
  seed: number;
  /** Dataset folder (absolute). */
  data: string;
  init: string | null;
  resumedFrom: string | null;
  /** Parameter count (no padding). */
  params: number;
  adapter: string;
  modelConfig: ModelConfig;
}

/** The run config of training with `o` (its model preset, AdamW's weight decay and the adapter added). */
export function trainRunConfig(o: TrainOptions, run: { model: string; weightDecay: number; adapter: string }): TrainRunConfig {
  return {
    objective: o.config.objective,
    model: run.model,
    steps: o.steps ?? null,
    epochs: o.epochs ?? null,
    batch: o.batch,
    accum: o.accum,
    blr: o.blr,
    lr: peakLr(o),
    minLr: o.minLr ?? 0,
    warmupSteps: o.warmupSteps ?? null,
    warmupEpochs: o.warmupEpochs ?? null,
    weightDecay: run.weightDecay,
    maskRatio: o.config.maskRatio,
    normPixLoss: o.config.normPixLoss,
    seed: o.seed,
    data: o.data,
    init: o.init ?? null,
    resumedFrom: o.resume ?? null,
    params: countParams(o.config),
    adapter: run.adapter,
    modelConfig: o.config,
  };
}
