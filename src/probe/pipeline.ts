// The probe loop: frozen encoder -> features computed once per image (cached) -> head trained on
// the train split -> metrics over the whole val split -> metrics.json and a picture of predictions.
//
// The encoder and the head trainer are interfaces: `mimic probe` plugs in the ViT encoder (a
// checkpoint, or a random initialisation for the baseline) and the GPU head trainer of the
// training engine; CpuHeadTrainer (the reference math) serves tests and tiny runs.
//
// Resolution: images are resized to the encoder's input size (bilinear), targets to the same size
// (nearest), and metrics are computed at that size (NYU's Eigen crop is scaled to it).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { resizeBilinearCpu } from "../image/cpu.js";
import { lrAt } from "../nn/optim_config.js";
import { Pcg32 } from "../prng.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../train/data.js";
import { CpuHeadTrainer, type HeadTrainer, type ProbeTargets } from "./cpu_trainer.js";
import { type LoadedSample, loadSample, type ProbeDataset, type ProbeSample, type ProbeTask } from "./datasets.js";
import { type HeadConfig, type HeadPresetName, makeHeadConfig } from "./heads.js";
import {
  argmaxClasses,
  DepthAccumulator,
  type DepthEvalConfig,
  type DepthMetrics,
  depthEvalPresets,
  type ImageStats,
  SegAccumulator,
  type SegMetrics,
} from "./metrics.js";
import { type BootstrapInfo, DEFAULT_RESAMPLES, describeBootstrap, metricIntervals } from "./stats.js";
import { writePredictionGrid } from "./visualize.js";

/** A frozen encoder as the probe sees it. */
export interface FrozenEncoder {
  /** what it is: a checkpoint path, "random", ... (recorded in metrics.json and the cache key) */
  name: string;
  /** token width D */
  embedDim: number;
  /** patch size p */
  patchSize: number;
  /** input size in pixels */
  imageHeight: number;
  imageWidth: number;
  /** images (B, 3, H, W) ImageNet-normalised -> patch tokens (B, L, D), L = (H/p)(W/p), no cls token */
  encode(images: Float32Array, B: number): Promise<Float32Array>;
}

/** (B, 3, H, W) ImageNet-normalised floats from loaded samples (all at H x W). */
export function toEncoderInput(samples: LoadedSample[], H: number, W: number): Float32Array {
  const n = H * W;
  const out = new Float32Array(samples.length * 3 * n);
  samples.forEach((s, b) => {
    if (s.height !== H || s.width !== W) throw new Error(`sample ${s.id} is ${s.width}x${s.height}, the encoder takes ${W}x${H}`);
    for (let c = 0; c < 3; c++) {
      const m = IMAGENET_MEAN[c];
      const sd = IMAGENET_STD[c];
      const o = (b * 3 + c) * n;
      for (let i = 0; i < n; i++) out[o + i] = (s.rgb[3 * i + c] / 255 - m) / sd;
    }
  });
  return out;
}

/** Per-image target of a loaded sample: depth in metres, or classes 0..K-1 with 255 = ignore. */
export function sampleTarget(s: LoadedSample): Float32Array | Uint8Array {
  if (s.depth) return s.depth;
  if (!s.labels) throw new Error(`sample ${s.id} has neither depth nor labels`);
  const c = new Uint8Array(s.labels.length);
  for (let i = 0; i < c.length; i++) c[i] = s.labels[i] === 0 ? 255 : s.labels[i] - 1;
  return c;
}

/** Stack per-image targets into a batch. */
export function batchTargets(task: "depth" | "seg", targets: (Float32Array | Uint8Array)[]): ProbeTargets {
  const n = targets[0].length;
  if (task === "depth") {
    const depth = new Float32Array(targets.length * n);
    for (let b = 0; b < targets.length; b++) depth.set(targets[b], b * n);
    return { kind: "depth", depth };
  }
  const classes = new Uint8Array(targets.length * n);
  for (let b = 0; b < targets.length; b++) classes.set(targets[b], b * n);
  return { kind: "seg", classes };
}

/** A stable short hash of anything JSON-able (cache keys). */
export function cacheKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

/**
 * Features per image, in memory and (with a folder) on disk as raw little-endian float32 at
 * <dir>/<key>/<sha of sample id>.f32, so a second probe run with the same encoder, input size and
 * data skips the encoder. The key must change whenever the encoder weights do (hash the checkpoint).
 */
export class FeatureCache {
  private readonly mem = new Map<string, Float32Array>();
  readonly folder: string | null;
  hits = 0;
  misses = 0;

  constructor(
    dir: string | null,
    readonly key: string,
    readonly floatsPerImage: number,
  ) {
    this.folder = dir ? path.join(dir, key) : null;
    if (this.folder) fs.mkdirSync(this.folder, { recursive: true });
  }

  private file(id: string): string {
    return path.join(this.folder!, `${createHash("sha1").update(id).digest("hex")}.f32`);
  }

  get(id: string): Float32Array | null {
    const m = this.mem.get(id);
    if (m) {
      this.hits++;
      return m;
    }
    if (this.folder) {
      const f = this.file(id);
      if (fs.existsSync(f)) {
        const buf = fs.readFileSync(f);
        if (buf.byteLength === this.floatsPerImage * 4) {
          const v = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
          this.mem.set(id, v);
          this.hits++;
          return v;
        }
      }
    }
    this.misses++;
    return null;
  }

  put(id: string, features: Float32Array): void {
    if (features.length !== this.floatsPerImage)
      throw new Error(`feature cache: ${features.length} floats for ${id}, expected ${this.floatsPerImage} (L * D)`);
    this.mem.set(id, features);
    if (this.folder) fs.writeFileSync(this.file(id), new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
  }
}

/**
 * How frozen features are normalised before the head, the same way for every encoder:
 *   "standardize": per channel, (x - mean) / sqrt(var + 1e-6) with mean and var over every token of
 *     the train split (applied unchanged to val). For a frozen encoder this is exactly MAE's linear
 *     probe, which puts BatchNorm1d(D, affine=False, eps=1e-6) in front of the linear head: it makes
 *     the probe invariant to per-channel scale and shift, so an encoder is not scored on how
 *     well-conditioned its feature scales happen to be for AdamW.
 *   "none": the raw tokens.
 */
export type FeatureNorm = "standardize" | "none";

/** Per-channel mean and 1 / sqrt(var + eps) of tokens (N, D), float64 accumulation. */
export function featureStats(
  chunks: Iterable<Float32Array>,
  D: number,
  eps = 1e-6,
): { mean: Float32Array; invStd: Float32Array; tokens: number } {
  const sum = new Float64Array(D);
  const sq = new Float64Array(D);
  let n = 0;
  for (const x of chunks) {
    if (x.length % D) throw new Error(`feature stats: ${x.length} floats is not a whole number of ${D}-wide tokens`);
    for (let t = 0; t < x.length; t += D)
      for (let d = 0; d < D; d++) {
        const v = x[t + d];
        sum[d] += v;
        sq[d] += v * v;
      }
    n += x.length / D;
  }
  if (n === 0) throw new Error("feature stats: no tokens (empty train split)");
  const mean = new Float32Array(D);
  const invStd = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    const m = sum[d] / n;
    mean[d] = m;
    invStd[d] = 1 / Math.sqrt(Math.max(0, sq[d] / n - m * m) + eps);
  }
  return { mean, invStd, tokens: n };
}

/** In place: x (N, D) <- (x - mean) * invStd per channel. */
export function applyFeatureStats(x: Float32Array, s: { mean: Float32Array; invStd: Float32Array }): Float32Array {
  const D = s.mean.length;
  for (let t = 0; t < x.length; t += D) for (let d = 0; d < D; d++) x[t + d] = (x[t + d] - s.mean[d]) * s.invStd[d];
  return x;
}

/**
 * How the encoder takes part:
 *   "frozen": features computed once per image (cached), only the head trains: what the features
 *     hold as they are (MAE's linear probe).
 *   "finetune": the whole encoder trains with the head (src/probe/gpu_finetune.ts), the transfer
 *     protocol MIMIC, CroCo and MAE report: what the weights are worth as a starting point.
 */
export type ProbeMode = "frozen" | "finetune";

export interface ProbeTrainConfig {
  head: HeadPresetName;
  epochs: number;
  batchSize: number;
  /** peak learning rate of the head (AdamW), cosine-decayed to 0 over the run */
  lr: number;
  seed: number;
  /** rows in the predictions picture */
  pictures: number;
  /** fraction held out as val when the dataset has no val split (deterministic: every k-th sample) */
  valFraction: number;
  /** feature normalisation before the head (FeatureNorm), identical for every encoder; frozen mode only */
  featureNorm: FeatureNorm;
  /** frozen features or a fine-tuned encoder (ProbeMode) */
  mode: ProbeMode;
  /** finetune: peak learning rate of the encoder (same warmup and cosine as the head's) */
  encoderLr: number;
  /** linear warmup of both learning rates, as a fraction of the steps (frozen presets: 0) */
  warmup: number;
  /** segmentation loss weights per class: "none" (every pixel counts 1) or "balanced" (median
   *  frequency balancing over the train split, balancedClassWeights); depth ignores it */
  classWeights: ClassWeights;
}

export type ClassWeights = "none" | "balanced";

/**
 * Median frequency balancing (Eigen & Fergus, ICCV 2015): w_c = median(f) / f_c, f_c = the share of
 * class c among the labelled pixels of `targets` (classes 0..C-1; ignoreIndex not counted), the
 * median over the classes that occur; a class that never occurs gets 0. Rare classes weigh more, so
 * a head cannot reach a low loss by predicting only the large classes.
 */
export function balancedClassWeights(targets: Iterable<ArrayLike<number>>, C: number, ignoreIndex = 255): Float64Array {
  const count = new Float64Array(C);
  for (const t of targets)
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (c !== ignoreIndex && c >= 0 && c < C) count[c]++;
    }
  const total = count.reduce((a, b) => a + b, 0);
  const w = new Float64Array(C);
  if (total === 0) return w;
  const present = [...count].filter((n) => n > 0).sort((a, b) => a - b);
  const m = present.length;
  const median = (m % 2 ? present[(m - 1) / 2] : (present[m / 2 - 1] + present[m / 2]) / 2) / total;
  for (let c = 0; c < C; c++) if (count[c] > 0) w[c] = median / (count[c] / total);
  return w;
}

/** What every frozen preset shares: standardised features, no encoder training, no warmup. */
const frozen = {
  seed: 0,
  valFraction: 0.2,
  featureNorm: "standardize",
  mode: "frozen",
  encoderLr: 0,
  warmup: 0,
  classWeights: "none",
} as const;

export const probePresets = {
  /** a smoke run: a few epochs of the linear probe */
  quick: { ...frozen, head: "linear", epochs: 3, batchSize: 8, lr: 1e-2, pictures: 4 },
  /**
   * The linear probe as reported. On standardised features lr 1e-2 fits the head in 20 epochs; at
   * 1e-3 (or 5 epochs) the head is far from fitted and the ranking of encoders follows how fast each
   * one's head trains rather than what its features hold (demo synth set, nano: random-init seg train
   * CE 1.11 at 20 epochs lr 3e-3, 0.70 at lr 1e-2, 0.67 at 50 epochs).
   */
  linear: { ...frozen, head: "linear", epochs: 20, batchSize: 16, lr: 1e-2, pictures: 6 },
  /** the MLP head */
  mlp: { ...frozen, head: "mlp", epochs: 20, batchSize: 16, lr: 5e-4, pictures: 6 },
  /** fine-tuning: the encoder and a linear head train together (docs/evaluation.md has the measurements) */
  finetune: {
    ...frozen,
    head: "linear",
    epochs: 10,
    batchSize: 16,
    lr: 1e-2,
    pictures: 6,
    featureNorm: "none",
    mode: "finetune",
    encoderLr: 2e-4,
    warmup: 0.1,
  },
} as const satisfies Record<string, ProbeTrainConfig>;

export interface ProbeResult {
  task: "depth" | "seg";
  encoder: string;
  dataset: { format: string; root: string; train: number; val: number; notes: string[] };
  head: HeadConfig;
  train: ProbeTrainConfig & { losses: number[]; steps: number };
  metrics: DepthMetrics | SegMetrics;
  /** 95% interval of every scalar metric: a seeded percentile bootstrap over the val images */
  intervals: { description: string; info: BootstrapInfo; ci: Record<string, [number, number]> };
  /** per val image sufficient statistics (compareProbeRuns pairs two runs on them) */
  imageStats: ImageStats;
  evalResolution: "native" | "input";
  classNames: string[] | null;
  featureCache: { hits: number; misses: number };
  seconds: number;
  files: { metrics: string | null; pictures: string | null };
}

/** An encoder the probe can fine-tune: forward with activations kept, then backward + an optimizer step. */
export interface TrainableEncoder extends FrozenEncoder {
  /** Tokens (B, L, D) of a training batch; the activations stay for backwardStep. */
  forwardTrain(images: Float32Array, B: number): Promise<Float32Array>;
  /** Backpropagate dL/dtokens (B, L, D) of the last forwardTrain and take one optimizer step at lr. */
  backwardStep(dTokens: Float32Array, lr: number): Promise<void>;
}

export function isTrainable(e: FrozenEncoder): e is TrainableEncoder {
  return typeof (e as TrainableEncoder).forwardTrain === "function" && typeof (e as TrainableEncoder).backwardStep === "function";
}

export interface RunProbeOptions {
  dataset: ProbeDataset;
  /** frozen mode: any encoder; finetune mode: a TrainableEncoder */
  encoder: FrozenEncoder;
  config?: Partial<ProbeTrainConfig>;
  /** makes the head trainer (default: CpuHeadTrainer; finetune needs its stepWithInputGrad) */
  trainer?: (head: HeadConfig, seed: number, outputBias: number) => HeadTrainer;
  /** depth scoring (default: the dataset's: nyu for NYU, synth otherwise) */
  depthEval?: Partial<DepthEvalConfig>;
  /** "native": predictions are upsampled (bilinear; seg: the logits, then argmax, as mmseg does) to
   * each val image's stored size and scored against its full-resolution target (the way NYU and
   * ADE20K numbers are reported); "input": scored at the encoder's input size. Default native. */
  evalResolution?: "native" | "input";
  /** output folder for metrics.json and predictions.png (null: write nothing) */
  out?: string | null;
  /** bootstrap resamples for the intervals (default DEFAULT_RESAMPLES); their seed is config.seed */
  resamples?: number;
  /** feature cache folder (null: memory only; frozen mode only) */
  cacheDir?: string | null;
  /** called as work advances: stage "features" | "train" | "eval" */
  onProgress?: (stage: string, done: number, total: number, info?: Record<string, number>) => void;
}

/** Train and val lists: the dataset's, or a deterministic hold-out of "all". */
export function trainValSplit(ds: ProbeDataset, valFraction: number): { train: ProbeSample[]; val: ProbeSample[]; note: string | null } {
  if (ds.splits.train && ds.splits.val) return { train: ds.splits.train, val: ds.splits.val, note: null };
  const all = ds.splits.all ?? ds.splits.train ?? ds.splits.val;
  if (!all || all.length < 2) throw new Error(`${ds.root}: need at least 2 samples to train and evaluate a probe`);
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`valFraction must be in (0, 1), got ${valFraction}`);
  const k = Math.max(2, Math.round(1 / valFraction));
  const val = all.filter((_, i) => i % k === k - 1);
  const train = all.filter((_, i) => i % k !== k - 1);
  return { train, val, note: `no train/val split in ${ds.root}: every ${k}th sample (sorted by name) held out as val` };
}

// ---------------------------------------------------------------------------------------------
// The stages of a probe run: prepare (split, head, decoded samples and targets) -> tokens of a batch
// (frozen: cached features; finetune: the training encoder) -> train the head -> evaluate on val ->
// write. runProbe strings them together.

/** Everything the stages share: set once by prepareProbe, read-only afterwards. */
interface ProbeRun {
  cfg: ProbeTrainConfig;
  ds: ProbeDataset;
  enc: FrozenEncoder;
  task: ProbeTask;
  train: ProbeSample[];
  val: ProbeSample[];
  note: string | null;
  head: HeadConfig;
  H: number;
  W: number;
  /** tokens per image */
  L: number;
  /** images per step */
  bs: number;
  loadOpts: Parameters<typeof loadSample>[1];
  /** decoded samples at the encoder's input size, by rgbPath */
  loaded: Map<string, LoadedSample>;
  /** per-image targets at the input size, by rgbPath (sampleTarget) */
  target: Map<string, Float32Array | Uint8Array>;
  /** segmentation loss weights per class (cfg.classWeights "balanced"), or null */
  classWeights: Float64Array | null;
  progress: NonNullable<RunProbeOptions["onProgress"]>;
}

function checkConfig(cfg: ProbeTrainConfig, enc: FrozenEncoder): void {
  if (cfg.featureNorm !== "standardize" && cfg.featureNorm !== "none")
    throw new Error(`featureNorm must be "standardize" or "none", got '${cfg.featureNorm}'`);
  if (cfg.mode !== "frozen" && cfg.mode !== "finetune") throw new Error(`mode must be "frozen" or "finetune", got '${cfg.mode}'`);
  if (!(cfg.warmup >= 0 && cfg.warmup < 1)) throw new Error(`warmup must be a fraction in [0, 1), got ${cfg.warmup}`);
  if (cfg.classWeights !== "none" && cfg.classWeights !== "balanced")
    throw new Error(`classWeights must be "none" or "balanced", got '${cfg.classWeights}'`);
  if (cfg.mode === "finetune") {
    if (!isTrainable(enc)) throw new Error(`encoder ${enc.name} cannot be fine-tuned (it has no backward); use the GPU encoder`);
    if (cfg.featureNorm !== "none") throw new Error("fine-tuning trains on the encoder's own tokens: set featureNorm to none");
    if (!(cfg.encoderLr >= 0)) throw new Error(`encoderLr must be >= 0, got ${cfg.encoderLr}`);
  }
}

/** Stage 1: split, head config, every sample decoded once at the encoder's input size, targets. */
async function prepareProbe(opts: RunProbeOptions): Promise<ProbeRun> {
  const { dataset: ds, encoder: enc } = opts;
  const cfg: ProbeTrainConfig = { ...probePresets.linear, ...opts.config };
  checkConfig(cfg, enc);
  const { train, val, note } = trainValSplit(ds, cfg.valFraction);
  const head = makeHeadConfig(cfg.head, enc, ds.task, ds.numClasses);
  const H = enc.imageHeight;
  const W = enc.imageWidth;
  const loadOpts = { size: { height: H, width: W }, crop: null, depthScale: ds.depthScale, numClasses: ds.numClasses };
  const bs = Math.max(1, cfg.batchSize);
  const loaded = new Map<string, LoadedSample>();
  const all = [...train, ...val];
  for (let i = 0; i < all.length; i += bs) {
    const chunk = all.slice(i, i + bs);
    const samples = await Promise.all(chunk.map((s) => loadSample(s, loadOpts)));
    samples.forEach((s, j) => {
      loaded.set(chunk[j].rgbPath, s);
    });
  }
  const target = new Map(all.map((s) => [s.rgbPath, sampleTarget(loaded.get(s.rgbPath)!)]));
  const classWeights =
    ds.task === "seg" && cfg.classWeights === "balanced"
      ? balancedClassWeights(
          train.map((s) => target.get(s.rgbPath)!),
          head.outChannels,
        )
      : null;
  return {
    cfg,
    ds,
    enc,
    task: ds.task,
    train,
    val,
    note,
    head,
    H,
    W,
    L: head.gridH * head.gridW,
    bs,
    loadOpts,
    loaded,
    target,
    classWeights,
    progress: opts.onProgress ?? (() => {}),
  };
}

/** Encoder tokens (B, L, D) of a batch, checked (count, finiteness: a broken checkpoint fails here, naming an image). */
async function encodeBatch(run: ProbeRun, batch: ProbeSample[], encode: (x: Float32Array, B: number) => Promise<Float32Array>) {
  const { enc, L, H, W } = run;
  const tokens = await encode(
    toEncoderInput(
      batch.map((s) => run.loaded.get(s.rgbPath)!),
      H,
      W,
    ),
    batch.length,
  );
  if (tokens.length !== batch.length * L * enc.embedDim)
    throw new Error(`encoder ${enc.name} returned ${tokens.length} floats for ${batch.length} images; expected (B, ${L}, ${enc.embedDim})`);
  const bad = tokens.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0)
    throw new Error(
      `encoder ${enc.name} gave non-finite features (${tokens[bad]}) for ${batch[Math.floor(bad / (L * enc.embedDim))].rgbPath}; no metric can be computed from them. Fix: check the checkpoint's weights`,
    );
  return tokens;
}

/**
 * Stage 2 (frozen): features once per image (cache), normalised as configured; returns the tokens
 * of any batch and the cache's hit counts.
 */
async function frozenFeatures(
  run: ProbeRun,
  cacheDir: string | null,
): Promise<{ tokens: (batch: ProbeSample[]) => Float32Array; cache: { hits: number; misses: number } }> {
  const { enc, L, H, W, bs, train, val, ds } = run;
  const D = enc.embedDim;
  const cache = new FeatureCache(cacheDir, cacheKey({ encoder: enc.name, H, W, D, p: enc.patchSize, root: ds.root }), L * D);
  const all = [...train, ...val];
  for (let i = 0; i < all.length; i += bs) {
    const chunk = all.slice(i, i + bs);
    const miss = chunk.filter((s) => !cache.get(s.rgbPath));
    if (miss.length) {
      const tokens = await encodeBatch(run, miss, (x, B) => enc.encode(x, B));
      miss.forEach((s, k) => {
        cache.put(s.rgbPath, tokens.slice(k * L * D, (k + 1) * L * D));
      });
    }
    run.progress("features", Math.min(i + bs, all.length), all.length);
  }
  const counts = { hits: cache.hits, misses: cache.misses };
  const raw = (s: ProbeSample) => cache.get(s.rgbPath)!;
  // statistics of the train split only (as a BatchNorm's running stats), applied to train and val alike
  const stats = run.cfg.featureNorm === "standardize" ? featureStats(train.map(raw), D) : null;
  const tokens = (batch: ProbeSample[]): Float32Array => {
    const t = new Float32Array(batch.length * L * D);
    batch.forEach((s, k) => {
      t.set(raw(s), k * L * D);
    });
    return stats ? applyFeatureStats(t, stats) : t;
  };
  return { tokens, cache: counts };
}

/** ln of the train split's median depth (every 7th valid pixel): the depth head's starting output. */
function depthOutputBias(run: ProbeRun): number {
  if (run.task !== "depth") return 0;
  const logs: number[] = [];
  for (const s of run.train) {
    const d = run.target.get(s.rgbPath)!;
    for (let i = 0; i < d.length; i += 7) if (d[i] > 0) logs.push(Math.log(d[i]));
  }
  logs.sort((a, b) => a - b);
  return logs.length ? logs[logs.length >> 1] : 0;
}

/**
 * Stage 3: the training loop. Epochs over the train split in a seeded order (PCG32(seed, 2 epoch + 1)
 * shuffle), batches of bs; the learning rate follows lrAt (warmup, then cosine to 0). `step` trains
 * on one batch at a learning-rate factor (lr / peak) and returns its loss. Returns the mean loss per epoch.
 */
async function trainLoop(
  run: ProbeRun,
  step: (batch: ProbeSample[], targets: ProbeTargets, lrFactor: number) => Promise<number>,
): Promise<{ losses: number[]; steps: number }> {
  const { cfg, train, bs, task } = run;
  const totalSteps = cfg.epochs * Math.ceil(train.length / bs);
  const schedule = { lr: 1, minLr: 0, warmupSteps: Math.round(cfg.warmup * totalSteps), totalSteps };
  const losses: number[] = [];
  let n = 0;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const order = train.map((_, i) => i);
    const rng = new Pcg32(cfg.seed, 2 * epoch + 1);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.nextBelow(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let sum = 0;
    for (let b = 0; b < order.length; b += bs) {
      const batch = order.slice(b, b + bs).map((i) => train[i]);
      const targets = batchTargets(
        task,
        batch.map((s) => run.target.get(s.rgbPath)!),
      );
      if (targets.kind === "seg" && run.classWeights) targets.weights = run.classWeights;
      const loss = await step(batch, targets, lrAt(n, schedule));
      sum += loss * batch.length;
      n++;
      run.progress("train", n, totalSteps, { epoch: epoch + 1, loss });
    }
    losses.push(sum / train.length);
  }
  return { losses, steps: n };
}

type PictureRow = { rgb: Uint8Array; gt: ArrayLike<number>; pred: ArrayLike<number> };

/** Stage 4: score the head's predictions on every val image; the first few become the picture. */
async function evaluate(
  run: ProbeRun,
  predict: (batch: ProbeSample[]) => Promise<Float32Array>,
  opts: Pick<RunProbeOptions, "depthEval" | "evalResolution">,
): Promise<{ metrics: DepthMetrics | SegMetrics; imageStats: ImageStats; rows: PictureRow[]; native: boolean }> {
  const { cfg, ds, task, val, bs, H, W, head, loadOpts } = run;
  const depthCfg: Partial<DepthEvalConfig> = {
    ...(ds.format === "nyu" ? depthEvalPresets.nyu : depthEvalPresets.synth),
    ...(ds.format === "nyu" ? { crop: ds.evalCrop } : {}),
    ...opts.depthEval,
  };
  const depthAcc = task === "depth" ? new DepthAccumulator(depthCfg) : null;
  const segAcc = task === "seg" ? new SegAccumulator({ numClasses: ds.numClasses!, ignoreIndex: 255, reduceZeroLabel: true }) : null;
  const native = (opts.evalResolution ?? "native") === "native";
  const rows: PictureRow[] = [];
  for (let b = 0; b < val.length; b += bs) {
    const batch = val.slice(b, b + bs);
    const out = await predict(batch);
    const n = H * W;
    const C = head.outChannels;
    for (let k = 0; k < batch.length; k++) {
      const s = batch[k];
      const ls = run.loaded.get(s.rgbPath)!;
      // (H, W, C) at input size: depth in metres, or logits
      const o = task === "depth" ? Float32Array.from(out.subarray(k * n, (k + 1) * n), Math.exp) : out.subarray(k * n * C, (k + 1) * n * C);
      const gt = native ? await loadSample(s, { ...loadOpts, size: null }) : ls;
      const up = native ? upsampleChannels(o, H, W, C, gt.height, gt.width) : o;
      const m = gt.height * gt.width;
      if (task === "depth") depthAcc!.add(up, gt.depth!, gt.height, gt.width, s.rgbPath, s.id);
      else segAcc!.add(argmaxClasses(up, m, C), gt.labels!, s.targetPath, s.id);
      if (rows.length < cfg.pictures)
        rows.push({ rgb: ls.rgb, gt: task === "depth" ? ls.depth! : ls.labels!, pred: task === "depth" ? o : argmaxClasses(o, n, C) });
    }
    run.progress("eval", Math.min(b + bs, val.length), val.length);
  }
  return {
    metrics: depthAcc ? depthAcc.result() : segAcc!.result(),
    imageStats: depthAcc ? depthAcc.imageStats() : segAcc!.imageStats(),
    rows,
    native,
  };
}

/** Train a head on a frozen (or, in finetune mode, a fine-tuned) encoder and score it on val. */
export async function runProbe(opts: RunProbeOptions): Promise<ProbeResult> {
  const t0 = performance.now();
  const run = await prepareProbe(opts);
  const { cfg, enc, head } = run;
  const trainer = (opts.trainer ?? ((h, seed, bias) => new CpuHeadTrainer(h, seed, bias)))(head, cfg.seed, depthOutputBias(run));

  let cacheStats = { hits: 0, misses: 0 };
  let trained: { losses: number[]; steps: number };
  let predict: (batch: ProbeSample[]) => Promise<Float32Array>;
  if (cfg.mode === "frozen") {
    const f = await frozenFeatures(run, opts.cacheDir ?? null);
    cacheStats = f.cache;
    trained = await trainLoop(run, (batch, targets, k) => trainer.step(f.tokens(batch), targets, batch.length, k * cfg.lr));
    predict = (batch) => trainer.predict(f.tokens(batch), batch.length);
  } else {
    const te = enc as TrainableEncoder;
    if (!trainer.stepWithInputGrad) throw new Error("fine-tuning needs a head trainer with stepWithInputGrad (CpuHeadTrainer has it)");
    const headStep = trainer.stepWithInputGrad.bind(trainer);
    trained = await trainLoop(run, async (batch, targets, k) => {
      const tokens = await encodeBatch(run, batch, (x, B) => te.forwardTrain(x, B));
      const r = await headStep(tokens, targets, batch.length, k * cfg.lr, true);
      await te.backwardStep(r.dTokens!, k * cfg.encoderLr);
      return r.loss;
    });
    predict = async (batch) => trainer.predict(await encodeBatch(run, batch, (x, B) => te.encode(x, B)), batch.length);
  }
  const { metrics, imageStats, rows, native } = await evaluate(run, predict, opts);
  const iv = metricIntervals(imageStats, { resamples: opts.resamples ?? DEFAULT_RESAMPLES, seed: cfg.seed });
  const result: ProbeResult = {
    task: run.task,
    encoder: enc.name,
    dataset: {
      format: run.ds.format,
      root: run.ds.root,
      train: run.train.length,
      val: run.val.length,
      notes: run.note ? [...run.ds.notes, run.note] : run.ds.notes,
    },
    head,
    train: { ...cfg, ...trained },
    metrics,
    intervals: {
      description: describeBootstrap(iv.info),
      info: iv.info,
      ci: Object.fromEntries(Object.entries(iv.ci).map(([k, v]) => [k, [v.lo, v.hi] as [number, number]])),
    },
    imageStats,
    evalResolution: native ? "native" : "input",
    classNames: run.ds.classNames,
    featureCache: cacheStats,
    seconds: (performance.now() - t0) / 1000,
    files: { metrics: null, pictures: null },
  };
  if (opts.out) {
    fs.mkdirSync(opts.out, { recursive: true });
    if (rows.length) {
      result.files.pictures = path.join(opts.out, "predictions.png");
      await writePredictionGrid(result.files.pictures, rows, {
        kind: run.task,
        height: run.H,
        width: run.W,
        palette: run.ds.classColors ?? undefined,
      });
    }
    result.files.metrics = path.join(opts.out, "metrics.json");
    fs.writeFileSync(result.files.metrics, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

/** Bilinear resize (half-pixel centres) of a channel-last (sh, sw, C) map to (dh, dw, C). */
export function upsampleChannels(x: ArrayLike<number>, sh: number, sw: number, C: number, dh: number, dw: number): Float32Array {
  if (sh === dh && sw === dw) return Float32Array.from(x);
  const planes = new Float32Array(C * sh * sw); // (C, sh, sw)
  for (let i = 0; i < sh * sw; i++) for (let c = 0; c < C; c++) planes[c * sh * sw + i] = x[i * C + c];
  const r = resizeBilinearCpu(planes, C, sh, sw, dh, dw); // (C, dh, dw)
  const out = new Float32Array(dh * dw * C);
  for (let i = 0; i < dh * dw; i++) for (let c = 0; c < C; c++) out[i * C + c] = r[c * dh * dw + i];
  return out;
}

/** One line per metric for the terminal; with intervals, each scalar metric as "value [lo, hi]". */
export function formatMetrics(
  m: DepthMetrics | SegMetrics,
  classNames?: string[] | null,
  intervals?: ProbeResult["intervals"] | null,
): string {
  const f = (x: number, d = 4) => (Number.isNaN(x) ? "n/a" : x.toFixed(d));
  const v = (key: string, x: number) => {
    const ci = intervals?.ci[key];
    return ci ? `${f(x)} [${f(ci[0])}, ${f(ci[1])}]` : f(x);
  };
  const note = intervals ? [`(${intervals.description})`] : [];
  if ("absRel" in m)
    return [
      `AbsRel ${v("absRel", m.absRel)}  SqRel ${v("sqRel", m.sqRel)}  RMSE ${v("rmse", m.rmse)} m`,
      `RMSElog ${v("rmseLog", m.rmseLog)}  log10 ${v("log10", m.log10)}  SILog ${v("siLog", m.siLog)}`,
      `delta1 ${v("delta1", m.delta1)}  delta2 ${v("delta2", m.delta2)}  delta3 ${v("delta3", m.delta3)}  (${m.pixels} pixels, ${m.images} images)`,
      ...note,
    ].join("\n");
  const lines = [
    `mIoU ${v("mIoU", m.mIoU)}  pixel acc ${v("pixelAccuracy", m.pixelAccuracy)}  mean acc ${v("meanAccuracy", m.meanAccuracy)}`,
    `(${m.classesCounted} classes, ${m.pixels} pixels, ${m.images} images)`,
    ...note,
  ];
  m.iou.forEach((v, c) => {
    if (!Number.isNaN(v)) lines.push(`  ${String(c + 1).padStart(3)} ${(classNames?.[c] ?? `class${c + 1}`).padEnd(14)} IoU ${f(v)}`);
  });
  return lines.join("\n");
}
