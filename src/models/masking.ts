// Masking for MIM: MAE's seeded per-sample random masking (CPU twin in src/ref/models/masking.ts)
// and an explicit mask (a list of masked patch indices, row-major from the top-left patch), e.g.
// from `mimic reconstruct --mask mask.json`.

import { type Masking, maskingFromShuffle, randomMaskingRef } from "../ref/models/masking.js";

export type { Masking };

/**
 * MAE's random masking: sample b draws L noise floats from Pcg32(seed, stream0 + b), keeps the
 * int(L * (1 - maskRatio)) patches with the smallest noise. Same (seed, stream0) -> same masks.
 */
export function randomMasking(batch: number, L: number, maskRatio: number, seed: number, stream0 = 0): Masking {
  if (!(maskRatio >= 0 && maskRatio < 1)) throw new Error(`maskRatio must be in [0, 1), got ${maskRatio}`);
  return randomMaskingRef(batch, L, maskRatio, seed, stream0);
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
