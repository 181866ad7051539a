// `mimic mine <videos> --out <dataset>`: a folder of videos (or a list file) in, a MIMIC-compatible
// pair dataset out. Every MineConfig field has a flag; --preset picks the base.
import { Command, Option } from "commander";
import { type MineConfig, type MinePresetName, minePresets, validateMineConfig } from "../mine/config.js";
import { minePairs } from "../mine/pipeline.js";
import type { MineProgress } from "../mine/progress.js";
import { parseShard } from "../mine/shard.js";
import { VideoError } from "../video/probe.js";
import { EXIT, floatFlag, intFlag, type Progress, parseSize, printJson, progress, UsageError } from "./common.js";

/** Flags that override one MineConfig field each: [flag, field, kind, help]. */
const FIELD_FLAGS: Array<[string, keyof MineConfig, "int" | "size" | "float" | "bool" | "enum", string, string[]?]> = [
  ["every-sec", "everySec", "float", "seconds between sampled frames"],
  ["fps", "fps", "float", "frame rate of frame folders whose file names are not timestamps (frame i at i/fps)"],
  ["size", "size", "size", "working size: N (or NxN) for frames resized to N x N"],
  ["resize", "resize", "enum", "resize mode", ["stretch", "center-crop"]],
  ["scaler", "scaler", "enum", "resizing to the working size (opencv-linear: cv2.resize as MIMIC)", ["area", "opencv-linear"]],
  ["gray", "gray", "enum", "SIFT's gray input (u8: rounded as cv2.cvtColor, as MIMIC)", ["float", "u8"]],
  ["crop-bottom", "cropBottom", "float", "fraction of the height dropped at the bottom"],
  ["max-features", "maxFeatures", "int", "SIFT features kept per frame, strongest first (0 = all)"],
  ["sift-upsample", "siftUpsample", "bool", "SIFT doubles the image before its first octave (true|false; OpenCV and MIMIC: true)"],
  ["sift-contrast", "siftContrast", "float", "SIFT contrast threshold (OpenCV and MIMIC: 0.04)"],
  ["ratio", "ratio", "float", "Lowe ratio test threshold"],
  ["mutual", "mutual", "bool", "keep only mutual nearest neighbours (true|false)"],
  ["min-matches", "minMatches", "int", "a homography needs more than this many matches"],
  ["ransac-threshold", "ransacThreshold", "float", "RANSAC reprojection threshold, px"],
  ["ransac-confidence", "ransacConfidence", "float", "RANSAC confidence for adaptive stopping"],
  ["ransac-max-iters", "ransacMaxIters", "int", "most RANSAC hypotheses"],
  ["patch", "patch", "int", "patch size, px"],
  ["patch-samples", "patchSamples", "int", "sample pixels per patch side voting for its partner (1..16)"],
  ["correspondence", "correspondence", "enum", "patch correspondence mode", ["mimic", "improved"]],
  ["overlap-lower", "overlapLower", "float", "keep pairs with overlap% above this"],
  ["overlap-upper", "overlapUpper", "float", "keep pairs with overlap% below this"],
  ["candidates", "candidates", "enum", "candidate pairs", ["consecutive", "window"]],
  ["window", "window", "int", "window mode: partners tried per frame"],
  ["min-sharpness", "minSharpness", "float", "blur filter: variance of Laplacian below this rejects a frame (0 = off)"],
  ["min-motion-px", "minMotionPx", "float", "static filter: median inlier motion below this rejects a pair (0 = off)"],
  ["jpeg-quality", "jpegQuality", "int", "JPEG quality of written frames"],
  ["seed", "seed", "int", "RANSAC sampling seed"],
  [
    "accurate",
    "accurate",
    "bool",
    "accuracy-oriented homographies: RootSIFT, mutual matches, ratio >= 0.8, GPU LO-MSAC with >= 10000 hypotheses, reweighted refinement (true|false; off in the presets)",
  ],
];

/** The mining bar: samples decoded of those expected (the bar), then the payload of minePayload(). */
const MINE_BAR = "frames | {videos} videos | {video} | {kept} pairs | {rate} candidate pairs/s | ETA {left}";

const clock = (sec: number): string => {
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
};

/** The bar's payload for one progress report: the current video's counts, the run's pairs, rate and ETA. */
export function minePayload(p: MineProgress): Record<string, string | number> {
  const name = p.video === null ? "" : p.video.length > 32 ? `...${p.video.slice(-29)}` : p.video;
  const expected = p.videoSamplesExpected === null ? "" : `/${p.videoSamplesExpected}`;
  return {
    videos: `${p.videosDone}/${p.videos}`,
    video: p.video === null ? "-" : `${name}: ${p.videoSamples}${expected} samples, ${p.videoCandidates} candidates verified`,
    kept: p.kept,
    rate: p.candidatesPerSec.toFixed(1),
    left: p.etaSec === null ? "-" : clock(p.etaSec),
  };
}

export function parseMineConfig(preset: string, opts: Record<string, unknown>): MineConfig {
  if (!(preset in minePresets)) throw new UsageError(`--preset must be one of ${Object.keys(minePresets).join(", ")}, got '${preset}'`);
  const cfg: MineConfig = { ...minePresets[preset as MinePresetName] };
  const set = cfg as unknown as Record<string, unknown>;
  for (const [flag, field, kind, , choices] of FIELD_FLAGS) {
    const key = flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const v = opts[key];
    if (v === undefined) continue;
    const s = String(v);
    if (kind === "int") set[field] = intFlag(flag, s, 0);
    else if (kind === "size") {
      const [w, h] = parseSize(flag, s);
      if (w !== h) throw new UsageError(`--${flag} ${s}: mining works on square frames; say N or NxN`);
      set[field] = w;
    } else if (kind === "float") set[field] = floatFlag(flag, s);
    else if (kind === "bool") {
      if (s !== "true" && s !== "false") throw new UsageError(`--${flag} must be true or false, got '${s}'`);
      set[field] = s === "true";
    } else {
      if (!choices?.includes(s)) throw new UsageError(`--${flag} must be one of ${choices?.join(", ")}, got '${s}'`);
      set[field] = s;
    }
  }
  // Off is the presets' state, where the field is absent (so their config hash is unchanged).
  if (cfg.accurate === false) delete cfg.accurate;
  try {
    validateMineConfig(cfg);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return cfg;
}

export function mineCommand(): Command {
  const cmd = new Command("mine")
    .description("mine overlapping multi-view pairs from videos and frame folders (or a text file listing them)")
    .argument(
      "<videos>",
      "folder searched recursively for videos and frame folders (2+ jpg/png: one sequence each), a text file with one video or frame folder per line, or one video",
    )
    .requiredOption("-o, --out <dir>", "output dataset folder")
    .option("--source <name>", "label of the output folder (default: the input folder's name)")
    .addOption(new Option("--preset <name>", "base config").choices(Object.keys(minePresets)).default("default"))
    .option("--resume", "continue an interrupted run in --out (skips finished videos)")
    .option("--force", "overwrite a non-empty --out")
    .option("--shard <i/N>", "mine only the videos whose stable hash falls in shard i of N")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .option("--json", "print a JSON summary on stdout");
  // Each field's value in each preset, so --help shows what a flag overrides.
  const presetValues = (field: keyof MineConfig) => {
    const v = Object.entries(minePresets).map(([name, c]) => [name, c[field] === undefined ? "unset" : String(c[field])]);
    return v.every(([, x]) => x === v[0][1]) ? `all presets: ${v[0][1]}` : v.map(([n, x]) => `${n}: ${x}`).join(", ");
  };
  for (const [flag, field, kind, help, choices] of FIELD_FLAGS)
    cmd.option(`--${flag} <${kind === "bool" ? "true|false" : choices ? choices.join("|") : "n"}>`, `${help} (${presetValues(field)})`);
  cmd.addHelpText("after", "\nExit codes: 0 success, 1 some videos failed (the rest are mined; see stats.json), 2 bad arguments.");
  cmd.action(async (input: string, opts: Record<string, unknown>) => {
    const config = parseMineConfig(String(opts.preset), opts);
    let shard = null;
    try {
      shard = opts.shard ? parseShard(String(opts.shard)) : null;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const quiet = Boolean(opts.quiet) || Boolean(opts.json);
    let bar: Progress | null = null;
    const summary = await minePairs({
      input,
      out: String(opts.out),
      source: opts.source as string | undefined,
      config,
      resume: Boolean(opts.resume),
      force: Boolean(opts.force),
      shard,
      quiet,
      onProgress(p) {
        const payload = minePayload(p);
        if (bar) bar.update(p.frames, payload, p.framesExpected);
        else bar = progress("mining", p.framesExpected, { quiet, format: MINE_BAR, payload, eta: false });
      },
    })
      .catch((e: unknown) => {
        // A frame folder without timestamp names and no --fps: a bad argument, nothing was written.
        if (e instanceof VideoError && e.code === "needs-fps") throw new UsageError(e.message);
        throw e;
      })
      .finally(() => bar?.stop());
    if (opts.json) printJson(summary);
    else if (!opts.quiet)
      console.error(
        `mined ${summary.kept} pairs from ${summary.done} videos (${summary.failed} failed) into ${summary.out}; ${summary.run.candidatesPerSec.toFixed(1)} candidate pairs/s`,
      );
    process.exitCode = summary.failed > 0 ? EXIT.failed : EXIT.ok;
  });
  return cmd;
}

export function mergeCommand(): Command {
  return new Command("merge")
    .description("join the outputs of sharded 'mimic mine --shard i/N' runs into one dataset")
    .argument("<shards...>", "shard output folders")
    .requiredOption("-o, --out <dir>", "merged dataset folder")
    .option("--force", "overwrite a non-empty --out")
    .option("--json", "print a JSON summary on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (shards: string[], opts: { out: string; force?: boolean; json?: boolean; quiet?: boolean }) => {
      const { mergeShards } = await import("../mine/merge.js");
      const r = mergeShards(shards, opts.out, { force: opts.force });
      if (opts.json) printJson(r);
      else if (!opts.quiet) console.error(`merged ${r.shards} shards: ${r.videos} videos, ${r.pairs} pairs -> ${r.out}`);
    });
}
