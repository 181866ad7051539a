// Masking for MIM: MAE's seeded per-sample random masking and an explicit mask (a list of masked
// patch indices, row-major from the top-left patch), e.g. from `mimic reconstruct --mask mask.json`.
//
// Per-sample random masking as MAE does it (random_masking in models_mae.py): uniform noise per
// patch, argsort ascending (small = keep), keep the first len_keep = int(L * (1 - ratio)), ids_restore
// = argsort(ids_shuffle), mask (1 = removed) in the original patch order. Noise comes from
// Pcg32(seed, stream0 + b) for sample b (L floats each), so a GPU kernel with one invocation per
// sample draws the same noise. Ties (equal 24-bit floats) break by patch index (stable sort).

import { Pcg32 } from "../prng.js";

export interface Masking {
  batch: number;
  /** Patches per sample. */
  L: number;
  /** Visible patches per sample. */
  keep: number;
  /** (B, keep) patch indices fed to the encoder, in shuffle order. */
  idsKeep: Int32Array;
  /** (B, L) position of each patch in [kept..., removed...] (MAE's ids_restore). */
  idsRestore: Int32Array;
  /** (B, L) 1 = removed (predicted, in the loss), 0 = visible. */
  mask: Float32Array;
}

/** Build ids_keep / ids_restore / mask from a per-sample shuffle (B, L) and the keep count. */
export function maskingFromShuffle(batch: number, L: number, keep: number, idsShuffle: Int32Array): Masking {
  const idsKeep = new Int32Array(batch * keep);
  const idsRestore = new Int32Array(batch * L);
  const mask = new Float32Array(batch * L);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < L; j++) {
      const patch = idsShuffle[b * L + j];
      idsRestore[b * L + patch] = j;
      mask[b * L + patch] = j < keep ? 0 : 1;
      if (j < keep) idsKeep[b * keep + j] = patch;
    }
  }
  return { batch, L, keep, idsKeep, idsRestore, mask };
}

/**
 * MAE's random masking: sample b draws L noise floats from Pcg32(seed, stream0 + b), keeps the
 * int(L * (1 - maskRatio)) patches with the smallest noise. Same (seed, stream0) -> same masks.
 */
export function randomMasking(batch: number, L: number, maskRatio: number, seed: number, stream0 = 0): Masking {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new Error(`maskRatio must be in [0, 1), got ${maskRatio}`);
  const keep = Math.trunc(L * (1 - maskRatio));
  const idsShuffle = new Int32Array(batch * L);
  const noise = new Float64Array(L);
  const order = Array.from({ length: L }, (_, i) => i);
  for (let b = 0; b < batch; b++) {
    const rng = new Pcg32(seed, stream0 + b);
    for (let i = 0; i < L; i++) noise[i] = rng.nextFloat();
    for (let i = 0; i < L; i++) order[i] = i;
    order.sort((x, y) => noise[x] - noise[y] || x - y);
    for (let i = 0; i < L; i++) idsShuffle[b * L + i] = order[i];
  }
  return maskingFromShuffle(batch, L, keep, idsShuffle);
}

/** No masking (CroCo's view 2): every patch kept, in order. */
export function noMasking(batch: number, L: number): Masking {
  const shuffle = new Int32Array(batch * L);
  for (let b = 0; b < batch; b++) for (let i = 0; i < L; i++) shuffle[b * L + i] = i;
  return maskingFromShuffle(batch, L, L, shuffle);
}

/**
 * A masking from explicit lists of masked patch indices: one list for the whole batch, or one per
 * sample (all the same length, since the encoder sees the same number of tokens per sample). Kept
 * patches go to the encoder in ascending order; removed ones follow in ascending order.
 */
export function explicitMasking(batch: number, L: number, masked: number[] | number[][]): Masking {
  const lists: number[][] = Array.isArray(masked[0]) ? (masked as number[][]) : Array.from({ length: batch }, () => masked as number[]);
  if (lists.length !== batch) throw new Error(`explicit mask: ${lists.length} lists for a batch of ${batch}`);
  const nMasked = lists[0]?.length ?? 0;
  const shuffle = new Int32Array(batch * L);
  lists.forEach((list, b) => {
    if (list.length !== nMasked)
      throw new Error(`explicit mask: sample ${b} masks ${list.length} patches, sample 0 masks ${nMasked}; all must mask the same number`);
    const isMasked = new Uint8Array(L);
    for (const p of list) {
      if (!Number.isInteger(p) || p < 0 || p >= L)
        throw new Error(`explicit mask: patch index ${p} is outside 0..${L - 1} (row-major, top-left is 0)`);
      if (isMasked[p]) throw new Error(`explicit mask: patch index ${p} is listed twice`);
      isMasked[p] = 1;
    }
    let j = 0;
    for (let i = 0; i < L; i++) if (!isMasked[i]) shuffle[b * L + j++] = i;
    for (let i = 0; i < L; i++) if (isMasked[i]) shuffle[b * L + j++] = i;
  });
  if (nMasked >= L) throw new Error(`explicit mask: all ${L} patches are masked; keep at least one`);
  return maskingFromShuffle(batch, L, L - nMasked, shuffle);
}

/** The masked patch indices of sample b, ascending (e.g. for --json output). */
export function maskedIndices(m: Masking, b = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < m.L; i++) if (m.mask[b * m.L + i] === 1) out.push(i);
  return out;
}
