// `mimic synth`: render seeded synthetic indoor scenes into videos with poses, ground-truth depth
// and a probe dataset (rgb / depth / labels). Thin: parses flags into a SynthConfig.
import { Command } from "commander";
import { getGpu } from "../gpu/device.js";
import { prepareOut } from "../io/outdir.js";
import { DEFAULT_TRUTH, type SynthConfig, type SynthSummary, sceneId, synthesize } from "../synth/dataset.js";
import { synthPreset } from "../synth/presets.js";
import { EXIT, floatFlag, intFlag, outFlag, parseSize, printJson, progress, UsageError } from "./common.js";

interface SynthFlags {
  out?: string;
  scenes: string;
  seconds: string;
  fps: string;
  size: string;
  seed: string;
  preset: string;
  batch: string;
  video: boolean;
  textures?: string;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function synthCommand(): Command {
  return new Command("synth")
    .description("render synthetic indoor scenes: videos with poses, ground-truth depth, labels, probe dataset")
    .requiredOption("-o, --out <dir>", "output folder")
    .option("--scenes <n>", "number of scenes", "4")
    .option("--seconds <s>", "seconds of video per scene", "20")
    .option("--fps <f>", "frames per second", "10")
    .option("--size <WxH>", "frame size: WIDTHxHEIGHT, or N for N x N", "320x240")
    .option("--seed <k>", "master seed", "0")
    .option("--preset <name>", "scene/trajectory preset from datasets/synth-presets.json", "default")
    .option("--batch <n>", "frames per render submit", "8")
    .option("--textures <dir>", "folder of JPEG/PNG images used on some walls and pictures (sorted by name, up to 64)")
    .option("--force", "replace a previous 'mimic synth' output in --out (only what synth wrote there is removed)")
    .option("--no-video", "skip the mp4 files (poses, ground truth and probe data are still written)")
    .option("--json", "print the summary as JSON")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .action(async (opts: SynthFlags) => {
      const [width, height] = parseSize("size", opts.size);
      if (opts.video && (width % 2 || height % 2))
        throw new UsageError(`--size ${opts.size}: the videos (yuv420p) need even sides; use an even size or --no-video`);
      let preset: ReturnType<typeof synthPreset>;
      try {
        preset = synthPreset(opts.preset);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const cfg: SynthConfig = {
        out: outFlag(opts.out ?? "synth"),
        scenes: intFlag("scenes", opts.scenes),
        seconds: floatFlag("seconds", opts.seconds, 0.1, 3600),
        fps: floatFlag("fps", opts.fps, 0.5, 120),
        width,
        height,
        seed: intFlag("seed", opts.seed, 0),
        preset,
        video: opts.video,
        batch: intFlag("batch", opts.batch),
        truth: DEFAULT_TRUTH,
        textures: opts.textures,
      };
      // A non-empty --out needs --force (which removes only a previous synth output's files); --out
      // may not be, hold or sit inside --textures; one run per folder at a time.
      const claim = prepareOut(cfg.out, { command: "synth", force: opts.force, inputs: opts.textures ? [opts.textures] : [] });
      try {
        await runSynth(opts, cfg, width, height);
      } finally {
        claim.lock.release();
      }
    });
}

async function runSynth(opts: SynthFlags, cfg: SynthConfig, width: number, height: number): Promise<void> {
  const gpu = await getGpu();
  const total = cfg.scenes * Math.max(1, Math.round(cfg.seconds * cfg.fps));
  const bar = progress("synth", total, { quiet: opts.quiet || opts.json, format: "{scene}", payload: { scene: sceneId(0) } });
  let summary: SynthSummary;
  try {
    summary = await synthesize(gpu, cfg, (d, _t, scene) => bar.update(d, { scene }));
  } finally {
    bar.stop();
  }
  if (opts.json) printJson(summary);
  else if (!opts.quiet) {
    const o = summary.overlap1s;
    console.error(
      `wrote ${summary.scenes.length} scenes, ${summary.frames} frames (${width}x${height} @ ${cfg.fps} fps) to ${summary.out} ` +
        `in ${summary.seconds_elapsed.toFixed(1)} s (${summary.framesPerSecond.toFixed(1)} frames/s; video: ${summary.encoder ?? "none"})`,
    );
    console.error(`probe images: ${summary.probeImages.train} train, ${summary.probeImages.val} val`);
    console.error(
      `true overlap of frames 1 s apart: ${o.pairs} pairs, mean ${(100 * o.mean).toFixed(1)}%, ` +
        `in 50-75% band ${(100 * o.inBand).toFixed(0)}%, below ${(100 * o.below).toFixed(0)}%, above ${(100 * o.above).toFixed(0)}%`,
    );
  }
  process.exitCode = EXIT.ok;
}
