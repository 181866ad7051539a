// The probe losses on the CPU: plain loops in float64, run by the probe's CPU trainer and the
// oracle for the GPU kernels of the training engine (src/ref/probe/losses.ts re-exports them; same
// argument order: inputs, outputs, sizes, params). Forward returns the loss
// and the activations backward needs; backward ACCUMULATES (+=) into the gradient buffer.
//
// Depth: scale-invariant log loss (Eigen, Puhrsch, Fergus, NIPS 2014, eq. 4), per image b over its
//   valid pixels (gt > 0 and gt <= maxDepth), d_i = predLog_i - ln gt_i, n_b valid pixels:
//     L_b = (1/n_b) sum d_i^2 - (lambda/n_b^2) (sum d_i)^2
//   and the batch loss is the mean of L_b over the images with n_b > 0.
//   lambda = 0.5 is Eigen et al.'s training value: lambda = 1 is fully scale-invariant (it leaves the
//   global scale free, so absolute-depth metrics such as RMSE would be unconstrained), lambda = 0 is
//   plain L2 on log depth; 0.5 keeps the scale-invariant term dominant while still anchoring the
//   scale, which is what the metric-depth probe needs.  (BTS uses 10*sqrt(...) with lambda = 0.85,
//   pooled over the batch; that is a different loss and not this twin.)
//   The head predicts LOG depth (predLog, unconstrained); depth in metres = exp(predLog).
//   dL/dpredLog_bi = (1/B_valid) (2 d_i / n_b - 2 lambda S_b / n_b^2),  S_b = sum_i d_i.
//
// Segmentation: softmax cross-entropy over channel-last logits (P, C) with an ignore index, mean
//   over the non-ignored pixels (PyTorch's F.cross_entropy(reduction="mean", ignore_index=255)):
//     L = (1/n_valid) sum_{p valid} -ln softmax(logits_p)[t_p]
//   dL/dlogits_pc = (softmax_pc - [c = t_p]) / n_valid for valid p, 0 for ignored p.

type Grad = Float32Array | Float64Array;

/** Eigen et al.'s lambda. */
export const SILOG_LAMBDA = 0.5;

export interface SiLogActs {
  B: number;
  N: number;
  lambda: number;
  /** (B, N) d = predLog - ln gt at valid pixels, 0 elsewhere */
  d: Float64Array;
  /** (B, N) 1 where the pixel is valid */
  valid: Uint8Array;
  /** (B) valid pixels per image */
  count: Float64Array;
  /** (B) sum of d per image */
  sum: Float64Array;
  /** images with at least one valid pixel */
  imagesValid: number;
}

/**
 * Scale-invariant log loss. predLog: (B, N) predicted log depth; gt: (B, N) depth in metres, <= 0
 * (or > maxDepth) = no data. Returns the batch loss (0 when no image has a valid pixel).
 */
export function siLogForward(
  predLog: ArrayLike<number>,
  gt: ArrayLike<number>,
  B: number,
  N: number,
  lambda = SILOG_LAMBDA,
  maxDepth = Number.POSITIVE_INFINITY,
): { loss: number; perImage: Float64Array; acts: SiLogActs } {
  if (predLog.length !== B * N || gt.length !== B * N)
    throw new Error(`siLog: predLog has ${predLog.length} and gt ${gt.length} values, expected B*N = ${B}*${N}`);
  const d = new Float64Array(B * N);
  const valid = new Uint8Array(B * N);
  const count = new Float64Array(B);
  const sum = new Float64Array(B);
  const perImage = new Float64Array(B);
  let imagesValid = 0;
  let total = 0;
  for (let b = 0; b < B; b++) {
    let sq = 0;
    for (let i = 0; i < N; i++) {
      const k = b * N + i;
      const g = gt[k];
      if (!(g > 0 && g <= maxDepth)) continue;
      const di = predLog[k] - Math.log(g);
      d[k] = di;
      valid[k] = 1;
      count[b]++;
      sum[b] += di;
      sq += di * di;
    }
    const n = count[b];
    if (n === 0) continue;
    perImage[b] = sq / n - (lambda * sum[b] * sum[b]) / (n * n);
    total += perImage[b];
    imagesValid++;
  }
  const loss = imagesValid ? total / imagesValid : 0;
  return { loss, perImage, acts: { B, N, lambda, d, valid, count, sum, imagesValid } };
}

/** dpredLog (B, N) += dloss * dL/dpredLog. */
export function siLogBackward(acts: SiLogActs, dloss: number, dpredLog: Grad): void {
  const { B, N, lambda, d, valid, count, sum, imagesValid } = acts;
  if (dpredLog.length !== B * N) throw new Error(`siLog backward: dpredLog has ${dpredLog.length} values, expected ${B * N}`);
  if (imagesValid === 0) return;
  for (let b = 0; b < B; b++) {
    const n = count[b];
    if (n === 0) continue;
    const shared = (2 * lambda * sum[b]) / (n * n);
    for (let i = 0; i < N; i++) {
      const k = b * N + i;
      if (valid[k]) dpredLog[k] += (dloss * ((2 * d[k]) / n - shared)) / imagesValid;
    }
  }
}

export interface CrossEntropyActs {
  P: number;
  C: number;
  ignoreIndex: number;
  /** (P, C) softmax probabilities */
  probs: Float64Array;
  /** (P) targets */
  targets: ArrayLike<number>;
  /** non-ignored pixels */
  valid: number;
  /** per-class loss weights, or null (every pixel counts 1) */
  weights: ArrayLike<number> | null;
  /** the loss's denominator: the non-ignored pixels' summed weights (= valid when unweighted) */
  norm: number;
}

/**
 * Softmax cross-entropy with an ignore index. logits: (P, C) channel-last; targets: (P) class
 * indices 0..C-1 or ignoreIndex. Returns the mean over non-ignored pixels (0 if none); with class
 * weights w (C), the weighted mean sum_p w[t_p] nll_p / sum_p w[t_p] (PyTorch's
 * F.cross_entropy(weight=w, reduction="mean")).
 */
export function crossEntropyForward(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  P: number,
  C: number,
  ignoreIndex = 255,
  weights: ArrayLike<number> | null = null,
): { loss: number; acts: CrossEntropyActs } {
  if (weights && weights.length !== C) throw new Error(`crossEntropy: ${weights.length} class weights, expected ${C}`);
  if (logits.length !== P * C || targets.length !== P)
    throw new Error(
      `crossEntropy: logits has ${logits.length} values (expected P*C = ${P}*${C}), targets ${targets.length} (expected ${P})`,
    );
  const probs = new Float64Array(P * C);
  let valid = 0;
  let total = 0;
  let norm = 0;
  for (let p = 0; p < P; p++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[p * C + c]);
    let z = 0;
    for (let c = 0; c < C; c++) z += probs[p * C + c] = Math.exp(logits[p * C + c] - max);
    for (let c = 0; c < C; c++) probs[p * C + c] /= z;
    const t = targets[p];
    if (t === ignoreIndex) continue;
    if (!(Number.isInteger(t) && t >= 0 && t < C))
      throw new Error(`crossEntropy: target ${t} at pixel ${p} is not in 0..${C - 1} nor the ignore index ${ignoreIndex}`);
    // -ln softmax_t = ln z + max - logit_t (stable)
    const w = weights ? weights[t] : 1;
    total += w * (Math.log(z) + max - logits[p * C + t]);
    norm += w;
    valid++;
  }
  return { loss: norm > 0 ? total / norm : 0, acts: { P, C, ignoreIndex, probs, targets, valid, weights, norm } };
}

/** dlogits (P, C) += dloss * dL/dlogits. */
export function crossEntropyBackward(acts: CrossEntropyActs, dloss: number, dlogits: Grad): void {
  const { P, C, ignoreIndex, probs, targets, weights, norm } = acts;
  if (dlogits.length !== P * C) throw new Error(`crossEntropy backward: dlogits has ${dlogits.length} values, expected ${P * C}`);
  if (!(norm > 0)) return;
  for (let p = 0; p < P; p++) {
    const t = targets[p];
    if (t === ignoreIndex) continue;
    const s = (dloss * (weights ? weights[t] : 1)) / norm;
    for (let c = 0; c < C; c++) dlogits[p * C + c] += s * (probs[p * C + c] - (c === t ? 1 : 0));
  }
}
