// `mimic match <image1> <image2>`: the mining decision for two image files, taken exactly as
// `mimic mine` takes it (src/mine/verify.ts): frames at the working size as a frame folder's are
// read, gray + sharpness + SIFT, matches, RANSAC homography, patch correspondences, filters.
// --preset or --config <dataset>/config.json pick the config. Thin: parses flags, calls the library.

import fs from "node:fs";
import { Command, Option } from "commander";
import type { Features } from "../contracts.js";
import { createFeatureStore } from "../features/store.js";
import { drawTwoView } from "../geometry/viz.js";
import { getGpu } from "../gpu/device.js";
import { writePng } from "../image/io.js";
import { outsideInputs } from "../io/outdir.js";
import { configHash, type MineConfig, type MinePresetName, minePresets, readMineConfig } from "../mine/config.js";
import { describeBatch, isBlurry, loadWorkingFrame, stageConfigs, type Verdict, verifyPairs } from "../mine/verify.js";
import { EXIT, outFlag, printJson, UsageError } from "./common.js";

interface MatchFlags {
  preset: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
  viz?: string;
  accurate?: boolean;
}

/** The JSON summary `mimic match --json` prints. */
export function summary(
  v: Verdict,
  feats: [Omit<Features, "desc">, Omit<Features, "desc">],
  sharpness: [number, number],
  files: [string, string],
  cfg: MineConfig,
  from: { preset?: string; config?: string },
) {
  const r = v.tv;
  const h = r.homography;
  return {
    images: files,
    ...from,
    configHash: configHash(cfg),
    size: cfg.size,
    features: { a: feats[0].count, b: feats[1].count },
    sharpness: { a: sharpness[0], b: sharpness[1] },
    matches: r.matches.count,
    model: h.kind === "model",
    homography: h.kind === "none" ? h.reason : "model",
    inliers: h.kind === "model" ? h.fit.numInliers : 0,
    hypotheses: h.hypotheses,
    H: h.kind === "model" ? Array.from(h.fit.H) : null,
    Hgrid: r.Hgrid ? Array.from(r.Hgrid) : null,
    /** The mining decision: kept (reason null) or the reason mine records in candidates.jsonl. */
    kept: v.reason === null,
    reason: v.reason,
    overlap: v.overlap,
    stored: r.correspondence?.map.size ?? 0,
    correspondence: r.correspondence ? Object.fromEntries(r.correspondence.map) : {},
  };
}

/** The config from --config (a dataset folder or its config.json) or --preset. */
function pickConfig(flags: MatchFlags): { cfg: MineConfig; from: { preset?: string; config?: string } } {
  if (flags.config) {
    try {
      const c = readMineConfig(flags.config);
      return { cfg: c.config, from: { config: c.file } };
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return { cfg: minePresets[flags.preset as MinePresetName], from: { preset: flags.preset } };
}

/** --accurate on top of the picked config (MineConfig.accurate; a config that has it keeps it). */
function withAccurate(picked: ReturnType<typeof pickConfig>, accurate: boolean | undefined): ReturnType<typeof pickConfig> {
  return accurate ? { ...picked, cfg: { ...picked.cfg, accurate: true } } : picked;
}

export function matchCommand(): Command {
  return new Command("match")
    .description("the mining decision for two images (as 'mimic mine' takes it): SIFT, matches, RANSAC homography, overlap, filters")
    .argument("<image1>", "first image (JPEG/PNG)")
    .argument("<image2>", "second image")
    .addOption(new Option("--preset <name>", "mining preset whose decision to give").choices(Object.keys(minePresets)).default("default"))
    .option("--config <dataset>", "a mined dataset (or its config.json): give the decision with its config (overrides --preset)")
    .option("--json", "print one JSON object on stdout")
    .option("--quiet", "no progress or summary on stderr (errors still print)")
    .option("--viz <out.png>", "draw matches and mapped patches side by side")
    .option(
      "--accurate",
      "accuracy-oriented homography (mine's --accurate true): RootSIFT, mutual matches, ratio >= 0.8, GPU LO-MSAC with >= 10000 hypotheses, reweighted refinement",
    )
    .action(async (file1: string, file2: string, flags: MatchFlags) => {
      const { cfg, from } = withAccurate(pickConfig(flags), flags.accurate);
      for (const f of [file1, file2]) if (!fs.existsSync(f)) throw new UsageError(`image not found: ${f}`);
      if (flags.viz !== undefined) outsideInputs(outFlag(flags.viz, "viz"), [file1, file2], "--viz"); // the picture never replaces an image
      const stages = stageConfigs(cfg);
      const gpu = await getGpu();
      const load = (f: string) =>
        loadWorkingFrame(f, cfg).catch((e: unknown) => {
          throw new UsageError(`${f}: cannot decode it (${(e as Error).message}). Fix: pass a JPEG or PNG image`);
        });
      const frames = [await load(file1), await load(file2)];
      // The frames' descriptors stay on the GPU, in a feature store, as in mine.
      const store = createFeatureStore(gpu, { rootSift: Boolean(stages.twoView.match.rootSift) });
      const d = await describeBatch(gpu, frames, cfg.size, stages.sift, cfg.gray, store);
      const [verdict] = await verifyPairs(gpu, d.feats, [[0, 1]], cfg, stages);
      // mine never verifies a pair with a blurry frame; its candidates.jsonl does not list it.
      const v: Verdict = isBlurry(d.sharp[0], cfg) || isBlurry(d.sharp[1], cfg) ? { ...verdict, reason: "blurry-frame" } : verdict;
      const s = summary(v, [d.feats[0], d.feats[1]], [d.sharp[0], d.sharp[1]], [file1, file2], cfg, from);
      if (flags.viz) {
        const pic = drawTwoView(frames[0], frames[1], d.feats[0], d.feats[1], v.tv, {
          width: cfg.size,
          height: cfg.size,
          patch: cfg.patch,
        });
        await writePng(flags.viz, pic.width, pic.height, pic.rgb, 3);
      }
      if (flags.json) printJson(s);
      else if (!flags.quiet) {
        const f = (x: number) => x.toFixed(4);
        const grid = cfg.size / cfg.patch;
        console.error(`config     ${from.config ?? `preset ${from.preset}`} (${s.configHash}), ${cfg.size}x${cfg.size}`);
        console.error(`features   ${s.features.a} / ${s.features.b}; sharpness ${s.sharpness.a.toFixed(1)} / ${s.sharpness.b.toFixed(1)}`);
        const m = stages.twoView.match;
        console.error(`matches    ${s.matches} (ratio ${m.ratio}${m.mutual ? ", mutual" : ""}${m.rootSift ? ", RootSIFT" : ""})`);
        if (!s.model) console.error(`homography none: ${s.homography} (needs > ${cfg.minMatches} matches and a non-degenerate sample)`);
        else {
          console.error(`inliers    ${s.inliers} (${cfg.ransacThreshold} px, ${s.hypotheses} hypotheses)`);
          const Hm = s.H as number[];
          console.error("H (image 1 -> image 2, px at the working size)");
          for (let i = 0; i < 3; i++)
            console.error(
              `           ${Hm.slice(3 * i, 3 * i + 3)
                .map(f)
                .join("  ")}`,
            );
          console.error(
            `overlap    ${(100 * (s.overlap ?? 0)).toFixed(1)}% of ${grid}x${grid} patches (band ${cfg.overlapLower}..${cfg.overlapUpper}%)`,
          );
          const entries = Object.entries(s.correspondence);
          console.error(
            `correspondence (patch 1 -> patch 2): ${entries
              .slice(0, 24)
              .map(([k, x]) => `${k}:${x}`)
              .join(" ")}${entries.length > 24 ? " ..." : ""}`,
          );
        }
        console.error(`decision   ${s.kept ? "kept" : `rejected: ${s.reason}`}`);
        if (s.kept && cfg.candidates === "window")
          console.error(
            "           (window mode: mine keeps, per frame, the in-band partner nearest the band's middle; the others are 'window-not-best')",
          );
        if (flags.viz) console.error(`wrote ${flags.viz}`);
      }
      process.exitCode = EXIT.ok;
    });
}
