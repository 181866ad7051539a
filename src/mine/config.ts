// Mining configuration: one typed object, two named presets. The CLI parses flags into the same
// type; the effective config and its hash go into every record.

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../io/errors.js";

export interface MineConfig {
  /** Seconds between sampled frames (MIMIC: 1). */
  everySec: number;
  /** Working size: frames are resized to size x size (MIMIC: 224). */
  size: number;
  /** 'stretch' ignores the aspect ratio (MIMIC); 'center-crop' crops to a square first. */
  resize: "stretch" | "center-crop";
  /**
   * How frames reach size x size: 'area' is ffmpeg's anti-aliased swscale filter; 'opencv-linear'
   * decodes at the native size and resizes like MIMIC's cv2.resize (INTER_LINEAR on uint8, bit-exact).
   */
  scaler: "area" | "opencv-linear";
  /** SIFT's gray input: 'float' (unrounded) or 'u8' (rounded to 8 bits as cv2.cvtColor, which MIMIC feeds SIFT). */
  gray: "float" | "u8";
  /** Fraction of the frame height dropped at the bottom before resizing (MIMIC Mannequin: 0.2). */
  cropBottom: number;
  /** Keep at most this many SIFT features per frame, strongest first (0 = no cap). */
  maxFeatures: number;
  /**
   * SIFT doubles the image before its first octave (OpenCV's default, MIMIC). Off: a quarter of
   * the scale space, about 2x the mining throughput on lavapipe.
   */
  siftUpsample: boolean;
  /** SIFT's contrast threshold (OpenCV's default 0.04; lower keeps more, weaker keypoints). */
  siftContrast: number;
  /** Lowe ratio test threshold (MIMIC: 0.7). */
  ratio: number;
  /** Keep only mutual nearest neighbours. */
  mutual: boolean;
  /** A homography needs MORE than this many matches, else 'too-few-matches' (MIMIC: 10). */
  minMatches: number;
  /** RANSAC reprojection threshold in px at the working size (MIMIC: 5). */
  ransacThreshold: number;
  /** RANSAC confidence for adaptive stopping. */
  ransacConfidence: number;
  /** Upper bound on RANSAC hypotheses. */
  ransacMaxIters: number;
  /** Patch size in px at the working size (MIMIC: 16 -> 14x14 grid at 224). */
  patch: number;
  /**
   * Sample pixels per patch side voting for a patch's partner (1..16). MIMIC votes with 100 random
   * pixels, i.e. it estimates which partner covers most of the patch; patch (16) samples every
   * pixel, the deterministic value of that estimate; 4 is a coarse 4x4 grid with many tied votes.
   */
  patchSamples: number;
  /** 'mimic': MIMIC's recipe; 'improved': correspondences must be supported by inlier matches. */
  correspondence: "mimic" | "improved";
  /** Keep pairs with lower < overlap% < upper (MIMIC: 50, 75). */
  overlapLower: number;
  overlapUpper: number;
  /** Candidate pairs: consecutive samples (MIMIC), or each frame against the next `window` samples. */
  candidates: "consecutive" | "window";
  window: number;
  /** Reject frames whose variance of Laplacian (gray in [0,255]) is below this (0 = off). */
  minSharpness: number;
  /** Reject pairs whose inlier matches moved less than this many px (median; 0 = off). */
  minMotionPx: number;
  /** JPEG quality of the written frames (cv2.imwrite's default is 95). */
  jpegQuality: number;
  /** Seed for RANSAC sampling. */
  seed: number;
  /**
   * Frame rate of frame sequences whose file names are not timestamps (frame i at i / fps).
   * Absent in the presets (and then not part of the hash); videos carry their own timestamps.
   */
  fps?: number;
  /**
   * Accuracy-oriented homographies (docs/mining.md "Accurate homographies"): RootSIFT descriptors,
   * mutual nearest neighbours, a ratio test of at least 0.8, the GPU LO-MSAC RANSAC with at least 10000 hypotheses at confidence
   * >= 0.9999, and a Tukey-reweighted refinement. Absent in the presets (and then not part of the
   * hash), so their outputs do not change.
   */
  accurate?: boolean;
}

/** MIMIC's published recipe (datasets/*_multipro.py and constants.py in its repository). */
const mimic: MineConfig = {
  everySec: 1,
  size: 224,
  resize: "stretch",
  scaler: "opencv-linear",
  gray: "u8",
  cropBottom: 0,
  maxFeatures: 0,
  siftUpsample: true,
  siftContrast: 0.04,
  ratio: 0.7,
  mutual: false,
  minMatches: 10,
  ransacThreshold: 5,
  ransacConfidence: 0.995,
  ransacMaxIters: 2000,
  patch: 16,
  patchSamples: 16,
  correspondence: "mimic",
  overlapLower: 50,
  overlapUpper: 75,
  candidates: "consecutive",
  window: 1,
  minSharpness: 0,
  minMotionPx: 0,
  jpegQuality: 95,
  seed: 0,
};

/**
 * Our default: MIMIC's geometry plus mutual matching, supported correspondences, blur and static
 * filters, a window of partners; SIFT without the 2x upsampling and with a lower contrast threshold
 * (as many kept pairs of the same quality at twice the speed, see README "Mining").
 */
const improved: MineConfig = {
  ...mimic,
  scaler: "area",
  gray: "float",
  patchSamples: 4,
  maxFeatures: 2000,
  siftUpsample: false,
  siftContrast: 0.01,
  mutual: true,
  correspondence: "improved",
  candidates: "window",
  window: 3,
  minSharpness: 20,
  minMotionPx: 2,
};

export const minePresets = { mimic, default: improved } as const;
export type MinePresetName = keyof typeof minePresets;

/** Stable hash of a config: sha256 of its JSON with sorted keys, first 12 hex. */
export function configHash(cfg: MineConfig): string {
  const keys = Object.keys(cfg).sort() as Array<keyof MineConfig>;
  const canon = JSON.stringify(keys.map((k) => [k, cfg[k]]));
  return createHash("sha256").update(canon).digest("hex").slice(0, 12);
}

/** Check a config's values; throws naming the field. */
export function validateMineConfig(c: MineConfig): void {
  const bad = (field: string, why: string) => {
    throw new UsageError(`mine config: ${field} ${why}`); // a bad config is a bad argument: exit 2
  };
  if (!(c.everySec > 0)) bad("everySec", "must be > 0");
  if (!Number.isInteger(c.size) || c.size < 16) bad("size", "must be an integer >= 16");
  if (!Number.isInteger(c.patch) || c.patch < 1 || c.size % c.patch !== 0) bad("patch", `must divide size (${c.size})`);
  if (!Number.isInteger(c.patchSamples) || c.patchSamples < 1 || c.patchSamples > 16) bad("patchSamples", "must be an integer in 1..16");
  if (c.scaler !== "area" && c.scaler !== "opencv-linear") bad("scaler", "must be 'area' or 'opencv-linear'");
  if (c.gray !== "float" && c.gray !== "u8") bad("gray", "must be 'float' or 'u8'");
  if (!(c.cropBottom >= 0 && c.cropBottom < 1)) bad("cropBottom", "must be in [0, 1)");
  if (!(c.siftContrast > 0 && c.siftContrast < 1)) bad("siftContrast", "must be in (0, 1)");
  if (!(c.ratio > 0 && c.ratio <= 1)) bad("ratio", "must be in (0, 1]");
  if (!(c.overlapLower >= 0 && c.overlapLower < c.overlapUpper && c.overlapUpper <= 100))
    bad("overlapLower/overlapUpper", "must satisfy 0 <= lower < upper <= 100");
  if (!Number.isInteger(c.window) || c.window < 1) bad("window", "must be an integer >= 1");
  if (!(c.ransacConfidence > 0 && c.ransacConfidence < 1)) bad("ransacConfidence", "must be in (0, 1)");
  if (!(c.ransacThreshold > 0)) bad("ransacThreshold", "must be > 0");
  if (!Number.isInteger(c.ransacMaxIters) || c.ransacMaxIters < 1) bad("ransacMaxIters", "must be an integer >= 1");
  if (!(c.minSharpness >= 0)) bad("minSharpness", "must be >= 0");
  if (!(c.minMotionPx >= 0)) bad("minMotionPx", "must be >= 0");
  if (!(c.jpegQuality >= 1 && c.jpegQuality <= 100)) bad("jpegQuality", "must be in [1, 100]");
  if (c.fps !== undefined && !(c.fps > 0 && Number.isFinite(c.fps))) bad("fps", "must be > 0");
  if (c.accurate !== undefined && typeof c.accurate !== "boolean") bad("accurate", "must be true or false");
}

/**
 * The config a dataset was mined with: `<dataset>/config.json` (or that file's path). Throws an
 * Error naming the file when it is missing or is not a mined dataset's config.
 */
export function readMineConfig(datasetOrFile: string): { config: MineConfig; configHash: string; file: string } {
  const file =
    fs.existsSync(datasetOrFile) && fs.statSync(datasetOrFile).isDirectory() ? path.join(datasetOrFile, "config.json") : datasetOrFile;
  let parsed: { config?: MineConfig; configHash?: string };
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}. Fix: pass a mined dataset folder or its config.json`);
  }
  const config = parsed.config;
  if (!config || typeof config !== "object" || !("everySec" in config))
    throw new Error(`${file} has no mining config (a 'config' object). Fix: pass the config.json that 'mimic mine' wrote`);
  validateMineConfig(config);
  const hash = configHash(config);
  if (parsed.configHash && parsed.configHash !== hash)
    throw new Error(`${file}: its config hashes to ${hash}, not the recorded ${parsed.configHash} (edited, or written by another version)`);
  return { config, configHash: hash, file };
}
