// Checkpoints: <name>.safetensors (model tensors with MIMIC/PyTorch names and shapes, see
// params.ts) + <name>.json (sidecar: config, step, optimizer state file, RNG/loader state), and
// optionally <name>.optim.safetensors (optimizer moments, tensors named by the optimizer).
//
// Sidecar (format "mimic-kit.checkpoint", version 1):
//   { "format": "mimic-kit.checkpoint", "version": 1, "model": "<name>.safetensors",
//     "config": ModelConfig, "step": number, "epoch": number,
//     "optimizer": { "file": "<name>.optim.safetensors", "state": {...json} } | null,
//     "rng": {...json},      // e.g. { seed, step, epoch, cursor }: enough to resume exactly
//     "extra": {...json},    // free-form (train options, metrics)
//     "created": ISO date }

import { existsSync, readFileSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type ModelConfig, validateConfig } from "./config.js";
import { isEncoderParam, type ParamLayout, ParamStore, paramLayout } from "./params.js";
import { readSafetensors, type Safetensors, type TensorToWrite, writeSafetensors } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "mimic-kit.checkpoint";
export const CHECKPOINT_VERSION = 1;

export interface CheckpointSidecar {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Model tensors file, relative to the sidecar's folder. */
  model: string;
  config: ModelConfig;
  /** Optimizer steps taken. */
  step: number;
  epoch: number;
  /** Optimizer moments file (relative) and its JSON state (step count, hyper-parameters), or null. */
  optimizer: { file: string; state: Record<string, unknown> } | null;
  /** Whatever the training loop needs to continue its random streams exactly. */
  rng: Record<string, unknown>;
  extra: Record<string, unknown>;
  created: string;
}

export interface LoadOptions {
  /** Names allowed to be absent from the file (kept at their current values), e.g. isDecoderParam. */
  allowMissing?: (name: string) => boolean;
  /** Ignore tensors the model does not have (default false: they are an error). */
  ignoreUnexpected?: boolean;
}

const list = (xs: string[], n = 12) => (xs.length <= n ? xs.join(", ") : `${xs.slice(0, n).join(", ")}, ... (+${xs.length - n} more)`);

/**
 * Copy a safetensors file's tensors into `store`, checking names and shapes against the model.
 * Throws one error listing every missing name, unexpected name and shape mismatch.
 * A leading "model." prefix (a converted PyTorch {"model": state_dict}) is accepted.
 */
export function loadParamsInto(store: ParamStore, st: Safetensors, opts: LoadOptions = {}): { loaded: string[]; missing: string[] } {
  const { prefix, fileNames, allowedMissing } = checkFits(store.config, store.layout, st, opts);
  const loaded: string[] = [];
  for (const e of store.layout.entries) {
    if (!fileNames.has(e.name)) continue;
    const x = store.get(e.name);
    x.set(st.float32(prefix + e.name));
    // NaN/Inf weights would give NaN features, and a probe would report 'delta1 0.0000' as a result.
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i]))
        throw new Error(
          `${st.source}: tensor ${e.name} holds a non-finite value (${x[i]} at index ${i}); the checkpoint is unusable (a diverged run?). Fix: use an earlier checkpoint`,
        );
    loaded.push(e.name);
  }
  return { loaded, missing: allowedMissing };
}

/**
 * Check a file's tensor names and shapes against a model layout (no parameter memory is allocated:
 * a config read from a sidecar is trusted only as far as the tensors present agree with it).
 */
function checkFits(
  c: ModelConfig,
  layout: ParamLayout,
  st: Safetensors,
  opts: LoadOptions,
): { prefix: string; fileNames: Set<string>; allowedMissing: string[] } {
  const prefix = st.names().length > 0 && st.names().every((n) => n.startsWith("model.")) ? "model." : "";
  const fileNames = new Set(st.names().map((n) => n.slice(prefix.length)));
  const missing: string[] = [];
  const allowedMissing: string[] = [];
  const mismatched: string[] = [];
  for (const e of layout.entries) {
    if (!fileNames.has(e.name)) {
      if (opts.allowMissing?.(e.name)) allowedMissing.push(e.name);
      else missing.push(e.name);
      continue;
    }
    const s = st.shape(prefix + e.name);
    if (s.length !== e.shape.length || s.some((d, i) => d !== e.shape[i])) mismatched.push(`${e.name}: file [${s}] vs model [${e.shape}]`);
  }
  const unexpected = opts.ignoreUnexpected ? [] : [...fileNames].filter((n) => !layout.byName.has(n));
  if (missing.length || mismatched.length || unexpected.length) {
    const parts = [
      `${st.source} does not fit model '${c.name}' (${c.objective}, width ${c.width}, depth ${c.depth}, ${c.imgSize}/${c.patchSize}):`,
    ];
    if (missing.length) parts.push(`  missing (${missing.length}): ${list(missing)}`);
    if (unexpected.length) parts.push(`  unexpected (${unexpected.length}): ${list(unexpected)}`);
    if (mismatched.length) parts.push(`  shape mismatches (${mismatched.length}): ${list(mismatched, 8)}`);
    parts.push("  Pick the --model/--objective the checkpoint was trained with, or load only the encoder.");
    throw new Error(parts.join("\n"));
  }
  return { prefix, fileNames, allowedMissing };
}

/** Load model tensors from a safetensors file into a new store (initialised from `init` when given). */
export async function loadParams(file: string, config: ModelConfig, opts: LoadOptions = {}, init?: ParamStore): Promise<ParamStore> {
  validateConfig(config);
  const st = await readSafetensors(file);
  checkFits(config, paramLayout(config), st, opts); // before allocating the model
  const store = init ? init.clone() : new ParamStore(config);
  loadParamsInto(store, st, opts);
  return store;
}

/** Allow-missing predicate for loading only the encoder (e.g. into a probe, or --init across objectives). */
export const decoderMayBeMissing = (name: string): boolean => !isEncoderParam(name);

/** The model's tensors for writing (no padding), in state_dict order. */
export function paramsToTensors(store: ParamStore): TensorToWrite[] {
  return [...store.tensors()].map(([name, data, shape]) => ({ name, shape, data }));
}

export interface SaveCheckpointArgs {
  params: ParamStore;
  step: number;
  epoch?: number;
  /** Optimizer moments as named float32 tensors (e.g. "exp_avg.blocks.0.attn.qkv.weight") + JSON state. */
  optimizer?: { tensors: TensorToWrite[]; state: Record<string, unknown> };
  rng?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/**
 * Write <pathNoExt>.safetensors, <pathNoExt>.json and (with optimizer state)
 * <pathNoExt>.optim.safetensors. Returns the sidecar path.
 */
export async function saveCheckpoint(pathNoExt: string, a: SaveCheckpointArgs): Promise<string> {
  const dir = dirname(pathNoExt);
  const base = basename(pathNoExt);
  const modelFile = `${base}.safetensors`;
  const cfg = a.params.config;
  await writeSafetensors(join(dir, modelFile), paramsToTensors(a.params), {
    format: "pt",
    "mimic-kit.config": JSON.stringify(cfg),
    "mimic-kit.step": String(a.step),
  });
  let optimizer: CheckpointSidecar["optimizer"] = null;
  if (a.optimizer) {
    const optFile = `${base}.optim.safetensors`;
    await writeSafetensors(join(dir, optFile), a.optimizer.tensors, { "mimic-kit.step": String(a.step) });
    optimizer = { file: optFile, state: a.optimizer.state };
  }
  const sidecar: CheckpointSidecar = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: modelFile,
    config: cfg,
    step: a.step,
    epoch: a.epoch ?? 0,
    optimizer,
    rng: a.rng ?? {},
    extra: a.extra ?? {},
    created: new Date().toISOString(),
  };
  const sidecarPath = join(dir, `${base}.json`);
  await writeFile(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  return sidecarPath;
}

export interface LoadedCheckpoint {
  sidecar: CheckpointSidecar;
  params: ParamStore;
  /** Optimizer tensors (file opened lazily by the caller via .float32(name)), or null. */
  optimizer: Safetensors | null;
}

/**
 * The checkpoint a user's argument means. A training run's latest.json ({checkpoint, step}, which
 * names the newest sidecar) and a run folder (its latest.json) are followed to that sidecar; any
 * other path (a sidecar, a .safetensors) is returned as it is.
 */
export function resolveCheckpointPath(file: string): string {
  let f = file;
  if (existsSync(f) && statSync(f).isDirectory()) {
    f = join(f, "latest.json");
    if (!existsSync(f))
      throw new Error(
        `${file} is a folder without latest.json. Fix: pass a checkpoint (.json or .safetensors) or a run folder of mimic train`,
      );
  }
  if (!f.endsWith(".json") || !existsSync(f)) return f;
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(f, "utf8"));
  } catch {
    return f; // readSidecar names the parse error
  }
  const pointer = j as { format?: unknown; checkpoint?: unknown };
  if (pointer && typeof pointer === "object" && pointer.format === undefined && typeof pointer.checkpoint === "string")
    return join(dirname(f), pointer.checkpoint);
  return f;
}

/** The model tensors (.safetensors) of a checkpoint argument: a sidecar's "model" file, else the path itself. */
export function checkpointTensorsPath(file: string): string {
  const f = resolveCheckpointPath(file);
  if (!f.endsWith(".json")) return f;
  const j = JSON.parse(readFileSync(f, "utf8")) as { model?: unknown };
  if (typeof j.model !== "string") throw new Error(`checkpoint sidecar ${f} names no model file. Fix: pass the checkpoint's .safetensors`);
  return join(dirname(f), j.model);
}

/** Read a sidecar and check its fields; `file` is the .json (or the .safetensors beside it, or a run's latest.json). */
export async function readSidecar(file: string): Promise<CheckpointSidecar> {
  file = resolveCheckpointPath(file);
  const path = file.endsWith(".safetensors") ? file.replace(/(\.optim)?\.safetensors$/, ".json") : file;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read checkpoint sidecar ${path}: ${(e as Error).message}`);
  }
  let j: Partial<CheckpointSidecar>;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new Error(`checkpoint sidecar ${path} is not JSON: ${(e as Error).message}`);
  }
  const bad: string[] = [];
  if (j.format !== CHECKPOINT_FORMAT) bad.push(`format is ${JSON.stringify(j.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (typeof j.version !== "number" || j.version > CHECKPOINT_VERSION)
    bad.push(`version ${j.version} is not supported (max ${CHECKPOINT_VERSION})`);
  if (typeof j.model !== "string") bad.push("model (tensor file name) is missing");
  if (typeof j.step !== "number") bad.push("step is missing");
  else if (!Number.isInteger(j.step) || j.step < 0) bad.push(`step ${j.step} is not a whole number >= 0`);
  if (typeof j.config !== "object" || j.config === null) bad.push("config is missing");
  if (bad.length) throw new Error(`checkpoint sidecar ${path} is invalid:\n  ${bad.join("\n  ")}`);
  try {
    validateConfig(j.config as ModelConfig);
  } catch (e) {
    throw new Error(`checkpoint sidecar ${path}: ${(e as Error).message}`);
  }
  return { epoch: 0, optimizer: null, rng: {}, extra: {}, created: "", ...j } as CheckpointSidecar;
}

/** Load a full checkpoint (sidecar + model tensors, strict names and shapes + optimizer file if any). */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  file = resolveCheckpointPath(file);
  const sidecar = await readSidecar(file);
  const dir = dirname(file);
  const params = await loadParams(join(dir, sidecar.model), sidecar.config);
  const optimizer = sidecar.optimizer ? await readSafetensors(join(dir, sidecar.optimizer.file)) : null;
  return { sidecar, params, optimizer };
}
