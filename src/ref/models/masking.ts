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

/** MAE's random masking for a batch; deterministic in (seed, stream0). */
export function randomMaskingRef(batch: number, L: number, maskRatio: number, seed: number, stream0 = 0): Masking {
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
