// `mimic benchmark`: for each dataset, train CroCo with the scale's fixed recipe, probe depth and
// segmentation on the fixed probe dataset, and collect the scores into a leaderboard.
//
//   <out>/runs/<name>/train/       the training run (latest.json -> checkpoint sidecar)
//   <out>/runs/<name>/probe-depth/ <out>/runs/<name>/probe-seg/   metrics.json of each probe
//   <out>/runs/<name>/result.json  {scale, recipe, probe, result}: a dataset with this file at the
//                                  same scale, recipe and probe data, and the same pair count and
//                                  configHash, is skipped (resume)
//   <out>/cache/                   the probes' feature cache (keyed by encoder)
//   <out>/leaderboard.json  <out>/leaderboard.md
//
// Each step runs as the `mimic` command a user would type (like `mimic demo`).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openProbeDataset } from "../probe/datasets.js";
import { buildLeaderboard, type DatasetResult, type Leaderboard, leaderboardJson, leaderboardMarkdown } from "./leaderboard.js";
import type { BenchmarkScale } from "./scales.js";

/** Runs `mimic <args>` and resolves with its exit code. */
export type MimicRunner = (args: string[], quiet: boolean) => Promise<number>;

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/mimic.js");

/** Run `mimic <args>` as a child process (printed first unless quiet); resolves with the exit code. */
export const runMimic: MimicRunner = (args, quiet) => {
  if (!quiet) process.stderr.write(`\n$ mimic ${args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", quiet ? "ignore" : "inherit", quiet ? "ignore" : "inherit"] });
    c.on("close", (code) => resolve(code ?? 1));
  });
};

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

/** What runs/<name>/result.json holds. */
export interface RunRecord {
  scale: string;
  recipe: BenchmarkScale;
  probe: string;
  result: DatasetResult;
}

export interface BenchmarkOptions {
  /** Probe dataset folder (e.g. `mimic synth` output). */
  probe: string;
  scaleName: string;
  scale: BenchmarkScale;
  out: string;
  quiet?: boolean;
  runner?: MimicRunner;
}

export interface BenchmarkOutcome {
  leaderboard: Leaderboard;
  markdown: string;
  files: { json: string; markdown: string };
  /** Datasets whose result was reused from runs/<name>/result.json. */
  reused: string[];
  /** Datasets that failed (not on the leaderboard). */
  failures: Array<{ dataset: string; error: string }>;
}

const sameRecipe = (a: BenchmarkScale, b: BenchmarkScale) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
const sortKeys = (o: object) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

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
  for (const task of ["depth", "seg"] as const) {
    try {
      openProbeDataset(probe, { task, format: "auto" });
    } catch (e) {
      throw new BenchmarkInputError(`--probe ${probe}: ${(e as Error).message}`);
    }
  }
  return infos;
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
  const results: DatasetResult[] = [];
  const reused: string[] = [];
  const failures: BenchmarkOutcome["failures"] = [];

  for (const d of infos) {
    const dir = path.join(opts.out, "runs", d.name);
    const recordFile = path.join(dir, "result.json");
    if (fs.existsSync(recordFile)) {
      try {
        const rec = JSON.parse(fs.readFileSync(recordFile, "utf8")) as RunRecord & { probeDir?: string };
        if (
          rec.scale === opts.scaleName &&
          sameRecipe(rec.recipe, s) &&
          rec.probeDir === probeAbs &&
          rec.result.pairs === d.pairs &&
          rec.result.configHash === d.configHash
        ) {
          results.push(rec.result);
          reused.push(d.name);
          if (!q) process.stderr.write(`benchmark: ${d.name}: reusing ${recordFile}\n`);
          continue;
        }
      } catch {
        // unreadable record: redo this dataset
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    try {
      const step = async (what: string, args: string[]) => {
        const code = await run(args, q);
        if (code !== 0) throw new Error(`${what} failed (exit ${code}); rerun it by hand to see why`);
      };
      const trainDir = path.join(dir, "train");
      await step("mimic train", [
        "train",
        "--data",
        d.dir,
        "--objective",
        "croco",
        "--model",
        s.model,
        "--steps",
        String(s.steps),
        "--batch",
        String(s.batch),
        "--blr",
        String(s.blr),
        "--seed",
        String(s.seed),
        "--out",
        trainDir,
        ...qf,
      ]);
      const latest = JSON.parse(fs.readFileSync(path.join(trainDir, "latest.json"), "utf8")) as { checkpoint: string };
      const ckpt = path.join(trainDir, latest.checkpoint);
      const metrics: Record<string, Record<string, number | null>> = {};
      for (const task of ["depth", "seg"]) {
        const pdir = path.join(dir, `probe-${task}`);
        await step(`mimic probe --task ${task}`, [
          "probe",
          "--ckpt",
          ckpt,
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
          String(s.seed),
          "--cache",
          path.join(opts.out, "cache"),
          ...qf,
        ]);
        metrics[task] = (
          JSON.parse(fs.readFileSync(path.join(pdir, "metrics.json"), "utf8")) as { metrics: Record<string, number | null> }
        ).metrics;
      }
      const num = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : null);
      const result: DatasetResult = {
        dataset: d.name,
        pairs: d.pairs,
        configHash: d.configHash,
        depth: { absRel: num(metrics.depth.absRel), delta1: num(metrics.depth.delta1) },
        seg: { mIoU: num(metrics.seg.mIoU), pixelAcc: num(metrics.seg.pixelAccuracy) },
      };
      const rec: RunRecord & { probeDir: string } = {
        scale: opts.scaleName,
        recipe: { ...s },
        probe: probeName,
        probeDir: probeAbs,
        result,
      };
      fs.writeFileSync(recordFile, `${JSON.stringify(rec, null, 2)}\n`);
      results.push(result);
    } catch (e) {
      failures.push({ dataset: d.name, error: (e as Error).message });
      if (!q) process.stderr.write(`benchmark: ${d.name}: ${(e as Error).message}\n`);
    }
  }

  const leaderboard = buildLeaderboard(opts.scaleName, s, probeName, results);
  const markdown = leaderboardMarkdown(leaderboard);
  const files = { json: path.join(opts.out, "leaderboard.json"), markdown: path.join(opts.out, "leaderboard.md") };
  fs.writeFileSync(files.json, leaderboardJson(leaderboard));
  fs.writeFileSync(files.markdown, markdown);
  return { leaderboard, markdown, files, reused, failures };
}
