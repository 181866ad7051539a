// The CPU path (backend "cpu") and twin (re-exported by src/ref/match/) of shaders/match/bf_match.wgsl: plain loops over every (query, train) pair.
// Dots are accumulated in float64 (the oracle); ties on the dot go to the lowest train index.

/** Nearest and second-nearest train descriptor per query (dots of unit descriptors). */
export interface NearestNeighbours {
  /** Best train index per query, -1 when the train set is empty. */
  idx: Int32Array; // (Q)
  /** Largest dot product per query (-FLT_MAX when none). */
  best: Float32Array; // (Q)
  /** Second largest dot product per query (-FLT_MAX when fewer than 2 trains). */
  second: Float32Array; // (Q)
}

export const NEG_DOT = -3.4028234663852886e38;

/**
 * desc: (T, 128) all frames' descriptors; frames: (F, 2) [first row, count];
 * pairs: (P, 4) [frame a, frame b, first output row, 0] -> NN rows at out offset for each query of a.
 * Twin of bf_match.wgsl (same argument order, minus the output buffer).
 */
export function bfMatchCpu(desc: Float32Array, frames: Uint32Array, pairs: Uint32Array, numQueries: number): NearestNeighbours {
  const out: NearestNeighbours = {
    idx: new Int32Array(numQueries).fill(-1),
    best: new Float32Array(numQueries).fill(NEG_DOT),
    second: new Float32Array(numQueries).fill(NEG_DOT),
  };
  for (let p = 0; p < pairs.length / 4; p++) {
    const [fa, fb, o] = [pairs[4 * p], pairs[4 * p + 1], pairs[4 * p + 2]];
    const [a0, na] = [frames[2 * fa], frames[2 * fa + 1]];
    const [b0, nb] = [frames[2 * fb], frames[2 * fb + 1]];
    for (let q = 0; q < na; q++) {
      let best = NEG_DOT;
      let second = NEG_DOT;
      let bi = -1;
      for (let j = 0; j < nb; j++) {
        let d = 0;
        for (let k = 0; k < 128; k++) d += desc[(a0 + q) * 128 + k] * desc[(b0 + j) * 128 + k];
        if (d > best) {
          second = best;
          best = d;
          bi = j;
        } else if (d > second) second = d;
      }
      out.idx[o + q] = bi;
      out.best[o + q] = best;
      out.second[o + q] = second;
    }
  }
  return out;
}
