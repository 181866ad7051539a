// `mimic demo [--out dir] [--quick]`: the whole mission in one command, run as the same `mimic`
// commands a user would type (each is printed before it runs):
//
//   synth -> synth probe set (other scenes) -> mine (default preset) -> eval-mining -> train CroCo
//   and MAE (nano, same budget) -> probe depth and segmentation for CroCo, MAE and random init on
//   the probe set (metrics with 95% intervals) -> report.html (paired differences: which are
//   significant at this budget)
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { benchmarkScales } from "../benchmark/scales.js";
import { describeAdapter, getGpu } from "../gpu/device.js";
import { type MimicRunner, runMimic } from "../run_mimic.js";
import { packageVersion } from "../version.js";
import { resolveFfmpeg } from "../video/ffmpeg.js";
import { EXIT, outFlag, printJson, UsageError } from "./common.js";

/** The demo's budget: `full` is the default, `quick` a first look (README.md has the one measured timing). */
export interface DemoPlan {
  scenes: number;
  seconds: number;
  fps: number;
  trainSteps: number;
  batch: number;
  probeEpochs: number;
  /** The probe set: its own scenes (seed 1, 112x112 at 4 fps, a frame every 0.5 s, the tilted
   * preset's cameras), none of them mined for pretraining; val holds a fifth of the scenes (>= 2). */
  probeScenes: number;
  probeSeconds: number;
  /** Base learning rate: MAE's 1.5e-4 assumes batches of thousands; lr = blr * batch / 256 (1e-3 at batch 8). */
  blr: number;
}

export const demoPlans: Record<"full" | "quick", DemoPlan> = {
  // probes: the linear preset of docs/probes.md (standardised features, lr 1e-2: a fitted head) with
  // the benchmark scale's head (--head upsample); 5 epochs at lr 1e-3 left heads unfitted and ranked
  // encoders by head speed.
  // The probe set is the benchmark's protocol at the demo's budget (docs/evaluation.md): scenes apart
  // from the pretraining videos, materials random per scene, tilting cameras (no position shortcut),
  // many short scenes (scene variety, not frames of one room), metrics with intervals, and the
  // position prior as a reference beside random init.
  full: { scenes: 4, seconds: 20, fps: 5, trainSteps: 120, batch: 4, probeEpochs: 10, probeScenes: 24, probeSeconds: 2, blr: 0.032 },
  quick: { scenes: 2, seconds: 8, fps: 5, trainSteps: 20, batch: 4, probeEpochs: 2, probeScenes: 5, probeSeconds: 4, blr: 0.032 },
};

export interface DemoSummary {
  out: string;
  report: string;
  seconds: number;
  steps: Array<{ step: string; code: number; seconds: number }>;
}

/** What the demo writes at the top of its --out (a rerun into the same folder replaces them). */
const DEMO_ENTRIES = new Set(["synth", "probe-set", "mined", "eval-mining.json", "train", "probe", "env.json", "report.html"]);

/** A new, empty or earlier demo folder: anything else there is the user's, and env.json or report.html would replace it. */
function checkDemoOut(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new UsageError(`demo: --out ${out} exists and is not a folder. Fix: choose another --out`);
  const foreign = fs.readdirSync(out).filter((n) => !DEMO_ENTRIES.has(n));
  if (foreign.length)
    throw new UsageError(
      `demo: --out ${out} holds ${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? `, ... (${foreign.length} in all)` : ""}, which the demo did not write; ` +
        `it writes ${[...DEMO_ENTRIES].join(", ")} there. Fix: choose a new or empty --out, or the folder of an earlier demo`,
    );
}

export async function runDemo(out: string, opts: { quick?: boolean; quiet?: boolean; runner?: MimicRunner } = {}): Promise<DemoSummary> {
  const plan = opts.quick ? demoPlans.quick : demoPlans.full;
  const q = Boolean(opts.quiet);
  const qf = q ? ["--quiet"] : [];
  const t0 = performance.now();
  const steps: DemoSummary["steps"] = [];
  checkDemoOut(out);
  fs.mkdirSync(out, { recursive: true });
  const step = async (name: string, args: string[], required = true) => {
    const t = performance.now();
    const code = await (opts.runner ?? runMimic)(args, q);
    steps.push({ step: name, code, seconds: Math.round((performance.now() - t) / 100) / 10 });
    if (code !== EXIT.ok && required) throw new Error(`demo step '${name}' failed (exit ${code}); its error output is above`);
    return code;
  };
  const d = (...p: string[]) => path.join(out, ...p);

  await step("synth", [
    "synth",
    "--out",
    d("synth"),
    "--scenes",
    String(plan.scenes),
    "--seconds",
    String(plan.seconds),
    "--fps",
    String(plan.fps),
    "--size",
    "224x224",
    "--seed",
    "0",
    "--force",
    ...qf,
  ]);
  await step("synth probe set", [
    "synth",
    "--out",
    d("probe-set"),
    "--scenes",
    String(plan.probeScenes),
    "--seconds",
    String(plan.probeSeconds),
    "--fps",
    "4",
    "--size",
    "112x112",
    "--seed",
    "1",
    "--preset",
    "tilted",
    "--no-video",
    "--force",
    ...qf,
  ]);
  await step("mine", ["mine", d("synth", "videos"), "--out", d("mined"), "--force", ...qf]);
  await step("eval-mining", ["eval-mining", d("mined"), "--gt", d("synth"), "--out", d("eval-mining.json")], false);
  const train = (objective: string) =>
    step(`train ${objective}`, [
      "train",
      "--data",
      d("mined"),
      "--objective",
      objective,
      "--model",
      "nano",
      "--steps",
      String(plan.trainSteps),
      "--batch",
      String(plan.batch),
      "--blr",
      String(plan.blr),
      "--seed",
      "0",
      "--out",
      d("train", objective),
      "--force",
      ...qf,
    ]);
  await train("croco");
  await train("mae");
  const latest = (run: string) => {
    const l = JSON.parse(fs.readFileSync(d("train", run, "latest.json"), "utf8")) as { checkpoint: string };
    return d("train", run, l.checkpoint);
  };
  for (const [enc, ckpt] of [
    ["croco", latest("croco")],
    ["mae", latest("mae")],
    ["random", "random"],
    ["position", "position"],
  ])
    for (const task of ["depth", "seg"])
      await step(`probe ${enc} ${task}`, [
        "probe",
        "--ckpt",
        ckpt,
        "--task",
        task,
        "--data",
        d("probe-set"),
        "--out",
        d("probe", `${enc}-${task}`),
        "--epochs",
        String(plan.probeEpochs),
        "--head",
        benchmarkScales.nano.probeHead,
        "--cache",
        d("probe", "cache"),
        ...qf,
      ]);

  const gpu = await getGpu();
  const ff = resolveFfmpeg();
  fs.writeFileSync(
    d("env.json"),
    `${JSON.stringify({ adapter: describeAdapter(gpu.adapter), node: process.versions.node, mimicKit: packageVersion(), ffmpeg: ff.version, plan: opts.quick ? "quick" : "full" }, null, 2)}\n`,
  );
  await step("report", ["report", out]);
  return { out, report: d("report.html"), seconds: Math.round((performance.now() - t0) / 100) / 10, steps };
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("synthetic videos -> mined pairs -> CroCo and MAE training -> depth and segmentation probes -> report.html")
    .option("-o, --out <dir>", "output folder", "demo-out")
    .option("--quick", "a small run: for tests and a first look (README.md gives the measured time)")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .option("--json", "print a JSON summary")
    .action(async (opts: { out: string; quick?: boolean; quiet?: boolean; json?: boolean }) => {
      outFlag(opts.out); // an empty --out is a usage error, not mkdir('')
      const s = await runDemo(opts.out, { quick: opts.quick, quiet: opts.quiet || opts.json });
      if (opts.json) printJson(s);
      else if (!opts.quiet) console.error(`\ndemo finished in ${s.seconds} s: open ${s.report}`);
    });
}
