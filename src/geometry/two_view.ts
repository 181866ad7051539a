// The two-view chain: features of two (or many pairs of) frames -> brute-force matches + ratio
// test (match/bf_match.wgsl) -> RANSAC homography (geometry/ransac_homography.wgsl + float64 LO
// refinement) -> patch correspondences (geometry/patch_corr.wgsl) -> overlap and MIMIC's 50-75%
// filter. Batched: all pairs' matching is one dispatch, RANSAC one dispatch per hypothesis batch
// for all pairs, and the correspondences one dispatch.
import type { Features, Matches } from "../contracts.js";
import { type Backend, type MatchConfig, type MatchInput, matchPairs, matchPresets } from "../match/matcher.js";
import {
  type CorrespondenceConfig,
  correspondencePresets,
  type InlierSupport,
  type PatchCorrespondence,
  patchCorrespondences,
} from "./correspondence.js";
import { mul3x3 } from "./homography.js";
import { opencvMatchOrder } from "./opencv_homography.js";
import { type HomographyResult, matchedPoints, type RansacConfig, ransacBatch, ransacPresets } from "./ransac.js";

export interface TwoViewConfig {
  /** Matching: ratio test and mutual check. */
  match: MatchConfig;
  /** RANSAC: threshold, minimum matches, confidence, LO refinement. */
  ransac: RansacConfig;
  /** Patch grid, correspondence mode and the accepted overlap range. */
  correspondence: CorrespondenceConfig;
}

export const twoViewPresets = {
  /** MIMIC's data curation: ratio 0.7, RANSAC 5 px with > 10 matches, MIMIC's patch recipe, 50-75%. */
  mimic: { match: matchPresets.mimic, ransac: ransacPresets.mimic, correspondence: correspondencePresets.mimic } satisfies TwoViewConfig,
  /** Mutual matches, confidence 0.999, correspondences that inlier matches support. */
  default: {
    match: matchPresets.default,
    ransac: ransacPresets.default,
    correspondence: correspondencePresets.default,
  } satisfies TwoViewConfig,
} as const;

/** Size (px) of the image a feature set's coordinates refer to. */
export interface ImageSize {
  width: number;
  height: number;
}

export interface TwoViewResult {
  features: { a: number; b: number };
  matches: Matches;
  homography: HomographyResult;
  /** H mapping view a to view b at the correspondence grid's size (null without a model). */
  Hgrid: Float64Array | null;
  /** Patch correspondences (null without a model). */
  correspondence: PatchCorrespondence | null;
}

/** H (a -> b in pixels of sizeA / sizeB) expressed at the grid size: S_b H S_a^-1. */
export function homographyAtGrid(H: ArrayLike<number>, sizeA: ImageSize, sizeB: ImageSize, grid: ImageSize): Float64Array {
  const sa = [sizeA.width / grid.width, 0, 0, 0, sizeA.height / grid.height, 0, 0, 0, 1];
  const sb = [grid.width / sizeB.width, 0, 0, 0, grid.height / sizeB.height, 0, 0, 0, 1];
  const G = mul3x3(sb, mul3x3(H, sa));
  return Float64Array.from(G, (v) => v / G[8]);
}

/**
 * The chain for many pairs of frames: feats[a] -> feats[b] for each (a, b). `sizes[i]` is the
 * image size of feats[i] (default: the grid size, i.e. features detected at 224 x 224).
 */
export async function twoViewBatch(
  backend: Backend,
  /** Descriptors on the host, or all in one feature store (matched in place on its GPU). */
  feats: MatchInput[],
  pairs: ReadonlyArray<readonly [number, number]>,
  cfg: TwoViewConfig = twoViewPresets.default,
  sizes?: ImageSize[],
  /** Adds the seconds spent in each stage (match, ransac, correspondences) when given. */
  timings?: Record<string, number>,
): Promise<TwoViewResult[]> {
  const grid = { width: cfg.correspondence.width, height: cfg.correspondence.height };
  let t = performance.now();
  const lap = (stage: string) => {
    const now = performance.now();
    if (timings) timings[stage] = (timings[stage] ?? 0) + (now - t) / 1e3;
    t = now;
  };
  const raw = await matchPairs(backend, feats, pairs, cfg.match);
  // cv2.findHomography's subsets depend on the order of the matches: give it OpenCV's
  const matches = cfg.ransac.mode === "opencv" ? raw.map((m, i) => opencvMatchOrder(feats[pairs[i][0]], m)) : raw;
  const probs = pairs.map(([a, b], i) => matchedPoints(feats[a], feats[b], matches[i]));
  lap("match");
  const fits = await ransacBatch(backend, probs, cfg.ransac);
  lap("ransac");
  const withModel: number[] = [];
  const Hs: Float64Array[] = [];
  const support: InlierSupport[] = [];
  fits.forEach((f, i) => {
    if (f.kind !== "model") return;
    const [a, b] = pairs[i];
    const sa = sizes?.[a] ?? grid;
    const sb = sizes?.[b] ?? grid;
    withModel.push(i);
    Hs.push(homographyAtGrid(f.fit.H, sa, sb, grid));
    // inlier points at the grid's scale
    const xa = Float32Array.from(probs[i].xa, (v, k) => (k % 2 ? (v * grid.height) / sa.height : (v * grid.width) / sa.width));
    const xb = Float32Array.from(probs[i].xb, (v, k) => (k % 2 ? (v * grid.height) / sb.height : (v * grid.width) / sb.width));
    support.push({ xa, xb, inliers: f.fit.inliers });
  });
  const corr = withModel.length ? await patchCorrespondences(backend, Hs, cfg.correspondence, support) : [];
  lap("correspondences");
  return pairs.map(([a, b], i) => {
    const k = withModel.indexOf(i);
    return {
      features: { a: feats[a].count, b: feats[b].count },
      matches: matches[i],
      homography: fits[i],
      Hgrid: k >= 0 ? Hs[k] : null,
      correspondence: k >= 0 ? corr[k] : null,
    };
  });
}

/** The chain for one pair: featsA -> featsB (sizes: the images the features were detected on). */
export async function twoView(
  backend: Backend,
  featsA: Features,
  featsB: Features,
  cfg: TwoViewConfig = twoViewPresets.default,
  sizes?: { a: ImageSize; b: ImageSize },
): Promise<TwoViewResult> {
  return (await twoViewBatch(backend, [featsA, featsB], [[0, 1]], cfg, sizes ? [sizes.a, sizes.b] : undefined))[0];
}
