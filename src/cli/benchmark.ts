// `mimic benchmark <dataset-dir>... --probe <dir> --scale nano|tiny --out <dir>`: a DataComp-style
// curation benchmark (fixed CroCo recipe + fixed probe suite per scale -> leaderboard), and
// `--make-baselines <videos-dir>`: first make the baseline datasets it compares against.
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { baselineRecipes, makeBaselines } from "../benchmark/baselines.js";
import { BenchmarkInputError, checkInputs, checkProbe, runBenchmark, timingSummary } from "../benchmark/run.js";
import { type BenchmarkScale, benchmarkScales, getScale, scaleProblems } from "../benchmark/scales.js";
import { prepareOut } from "../io/outdir.js";
import { EXIT, intFlag, outFlag, printJson, UsageError } from "./common.js";

interface BenchmarkFlags {
  probe?: string;
  scale: string;
  out: string;
  steps?: string;
  batch?: string;
  seeds?: string;
  objectives: string;
  randomInit: boolean;
  positionPrior: boolean;
  makeBaselines?: string;
  baselines?: string;
  seed: string;
  json?: boolean;
  quiet?: boolean;
}

export function benchmarkCommand(): Command {
  const scales = Object.keys(benchmarkScales);
  const cmd = new Command("benchmark")
    .description("curation benchmark: fixed CroCo recipe + depth/seg probes per dataset -> leaderboard (markdown and JSON)")
    .argument("[dataset-dirs...]", "mined dataset folders (pairs.csv), compared by folder name")
    .option("--probe <dir>", "probe dataset folder (e.g. a 'mimic synth' output); the same for every dataset")
    .addOption(new Option("--scale <name>", "fixed recipe (see docs/benchmark.md)").choices(scales).default("nano"))
    .option("-o, --out <dir>", "output folder: leaderboard.json, leaderboard.md, runs/<dataset>/", "benchmark-out")
    .option("--steps <n>", "override the scale's step count (a custom scale named like nano@steps=N; not comparable to the named scale)")
    .option("--batch <n>", "override the scale's pairs per step (a custom scale named like nano@batch=N; lr follows blr * batch / 256)")
    .option(
      "--seeds <n>",
      "seeds per entry (pretraining and probe head), the intervals are over them; default the scale's (3); a rerun with more reuses the finished seeds",
    )
    .option("--objectives <list>", "pretraining objectives per dataset, comma-separated: croco, mae (MAE on the same frames)", "croco")
    .option("--no-random-init", "leave out the random-init reference row")
    .option("--no-position-prior", "leave out the position-prior reference row (a head on the position embedding alone)")
    .option(
      "--make-baselines <videos-dir>",
      `first make the baseline datasets (${baselineRecipes.map((b) => b.name).join(", ")}) from these videos in <out>/baselines/ (kept if there) and benchmark them too`,
    )
    .option("--baselines <list>", "with --make-baselines: only these baselines, comma-separated (default: all)")
    .option("--seed <k>", "seed of the random-pairs baseline", "0")
    .option("--json", "print the leaderboard as JSON instead of markdown")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (given: string[], o: BenchmarkFlags) => {
      const t0 = performance.now();
      const probe = o.probe;
      if (!probe) throw new UsageError("--probe <dir> is required: the probe dataset (e.g. a 'mimic synth' output)");
      if (given.length === 0 && !o.makeBaselines)
        throw new UsageError("pass one or more mined dataset folders, or --make-baselines <videos-dir>");
      const { scale, scaleName } = scaleFromFlags(o);
      const objectives = objectivesFromFlag(o.objectives);
      const seed = intFlag("seed", o.seed, 0);
      const only = baselinesFromFlag(o);
      // The datasets and the probe set are checked before --out is claimed (the baselines, made
      // later, are checked with them again before any training).
      asUsage(() => (given.length ? checkInputs(given, probe) : checkProbe(probe)));
      if (o.makeBaselines && !fs.existsSync(o.makeBaselines))
        throw new UsageError(`--make-baselines ${o.makeBaselines} does not exist; pass the folder of videos to mine the baselines from`);
      // Reruns continue in --out (finished runs are reused), so it is always claimed as a resume:
      // empty, or a folder 'mimic benchmark' wrote; never over the datasets, the probe set or the videos.
      const out = outFlag(o.out);
      const claim = prepareOut(out, {
        command: "benchmark",
        resume: true,
        adoptUnmarked: true,
        inputs: [...given, probe, ...(o.makeBaselines ? [o.makeBaselines] : [])],
      });
      try {
        const datasets = [...given];
        if (o.makeBaselines) {
          try {
            const made = await makeBaselines(o.makeBaselines, path.join(out, "baselines"), { seed, only, quiet: o.quiet || o.json });
            datasets.push(...made.map((m) => m.dir));
          } catch (e) {
            if (/does not exist/.test((e as Error).message)) throw new UsageError((e as Error).message);
            throw e;
          }
        }
        const outcome = await asUsage(() =>
          runBenchmark(datasets, {
            probe,
            scaleName,
            scale,
            out,
            objectives,
            randomInit: o.randomInit,
            positionPrior: o.positionPrior,
            quiet: o.quiet || o.json,
          }),
        );
        if (o.json) printJson(outcome.leaderboard);
        else {
          process.stdout.write(outcome.markdown);
          if (!o.quiet) {
            console.error(`wrote ${outcome.files.markdown} and ${outcome.files.json}`);
            const wall = (performance.now() - t0) / 1000;
            console.error(
              `time: ${Math.round(wall)} s wall for this command; each entry as its runs recorded it (reused runs with the time they took when they ran):`,
            );
            for (const line of timingSummary(outcome.timing)) console.error(`  ${line}`);
          }
        }
        for (const f of outcome.failures) console.error(`mimic benchmark: ${f.dataset}: ${f.error}`);
        process.exitCode = outcome.failures.length ? EXIT.failed : EXIT.ok;
      } finally {
        claim.lock.release();
      }
    });
  return cmd;
}

/** The scale named by --scale with --steps, --batch and --seeds applied (a custom scale is named for them). */
function scaleFromFlags(o: BenchmarkFlags): { scale: BenchmarkScale; scaleName: string } {
  let scale: BenchmarkScale = getScale(o.scale);
  let scaleName = o.scale;
  if (o.steps !== undefined) {
    const steps = intFlag("steps", o.steps);
    if (steps !== scale.steps) {
      scale = { ...scale, steps };
      scaleName = `${o.scale}@steps=${steps}`;
    }
  }
  if (o.batch !== undefined) {
    const batch = intFlag("batch", o.batch);
    if (batch !== scale.batch) {
      scale = { ...scale, batch };
      scaleName = `${scaleName}@batch=${batch}`;
    }
  }
  if (o.seeds !== undefined) {
    const seeds = intFlag("seeds", o.seeds);
    if (seeds !== scale.seeds) {
      scale = { ...scale, seeds };
      scaleName = `${scaleName}@seeds=${seeds}`;
    }
  }
  const problems = scaleProblems(scaleName, scale);
  if (problems.length) throw new UsageError(problems.join("; "));
  return { scale, scaleName };
}

/** --objectives as a list of distinct known objectives. */
function objectivesFromFlag(flag: string): Array<"croco" | "mae"> {
  const objectives = flag.split(",").map((x) => x.trim());
  for (const x of objectives)
    if (x !== "croco" && x !== "mae") throw new UsageError(`--objectives: unknown objective '${x}'; use croco, mae or croco,mae`);
  if (new Set(objectives).size !== objectives.length) throw new UsageError(`--objectives lists an objective twice: '${flag}'`);
  return objectives as Array<"croco" | "mae">;
}

/** --baselines as a list of distinct baseline names (undefined: all); only with --make-baselines. */
function baselinesFromFlag(o: BenchmarkFlags): string[] | undefined {
  if (o.baselines === undefined) return undefined;
  if (!o.makeBaselines) throw new UsageError("--baselines needs --make-baselines <videos-dir>: the videos to make them from");
  const known = baselineRecipes.map((b) => b.name);
  const names = o.baselines.split(",").map((x) => x.trim());
  for (const x of names)
    if (!known.includes(x)) throw new UsageError(`--baselines: unknown baseline '${x}'; use one or more of ${known.join(", ")}`);
  if (new Set(names).size !== names.length) throw new UsageError(`--baselines lists a baseline twice: '${o.baselines}'`);
  return names;
}

/** fn's result; a BenchmarkInputError (a bad dataset or probe set) becomes a UsageError (exit 2). */
function asUsage<T>(fn: () => T): T {
  const usage = (e: unknown): never => {
    throw e instanceof BenchmarkInputError ? new UsageError(e.message) : e;
  };
  try {
    const r = fn();
    return (r instanceof Promise ? r.catch(usage) : r) as T;
  } catch (e) {
    return usage(e);
  }
}
