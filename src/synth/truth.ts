// True patch correspondences between two rendered views, from depth and poses.
//
// For each patch of view 1 (the mining grid: the image resized to `grid.size` squared, patches of
// `grid.patch` pixels, index row-major from the top-left, so 14x14 = 196 at 224/16), take
// samples x samples pixels spread over the patch (their pixel centres in the full-resolution
// image), unproject each with view 1's depth and pose, project into view 2, and keep it when it
// lands inside view 2, in front of the camera, and passes the depth test against view 2's depth
// at that pixel (|z2 - depth2| <= tolAbs + tolRel * z2, i.e. not occluded). A patch's partner is the
// view-2 patch that most of its kept samples fall in; the patch is valid when at least
// `minValid` of its samples were kept. The true overlap is the fraction of valid view-1 patches
// (the same definition as the mined `overlap`).
import type { Intrinsics } from "./camera.js";
import { invertRigid, mul4 } from "./camera.js";

export interface PatchGrid {
  /** Side of the square image the mining stage resizes frames to (224). */
  size: number;
  /** Patch side in pixels of that image (16). */
  patch: number;
  /**
   * The part of the frame (pixels) that the mining stage resizes to size x size; default the whole
   * frame ('stretch'). For 'center-crop' or a bottom crop pass the crop rectangle (cropRegion()).
   */
  region?: { x: number; y: number; w: number; h: number };
}

/**
 * The frame rectangle the miner resizes (same rule as video/decode.ts cropRect): drop `cropBottom`
 * of the height, then for 'center-crop' cut the centred square.
 */
export function cropRegion(width: number, height: number, cropBottom = 0, resize: "stretch" | "center-crop" = "stretch") {
  let x = 0;
  let y = 0;
  let w = width;
  let h = height - Math.round(height * cropBottom);
  if (resize === "center-crop") {
    if (w > h) {
      x += (w - h) >> 1;
      w = h;
    } else {
      y += (h - w) >> 1;
      h = w;
    }
  }
  return { x, y, w, h };
}

const regionOf = (grid: PatchGrid, width: number, height: number) => grid.region ?? { x: 0, y: 0, w: width, h: height };

export const MINING_GRID: PatchGrid = { size: 224, patch: 16 };

export interface TruthOptions {
  grid: PatchGrid;
  /** Samples per patch side (samples^2 per patch). */
  samples: number;
  /** Fraction of a patch's samples that must be visible in view 2 for the patch to count. */
  minValid: number;
  /** Depth test tolerance: absolute metres plus relative to the reprojected depth. */
  tolAbs: number;
  tolRel: number;
}

export const DEFAULT_TRUTH: TruthOptions = { grid: MINING_GRID, samples: 4, minValid: 0.5, tolAbs: 0.02, tolRel: 0.02 };

export interface TruthView {
  K: Intrinsics;
  /** World-from-camera (row-major 4x4, OpenCV axes). */
  worldFromCam: ArrayLike<number>;
  /** Depth (H, W): camera-space z in metres; <= 0 where unknown. */
  depth: ArrayLike<number>;
}

export interface TrueCorrespondence {
  /** Patch in view 1 -> majority patch in view 2, for valid patches only (PairRecord format). */
  correspondence: Record<number, number>;
  /** Fraction of view-1 patches with a valid partner (0..1). */
  overlap: number;
  /** (N) partner patch per view-1 patch, -1 when invalid. */
  partner: Int32Array;
  /** (N) fraction of each patch's samples visible in view 2. */
  visible: Float32Array;
}

export interface Reprojection {
  /** Continuous pixel position in view 2 (u right, v down; pixel centres at +0.5). */
  u: number;
  v: number;
  /** Depth of the point in view 2's camera. */
  z: number;
  /** Inside view 2, in front of it, and not occluded. */
  visible: boolean;
}

/** Precomputed view-1 -> view-2 transform (camera 1 coordinates -> camera 2 coordinates). */
export function relativePose(a: TruthView, b: TruthView): number[] {
  return mul4(invertRigid(b.worldFromCam), a.worldFromCam);
}

/** Reproject the pixel-centre point (u, v) of view a (with its depth) into view b. */
export function reprojectPixel(
  a: TruthView,
  b: TruthView,
  u: number,
  v: number,
  opts: TruthOptions = DEFAULT_TRUTH,
  T = relativePose(a, b),
): Reprojection {
  const Wa = a.K.width;
  const x = Math.floor(u);
  const y = Math.floor(v);
  const d = x >= 0 && y >= 0 && x < Wa && y < a.K.height ? a.depth[y * Wa + x] : 0;
  if (!(d > 0)) return { u: Number.NaN, v: Number.NaN, z: 0, visible: false };
  const X = ((u - a.K.cx) / a.K.fx) * d;
  const Y = ((v - a.K.cy) / a.K.fy) * d;
  const Z = d;
  const x2 = T[0] * X + T[1] * Y + T[2] * Z + T[3];
  const y2 = T[4] * X + T[5] * Y + T[6] * Z + T[7];
  const z2 = T[8] * X + T[9] * Y + T[10] * Z + T[11];
  if (!(z2 > 1e-6)) return { u: Number.NaN, v: Number.NaN, z: z2, visible: false };
  const u2 = (b.K.fx * x2) / z2 + b.K.cx;
  const v2 = (b.K.fy * y2) / z2 + b.K.cy;
  const px = Math.floor(u2);
  const py = Math.floor(v2);
  if (px < 0 || py < 0 || px >= b.K.width || py >= b.K.height) return { u: u2, v: v2, z: z2, visible: false };
  const db = b.depth[py * b.K.width + px];
  const visible = db > 0 && Math.abs(db - z2) <= opts.tolAbs + opts.tolRel * z2;
  return { u: u2, v: v2, z: z2, visible };
}

/** The grid's patch count per side. */
export function gridSide(grid: PatchGrid): number {
  if (grid.size % grid.patch !== 0) throw new Error(`patch grid: size ${grid.size} is not a multiple of patch ${grid.patch}`);
  return grid.size / grid.patch;
}

/**
 * The patch index (row-major) containing continuous pixel (u, v) of a width x height image, or -1
 * when (u, v) lies outside the grid's region.
 */
export function patchAt(u: number, v: number, width: number, height: number, grid: PatchGrid = MINING_GRID): number {
  const n = gridSide(grid);
  const r = regionOf(grid, width, height);
  const fu = (u - r.x) / r.w;
  const fv = (v - r.y) / r.h;
  if (!(fu >= 0 && fu < 1 && fv >= 0 && fv < 1)) return -1;
  const col = Math.min(n - 1, Math.floor(fu * n));
  const row = Math.min(n - 1, Math.floor(fv * n));
  return row * n + col;
}

/** Pixel centres sampled in patch p of a width x height image (samples^2 points). */
export function patchSamples(p: number, width: number, height: number, opts: TruthOptions = DEFAULT_TRUTH): [number, number][] {
  const n = gridSide(opts.grid);
  const row = Math.floor(p / n);
  const col = p % n;
  const out: [number, number][] = [];
  const s = opts.samples;
  const r = regionOf(opts.grid, width, height);
  for (let j = 0; j < s; j++)
    for (let i = 0; i < s; i++) {
      const u = r.x + ((col + (i + 0.5) / s) / n) * r.w;
      const v = r.y + ((row + (j + 0.5) / s) / n) * r.h;
      out.push([Math.floor(u) + 0.5, Math.floor(v) + 0.5]);
    }
  return out;
}

/** True patch correspondences from view a to view b and the true overlap. */
export function trueCorrespondence(a: TruthView, b: TruthView, opts: TruthOptions = DEFAULT_TRUTH): TrueCorrespondence {
  const n = gridSide(opts.grid);
  const N = n * n;
  const T = relativePose(a, b);
  const partner = new Int32Array(N).fill(-1);
  const visible = new Float32Array(N);
  const correspondence: Record<number, number> = {};
  const votes = new Map<number, number>();
  let valid = 0;
  for (let p = 0; p < N; p++) {
    votes.clear();
    const pts = patchSamples(p, a.K.width, a.K.height, opts);
    let kept = 0;
    for (const [u, v] of pts) {
      const r = reprojectPixel(a, b, u, v, opts, T);
      if (!r.visible) continue;
      const q = patchAt(r.u, r.v, b.K.width, b.K.height, opts.grid);
      if (q < 0) continue; // visible in view 2 but outside its mined crop
      kept++;
      votes.set(q, (votes.get(q) ?? 0) + 1);
    }
    visible[p] = kept / pts.length;
    if (kept > 0 && visible[p] >= opts.minValid) {
      let best = -1;
      let bestVotes = -1;
      for (const [q, c] of votes) if (c > bestVotes || (c === bestVotes && q < best)) [best, bestVotes] = [q, c];
      partner[p] = best;
      correspondence[p] = best;
      valid++;
    }
  }
  return { correspondence, overlap: valid / N, partner, visible };
}

/** Whether an overlap fraction lies in the MIMIC band [lo, hi] (default 0.5..0.75). */
export const inBand = (overlap: number, lo = 0.5, hi = 0.75): boolean => overlap >= lo && overlap <= hi;
