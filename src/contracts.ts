// The typed values passed between stages. Stages exchange only
// these; shapes are in the comments, arrays row-major.

/** One decoded video frame. */
export interface Frame {
  videoId: string;
  index: number;
  /** Real presentation time of the decoded frame, seconds. */
  ptsSec: number;
  width: number;
  height: number;
  rgb: Uint8Array; // (H, W, 3)
}

/** SIFT features of one image. */
export interface Features {
  count: number;
  xy: Float32Array; // (N, 2) px
  scale: Float32Array; // (N)
  angle: Float32Array; // (N)
  desc: Float32Array; // (N, 128) L2-normalised
}

/** Putative matches between two feature sets (a -> b). */
export interface Matches {
  count: number;
  idx: Uint32Array; // (M, 2)
  ratio: Float32Array; // (M)
}

/** A homography fitted by RANSAC. */
export interface HomographyFit {
  H: Float64Array; // (3, 3) row-major, a -> b
  inliers: Uint8Array; // (M)
  numInliers: number;
}

/** One mined pair, as written to pairs.jsonl. */
export interface PairRecord {
  id: string;
  source: string;
  video: string;
  t1: number;
  t2: number;
  path1: string;
  path2: string;
  H: number[];
  inliers: number;
  overlap: number;
  /** patch in view 1 -> patch in view 2 */
  correspondence: Record<number, number>;
}
