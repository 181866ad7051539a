// `mimic match <image1> <image2>`: the two-view chain on two image files (SIFT -> matches ->
// RANSAC homography -> patch correspondences), to debug why a pair was kept or rejected.
// Thin: parses flags into a TwoViewConfig and calls the library.
import fs from "node:fs";
import { Command } from "commander";
import sharp from "sharp";
import { siftPresets } from "../features/config.js";
import { detectAndDescribe } from "../features/sift.js";
import { type TwoViewConfig, type TwoViewResult, twoView, twoViewPresets } from "../geometry/two_view.js";
import { drawTwoView } from "../geometry/viz.js";
import { getGpu } from "../gpu/device.js";
import { rgbToGrayCpu } from "../image/cpu.js";
import { readRgb, writePng } from "../image/io.js";
import { EXIT, printJson, UsageError } from "./common.js";

interface MatchFlags {
  size: string;
  preset: string;
  json?: boolean;
  viz?: string;
}

async function load(file: string, size: "224" | "native", grid: number) {
  if (!fs.existsSync(file)) throw new UsageError(`image not found: ${file}`);
  const img = await readRgb(file);
  if (size === "native") return img;
  // MIMIC: cv2.resize(img, (224, 224)) - aspect ratio not kept, bilinear
  const { data } = await sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(grid, grid, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: grid, height: grid, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** The JSON summary `mimic match --json` prints. */
export function summary(r: TwoViewResult, files: [string, string], size: string, preset: string) {
  const h = r.homography;
  return {
    images: files,
    size,
    preset,
    features: r.features,
    matches: r.matches.count,
    model: h.kind === "model",
    reason: h.kind === "none" ? h.reason : undefined,
    inliers: h.kind === "model" ? h.fit.numInliers : 0,
    hypotheses: h.hypotheses,
    H: h.kind === "model" ? Array.from(h.fit.H) : null,
    Hgrid: r.Hgrid ? Array.from(r.Hgrid) : null,
    overlap: r.correspondence?.overlap ?? 0,
    stored: r.correspondence?.map.size ?? 0,
    accepted: r.correspondence?.accepted ?? false,
    correspondence: r.correspondence ? Object.fromEntries(r.correspondence.map) : {},
  };
}

export function matchCommand(): Command {
  return new Command("match")
    .description("match two images: SIFT, ratio test, RANSAC homography, patch correspondences and overlap")
    .argument("<image1>", "first image (JPEG/PNG)")
    .argument("<image2>", "second image")
    .option("--size <size>", "working size: 224 (resize both to 224x224 as MIMIC does) or native", "224")
    .option("--preset <name>", "mimic (MIMIC's recipe) or default (mutual matches, supported correspondences)", "default")
    .option("--json", "print one JSON object")
    .option("--viz <out.png>", "draw matches and mapped patches side by side")
    .action(async (file1: string, file2: string, flags: MatchFlags) => {
      if (flags.size !== "224" && flags.size !== "native") throw new UsageError(`--size must be 224 or native, got '${flags.size}'`);
      if (!(flags.preset in twoViewPresets))
        throw new UsageError(`--preset must be one of ${Object.keys(twoViewPresets).join(", ")}, got '${flags.preset}'`);
      const cfg: TwoViewConfig = twoViewPresets[flags.preset as keyof typeof twoViewPresets];
      const grid = cfg.correspondence.width;
      const gpu = await getGpu();
      const [a, b] = [await load(file1, flags.size, grid), await load(file2, flags.size, grid)];
      const fa = await detectAndDescribe(gpu, rgbToGrayCpu(a.rgb, a.width * a.height), a.width, a.height, siftPresets.opencv);
      const fb = await detectAndDescribe(gpu, rgbToGrayCpu(b.rgb, b.width * b.height), b.width, b.height, siftPresets.opencv);
      const r = await twoView(gpu, fa, fb, cfg, { a, b });
      const s = summary(r, [file1, file2], flags.size, flags.preset);
      if (flags.viz) {
        const pic = drawTwoView(a, b, fa, fb, r, { width: grid, height: cfg.correspondence.height, patch: cfg.correspondence.patch });
        await writePng(flags.viz, pic.width, pic.height, pic.rgb, 3);
      }
      if (flags.json) printJson(s);
      else {
        const f = (v: number) => v.toFixed(4);
        console.log(
          `features   ${s.features.a} / ${s.features.b}  (${flags.size === "224" ? "224x224" : `${a.width}x${a.height} / ${b.width}x${b.height}`})`,
        );
        console.log(`matches    ${s.matches} (ratio ${cfg.match.ratio}${cfg.match.mutual ? ", mutual" : ""})`);
        if (!s.model) console.log(`homography none: ${s.reason} (needs > ${cfg.ransac.minMatches} matches and a non-degenerate sample)`);
        else {
          console.log(`inliers    ${s.inliers} (${cfg.ransac.threshold} px, ${s.hypotheses} hypotheses)`);
          const Hm = s.H as number[];
          console.log(`H (image 1 -> image 2, px at the working size)`);
          for (let i = 0; i < 3; i++)
            console.log(
              `           ${Hm.slice(3 * i, 3 * i + 3)
                .map(f)
                .join("  ")}`,
            );
          console.log(
            `overlap    ${(100 * s.overlap).toFixed(1)}% of ${grid / cfg.correspondence.patch}x${grid / cfg.correspondence.patch} patches -> ${s.accepted ? "kept" : "rejected"} (range ${cfg.correspondence.overlapRange[0]}..${cfg.correspondence.overlapRange[1]}%)`,
          );
          const entries = Object.entries(s.correspondence);
          console.log(
            `correspondence (patch 1 -> patch 2): ${entries
              .slice(0, 24)
              .map(([k, v]) => `${k}:${v}`)
              .join(" ")}${entries.length > 24 ? " ..." : ""}`,
          );
        }
        if (flags.viz) console.log(`wrote ${flags.viz}`);
      }
      process.exitCode = EXIT.ok;
    });
}
