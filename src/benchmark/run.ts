// `mimic benchmark`: for each dataset (and objective: CroCo, optionally MAE on the same frames),
// for each of the scale's seeds, train with the scale's fixed recipe, probe depth and segmentation
// on the fixed probe dataset; also probe a random-init encoder with the same seeds (the reference
// every pretraining must beat); collect the scores into a leaderboard with intervals over seeds.
//
//   <out>/runs/<entry>/seed<k>/train/        the training run (latest.json -> checkpoint sidecar)
//   <out>/runs/<entry>/seed<k>/probe-depth/  .../probe-seg/   metrics.json of each probe
//   <out>/runs/<entry>/seed<k>/result.json   {scale, recipe, probe, entry, scores}: a run with this
//                                  file at the same scale, recipe, probe data, pair count and
//                                  configHash is skipped (resume)
//   <out>/cache/                   the probes' feature cache (keyed by encoder)
//   <out>/leaderboard.json  <out>/leaderboard.md
//
// Each step runs as the `mimic` command a user would type (like `mimic demo`).
import fs from "node:fs";
import path from "node:path";
import { openProbeDataset } from "../probe/datasets.js";
import { type MimicRunner, runMimic } from "../run_mimic.js";
import {
  buildLeaderboard,
  type EntryResult,
  type Leaderboard,
  leaderboardJson,
  leaderboardMarkdown,
  type SeedScores,
} from "./leaderboard.js";
import type { BenchmarkScale } from "./scales.js";

export type { MimicRunner };

/** Bad benchmark input (missing folder, no pairs.csv, duplicate names): the CLI exits 2. */
export class BenchmarkInputError extends Error {}

/** A dataset to benchmark: its folder, name, size and config hash. */
export interface DatasetInfo {
  dir: string;
  name: string;
  pairs: number;
  configHash: string;
}

/** Read a dataset folder's name, pair count (rows of pairs.csv) and configHash (config.json, or "none"). */
export function readDatasetInfo(dir: string): DatasetInfo {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new BenchmarkInputError(`dataset ${dir} is not a folder; pass mined dataset folders (made by 'mimic mine')`);
  const csv = path.join(dir, "pairs.csv");
  if (!fs.existsSync(csv))
    throw new BenchmarkInputError(
      `dataset ${dir} has no pairs.csv; pass a mined dataset folder (made by 'mimic mine' or 'mimic benchmark baselines')`,
    );
  const lines = fs
    .readFileSync(csv, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim().length > 0);
  const pairs = Math.max(0, lines.length - 1);
  let configHash = "none";
  const cfg = path.join(dir, "config.json");
  if (fs.existsSync(cfg)) {
    try {
      const h = (JSON.parse(fs.readFileSync(cfg, "utf8")) as { configHash?: unknown }).configHash;
      if (typeof h === "string" && h) configHash = h;
    } catch {
      throw new BenchmarkInputError(`dataset ${dir}: config.json is not valid JSON; fix or delete it`);
    }
  }
  return { dir, name: path.basename(path.resolve(dir)), pairs, configHash };
}

/** What runs/<entry>/seed<k>/result.json holds. */
export interface RunRecord {
  scale: string;
  recipe: BenchmarkScale;
  probe: string;
  probeDir: string;
  entry: { name: string; objective: EntryResult["objective"]; pairs: number; configHash: string };
  scores: SeedScores;
}

export interface BenchmarkOptions {
  /** Probe dataset folder (e.g. `mimic synth` output). */
  probe: string;
  scaleName: string;
  scale: BenchmarkScale;
  out: string;
  /** Pretraining objectives per dataset (default ["croco"]); "mae" rows are named "<dataset> (mae)". */
  objectives?: Array<"croco" | "mae">;
  /** Add the random-init reference row (probes on a random encoder; default true). */
  randomInit?: boolean;
  /** Add the position-prior reference row (probes on the position embedding alone; default true). */
  positionPrior?: boolean;
  quiet?: boolean;
  runner?: MimicRunner;
}

export interface BenchmarkOutcome {
  leaderboard: Leaderboard;
  markdown: string;
  files: { json: string; markdown: string };
  /** Runs ("<entry> seed <k>") whose result was reused from their result.json. */
  reused: string[];
  /** Entries that failed (not on the leaderboard). */
  failures: Array<{ dataset: string; error: string }>;
  /** Wall seconds each run took when it ran (reused runs included), as its files record them. */
  timing: RunTiming[];
}

/** What one run (entry, seed) cost: pretraining and the two probes, wall seconds; null = not recorded. */
export interface RunTiming {
  entry: string;
  seed: number;
  /** `mimic train`'s elapsedSec at its last step (null for references, which train nothing). */
  train: number | null;
  /** depth + seg probes (their metrics.json `seconds`). */
  probes: number | null;
}

/** The recorded cost of the run in `dir` (runs/<entry>/seed<k>): train/metrics.jsonl and the probes' metrics.json. */
export function runSeconds(dir: string): { train: number | null; probes: number | null } {
  const read = <T>(f: string, parse: (text: string) => T): T | null => {
    try {
      return parse(fs.readFileSync(path.join(dir, f), "utf8"));
    } catch {
      return null;
    }
  };
  const last = read("train/metrics.jsonl", (t) => JSON.parse(t.trim().split("\n").at(-1)!) as { elapsedSec?: number });
  const probe = (task: string) => read(`probe-${task}/metrics.json`, (t) => (JSON.parse(t) as { seconds?: number }).seconds ?? null);
  const [d, g] = [probe("depth"), probe("seg")];
  return {
    train: typeof last?.elapsedSec === "number" ? last.elapsedSec : null,
    probes: typeof d === "number" && typeof g === "number" ? d + g : null,
  };
}

/**
 * Minutes per seed of each entry (pretraining + probes, mean over the seeds that recorded both),
 * one line per entry, for the summary on stderr (wall times: they depend on the machine and its
 * load, so they stay out of the leaderboard files, which are the same bytes for the same scores).
 */
export function timingSummary(timing: RunTiming[]): string[] {
  const names = [...new Set(timing.map((t) => t.entry))];
  return names.map((name) => {
    const runs = timing.filter((t) => t.entry === name && t.probes !== null);
    if (runs.length === 0) return `${name}: no recorded times`;
    const trained = runs.filter((t) => t.train !== null);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const min = (x: number) => `${(x / 60).toFixed(1)} min`;
    const probes = mean(runs.map((t) => t.probes!));
    const seeds = `${runs.length} seed${runs.length === 1 ? "" : "s"}`;
    if (trained.length === 0) return `${name}: ${min(probes)} per seed (probes; ${seeds})`;
    const train = mean(trained.map((t) => t.train!));
    return `${name}: ${min(train + probes)} per seed (pretraining ${min(train)}, probes ${min(probes)}; ${seeds})`;
  });
}

/** Folder name of an entry under runs/ ("random init" -> "random-init", "a (mae)" -> "a.mae"). */
export const entryFolder = (name: string): string => name.replace(/ \((\w+)\)$/, ".$1").replace(/\s+/g, "-");

/** The scale fields that choose which seeds run, not what one seed's run does (a record holds its own seed). */
const SEED_FIELDS: readonly string[] = ["seed", "seeds"];
/** The recipe of one seed's run: every scale field but the seed range, in a fixed key order. */
const runRecipe = (s: BenchmarkScale) =>
  JSON.stringify(
    Object.entries(s)
      .filter(([k]) => !SEED_FIELDS.includes(k))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );

/** The scale fields that decide a training run (the rest is the probe protocol). */
const TRAINING_FIELDS = ["model", "steps", "batch", "blr"] as const;

/** The scale fields that decide a reference entry (random init, position prior): no training. */
const REFERENCE_FIELDS = ["model", "probeEpochs", "probeHead"] as const;

/** True when a finished run's recipe gives the same result at scale `s`. The scale's name and its
 *  seed range do not count: "nano@seeds=5" reuses the seeds a 3-seed "nano" run finished, and a
 *  custom "nano@steps=N" probes random init exactly as "nano" does (references ignore training fields). */
const recipeStillValid = (rec: BenchmarkScale, s: BenchmarkScale, reference: boolean): boolean =>
  reference ? REFERENCE_FIELDS.every((k) => rec[k] === s[k]) : runRecipe(rec) === runRecipe(s);

/**
 * True when `dir` holds a finished training run for this entry, recipe and seed: its result.json
 * names the same dataset (name, objective, pairs, configHash) and seed, its recipe has the same
 * training fields, and train/latest.json points at a checkpoint of the last step.
 */
function trainingStillValid(dir: string, entry: RunRecord["entry"], s: BenchmarkScale, seed: number): boolean {
  try {
    const rec = JSON.parse(fs.readFileSync(path.join(dir, "result.json"), "utf8")) as RunRecord;
    if (JSON.stringify(rec.entry) !== JSON.stringify(entry) || rec.scores.seed !== seed) return false;
    if (TRAINING_FIELDS.some((k) => rec.recipe[k] !== s[k])) return false;
    const latest = JSON.parse(fs.readFileSync(path.join(dir, "train", "latest.json"), "utf8")) as { checkpoint: string; step: number };
    return latest.step === s.steps && fs.existsSync(path.join(dir, "train", latest.checkpoint));
  } catch {
    return false;
  }
}

/** Check every input before any training starts. Throws BenchmarkInputError naming the bad input. */
export function checkInputs(datasets: string[], probe: string): DatasetInfo[] {
  if (datasets.length === 0) throw new BenchmarkInputError("no dataset folders given; pass one or more mined dataset folders");
  const infos = datasets.map(readDatasetInfo);
  const names = new Map<string, string>();
  for (const d of infos) {
    const prev = names.get(d.name);
    if (prev) throw new BenchmarkInputError(`datasets ${prev} and ${d.dir} have the same folder name '${d.name}'; rename one`);
    names.set(d.name, d.dir);
    if (d.pairs === 0) throw new BenchmarkInputError(`dataset ${d.dir} has no pairs (pairs.csv has only its header); nothing to train on`);
  }
  checkProbe(probe);
  return infos;
}

/** The probe set opens for depth and for segmentation. Throws BenchmarkInputError naming it. */
export function checkProbe(probe: string): void {
  for (const task of ["depth", "seg"] as const) {
    try {
      openProbeDataset(probe, { task, format: "auto" });
    } catch (e) {
      throw new BenchmarkInputError(`--probe ${probe}: ${(e as Error).message}`);
    }
  }
}

/** Benchmark `datasets` at one scale; writes the leaderboard files and returns them. */
export async function runBenchmark(datasets: string[], opts: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const infos = checkInputs(datasets, opts.probe);
  const run = opts.runner ?? runMimic;
  const q = Boolean(opts.quiet);
  const qf = q ? ["--quiet"] : [];
  const s = opts.scale;
  const probeName = path.basename(path.resolve(opts.probe));
  const probeAbs = path.resolve(opts.probe);
  fs.mkdirSync(opts.out, { recursive: true });
  const results: EntryResult[] = [];
  const reused: string[] = [];
  const failures: BenchmarkOutcome["failures"] = [];
  const timing: RunTiming[] = [];
  const objectives = opts.objectives ?? ["croco"];
  const entries: Array<{ name: string; objective: EntryResult["objective"]; info: DatasetInfo | null; reference?: "random" | "position" }> =
    [];
  for (const d of infos)
    for (const o of objectives) entries.push({ name: o === "croco" ? d.name : `${d.name} (${o})`, objective: o, info: d });
  if (opts.randomInit ?? true) entries.push({ name: "random init", objective: "none", info: null, reference: "random" });
  if (opts.positionPrior ?? true) entries.push({ name: "position prior", objective: "none", info: null, reference: "position" });

  for (const e of entries) {
    const entry = {
      name: e.name,
      objective: e.objective,
      pairs: e.info?.pairs ?? 0,
      configHash: e.info?.configHash ?? "-",
    };
    const seeds: SeedScores[] = [];
    try {
      for (let k = 0; k < s.seeds; k++) {
        const seed = s.seed + k;
        const dir = path.join(opts.out, "runs", entryFolder(e.name), `seed${seed}`);
        const recordFile = path.join(dir, "result.json");
        if (fs.existsSync(recordFile)) {
          try {
            const rec = JSON.parse(fs.readFileSync(recordFile, "utf8")) as RunRecord;
            if (
              recipeStillValid(rec.recipe, s, e.reference !== undefined) &&
              rec.probeDir === probeAbs &&
              JSON.stringify(rec.entry) === JSON.stringify(entry) &&
              rec.scores.seed === seed
            ) {
              seeds.push(rec.scores);
              reused.push(`${e.name} seed ${seed}`);
              if (!q) process.stderr.write(`benchmark: ${e.name} seed ${seed}: reusing ${recordFile}\n`);
              continue;
            }
          } catch {
            // unreadable record: redo this run
          }
        }
        // A run whose training is still valid (same dataset, same training recipe and seed; only the
        // probe protocol or probe data changed) keeps its trained encoder: only the probes rerun.
        const keepTraining = e.info !== null && trainingStillValid(dir, entry, s, seed);
        if (keepTraining) {
          for (const f of ["probe-depth", "probe-seg", "result.json"]) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
          reused.push(`${e.name} seed ${seed} (training)`);
          if (!q) process.stderr.write(`benchmark: ${e.name} seed ${seed}: reusing the trained encoder in ${path.join(dir, "train")}\n`);
        } else {
          fs.rmSync(dir, { recursive: true, force: true });
          fs.mkdirSync(dir, { recursive: true });
        }
        const step = async (what: string, args: string[]) => {
          const code = await run(args, q);
          if (code !== 0) throw new Error(`${what} (seed ${seed}) failed (exit ${code})${q ? "; its error output is above" : ""}`);
        };
        let ckpt: string = e.reference ?? "random";
        if (e.info) {
          const trainDir = path.join(dir, "train");
          if (!keepTraining)
            await step(`mimic train --objective ${e.objective}`, [
              "train",
              "--data",
              e.info.dir,
              "--objective",
              e.objective,
              "--model",
              s.model,
              "--steps",
              String(s.steps),
              "--batch",
              String(s.batch),
              "--blr",
              String(s.blr),
              "--seed",
              String(seed),
              "--out",
              trainDir,
              ...qf,
            ]);
          const latest = JSON.parse(fs.readFileSync(path.join(trainDir, "latest.json"), "utf8")) as { checkpoint: string };
          ckpt = path.join(trainDir, latest.checkpoint);
        }
        const metrics: Record<string, Record<string, number | null>> = {};
        for (const task of ["depth", "seg"]) {
          const pdir = path.join(dir, `probe-${task}`);
          await step(`mimic probe --task ${task}`, [
            "probe",
            "--ckpt",
            ckpt,
            ...(e.reference ? ["--model", s.model] : []),
            "--task",
            task,
            "--data",
            opts.probe,
            "--out",
            pdir,
            "--epochs",
            String(s.probeEpochs),
            "--head",
            s.probeHead,
            "--seed",
            String(seed),
            "--cache",
            path.join(opts.out, "cache"),
            ...qf,
          ]);
          metrics[task] = (
            JSON.parse(fs.readFileSync(path.join(pdir, "metrics.json"), "utf8")) as { metrics: Record<string, number | null> }
          ).metrics;
        }
        const num = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : null);
        const scores: SeedScores = {
          seed,
          depth: { absRel: num(metrics.depth.absRel), delta1: num(metrics.depth.delta1) },
          seg: { mIoU: num(metrics.seg.mIoU), pixelAcc: num(metrics.seg.pixelAccuracy) },
        };
        const rec: RunRecord = { scale: opts.scaleName, recipe: { ...s }, probe: probeName, probeDir: probeAbs, entry, scores };
        fs.writeFileSync(recordFile, `${JSON.stringify(rec, null, 2)}\n`);
        seeds.push(scores);
      }
      results.push({ ...entry, dataset: e.info?.name ?? "-", seeds });
      for (const sc of seeds)
        timing.push({ entry: e.name, seed: sc.seed, ...runSeconds(path.join(opts.out, "runs", entryFolder(e.name), `seed${sc.seed}`)) });
    } catch (err) {
      failures.push({ dataset: e.name, error: (err as Error).message });
      if (!q) process.stderr.write(`benchmark: ${e.name}: ${(err as Error).message}\n`);
    }
  }

  const leaderboard = buildLeaderboard(opts.scaleName, s, probeName, results);
  const markdown = leaderboardMarkdown(leaderboard);
  const files = { json: path.join(opts.out, "leaderboard.json"), markdown: path.join(opts.out, "leaderboard.md") };
  fs.writeFileSync(files.json, leaderboardJson(leaderboard));
  fs.writeFileSync(files.markdown, markdown);
  return { leaderboard, markdown, files, reused, failures, timing };
}
