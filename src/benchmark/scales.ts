// Named benchmark scales (DataComp-style): the training recipe and the probe suite are fixed per
// scale, so only the dataset varies, and a result at a scale is comparable across machines.
import { type ArchName, archPresets } from "../models/config.js";
import { headPresets } from "../probe/heads.js";

/** One benchmark scale: everything `mimic benchmark` fixes besides the dataset. */
export interface BenchmarkScale {
  /** Encoder/decoder preset (archPresets key) trained with the CroCo objective. */
  model: ArchName;
  /** Optimizer steps; samples seen = steps * batch (pairs), whatever the dataset size. */
  steps: number;
  /** Pairs per optimizer step (no gradient accumulation). */
  batch: number;
  /** Base learning rate; lr = blr * batch / 256 (MAE's rule), cosine decay, default warmup. */
  blr: number;
  /** First seed of init, data order, view swaps and masks (training) and of the probe heads. */
  seed: number;
  /** Seeds per entry: seed, seed + 1, ...; the leaderboard's intervals are over these runs. */
  seeds: number;
  /** Epochs of each probe head over the probe dataset's train split. */
  probeEpochs: number;
  /** Probe head (headPresets key) on the frozen encoder. */
  probeHead: "linear" | "upsample" | "mlp";
}

/**
 * The named scales. Every result records the recipe it ran with and is reused only under the same
 * recipe, so a changed recipe reruns the probes (and the training, when a training field changed).
 */
export const benchmarkScales = {
  /**
   * The standard scale, for a 2-core CPU through lavapipe: 8,000 pairs seen (2000 x 4), about 15
   * minutes per dataset and seed (pretraining ~13 min, depth and seg probes ~1.7 min), the most
   * pretraining that budget holds (docs/evaluation.md section 6: 2000 x 4 beat 1000 x 8, the same
   * pairs seen, on both tasks). Probes: DINOv2's linear protocol (--head upsample: a token's values
   * upsampled bilinearly), a fifth of the pixel-shuffle head's cost on depth.
   */
  nano: { model: "nano", steps: 2000, batch: 4, blr: 0.032, seed: 0, seeds: 3, probeEpochs: 10, probeHead: "upsample" },
  /** ViT-Ti/16 at 224x224: 16,000 pairs seen (1000 x 16); for a real GPU. */
  tiny: { model: "tiny", steps: 1000, batch: 16, blr: 0.032, seed: 0, seeds: 3, probeEpochs: 20, probeHead: "upsample" },
} as const satisfies Record<string, BenchmarkScale>;

export type ScaleName = keyof typeof benchmarkScales;

/** Pairs seen in training at a scale. */
export function samplesSeen(s: BenchmarkScale): number {
  return s.steps * s.batch;
}

/** Problems with a scale (empty when valid); each names the field. */
export function scaleProblems(name: string, s: BenchmarkScale): string[] {
  const p: string[] = [];
  const posInt = (k: keyof BenchmarkScale, min = 1) => {
    const v = s[k] as number;
    if (!Number.isInteger(v) || v < min) p.push(`scale ${name}: ${k} must be an integer >= ${min}, got ${v}`);
  };
  if (!(s.model in archPresets)) p.push(`scale ${name}: model '${s.model}' is not one of ${Object.keys(archPresets).join(", ")}`);
  posInt("steps");
  posInt("batch");
  posInt("seed", 0);
  posInt("seeds");
  posInt("probeEpochs");
  if (!(Number.isFinite(s.blr) && s.blr > 0)) p.push(`scale ${name}: blr must be a positive number, got ${s.blr}`);
  if (!(s.probeHead in headPresets))
    p.push(`scale ${name}: probeHead '${s.probeHead}' is not one of ${Object.keys(headPresets).join(", ")}`);
  return p;
}

/** The scale named `name`, or an Error listing the names. */
export function getScale(name: string): BenchmarkScale {
  if (!Object.hasOwn(benchmarkScales, name))
    throw new Error(`unknown scale '${name}'; use one of ${Object.keys(benchmarkScales).join(", ")}`);
  return benchmarkScales[name as ScaleName];
}
