// sift_select.wgsl (the per-image keypoint cap) against selectRef on hand-made keypoint records
// with many equal responses, in shuffled orders. The orientation pass appends records through an
// atomic counter, so the kept set must not depend on the input order: with ties at the threshold
// and more than cap_out records at or above it, the order used to decide which ties survived
// (issue 23). Both the twin and the kernel must keep the same set whatever the order.
import { describe, expect, test } from "vitest";
import { KP, KP_WORDS } from "../../src/features/config.js";
import { createBuffer, params, readF32, readU32, upload } from "../../src/gpu/buffers.js";
import { dispatch, pipeline } from "../../src/gpu/kernel.js";
import { Pcg32 } from "../../src/prng.js";
import { keypointKeyCompare, selectRef } from "../../src/ref/features/sift.js";
import { testGpu } from "../helpers.js";

const N_OCT = 3;
const CAP = 400;
const MAX_FEATURES = 100;
const CAP_OUT = MAX_FEATURES + 32;

/**
 * `count` records of one image: a few response levels (heavy ties), some keys with two angles
 * (the extra orientations of one refined sample share its response), keys unique.
 */
function records(count: number, levels: number[], seed: number): Float32Array[] {
  const rng = new Pcg32(seed, 7);
  const out: Float32Array[] = [];
  const used = new Set<string>();
  while (out.length < count) {
    const k = new Float32Array(KP_WORDS);
    k[KP.octave] = rng.nextBelow(N_OCT);
    k[KP.layer] = 1 + rng.nextBelow(3);
    k[KP.r] = 5 + rng.nextBelow(40);
    k[KP.c] = 5 + rng.nextBelow(40);
    const id = `${k[KP.octave]}:${k[KP.layer]}:${k[KP.r]}:${k[KP.c]}`;
    if (used.has(id)) continue;
    used.add(id);
    k[KP.x] = k[KP.c] * 2 ** k[KP.octave];
    k[KP.y] = k[KP.r] * 2 ** k[KP.octave];
    k[KP.response] = levels[rng.nextBelow(levels.length)];
    k[KP.angle] = rng.nextBelow(36) * 10;
    out.push(k);
    if (out.length < count && rng.nextBelow(4) === 0) {
      const twin = k.slice();
      twin[KP.angle] = k[KP.angle] + 5;
      out.push(twin);
    }
  }
  return out;
}

function shuffled<T>(list: T[], seed: number): T[] {
  const rng = new Pcg32(seed, 3);
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextBelow(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const flat = (list: Float32Array[]) => list.flatMap((k) => Array.from(k));

// Image 0: 4 response levels over 300 records (the threshold falls inside a tie group larger
// than the 32 spare slots); image 1: distinct responses; image 2: under the cap.
const IMAGES = [
  records(300, [0.01, 0.02, 0.03, 0.05], 1),
  records(
    250,
    Array.from({ length: 250 }, (_, i) => 0.001 * (i + 1)),
    2,
  ),
  records(80, [0.01, 0.02], 3),
];

describe("sift_select: the kept set is a function of the records, not of their order", () => {
  test("the tie-break is exercised: image 0 has more than cap_out records at or above the threshold", () => {
    const resp = IMAGES[0].map((k) => k[KP.response]).sort((a, b) => b - a);
    const thr = resp[MAX_FEATURES - 1];
    const ge = resp.filter((r) => r >= thr).length;
    expect(ge).toBeGreaterThan(CAP_OUT);
    expect(selectRef(IMAGES[0], MAX_FEATURES, N_OCT).length).toBe(CAP_OUT);
    expect(resp.filter((r) => r > thr).length).toBeLessThan(MAX_FEATURES);
  });

  test("selectRef gives the same output for 5 shuffles of its input", () => {
    for (const recs of IMAGES) {
      const want = selectRef(recs, MAX_FEATURES, N_OCT);
      expect(want.length).toBeGreaterThanOrEqual(Math.min(recs.length, MAX_FEATURES));
      expect(want.length).toBeLessThanOrEqual(CAP_OUT);
      for (let s = 0; s < 5; s++) expect(flat(selectRef(shuffled(recs, 100 + s), MAX_FEATURES, N_OCT))).toEqual(flat(want));
    }
  });

  test("the GPU kernel keeps selectRef's set, grouped by octave, for shuffled inputs", async () => {
    const gpu = await testGpu();
    const n = IMAGES.length;
    const pipe = pipeline(gpu, "features/sift_select.wgsl");
    for (let s = 0; s < 4; s++) {
      const inputs = IMAGES.map((recs, b) => (s === 0 ? recs : shuffled(recs, 10 * s + b)));
      const oriented = new Float32Array(n * CAP * KP_WORDS);
      inputs.forEach((recs, b) => {
        recs.forEach((k, i) => {
          oriented.set(k, (b * CAP + i) * KP_WORDS);
        });
      });
      const counts = createBuffer(gpu, "select test counts", n * 4);
      const kps = createBuffer(gpu, "select test kps", n * CAP_OUT * KP_WORDS * 4);
      const ranges = createBuffer(gpu, "select test ranges", n * (N_OCT + 1) * 4);
      const args = createBuffer(gpu, "select test args", N_OCT * 9 * 4);
      const p = params(gpu, "select test params", [
        ["u32", n],
        ["u32", CAP],
        ["u32", CAP_OUT],
        ["u32", MAX_FEATURES],
        ["u32", N_OCT],
        ["u32", 6],
      ]);
      const bindings = [
        upload(gpu, "select test oriented", oriented),
        // Records per octave (none past the capacity here).
        upload(
          gpu,
          "select test oriented counts per octave",
          Uint32Array.from(inputs.flatMap((r) => Array.from({ length: N_OCT }, (_, o) => r.filter((k) => k[KP.octave] === o).length))),
        ),
        kps,
        counts,
        ranges,
        args,
        p,
      ];
      const enc = gpu.device.createCommandEncoder();
      dispatch(gpu, enc, pipe, bindings, [n]);
      gpu.device.queue.submit([enc.finish()]);
      const gotCounts = await readU32(gpu, counts);
      const gotKps = await readF32(gpu, kps);
      const gotRanges = await readU32(gpu, ranges);
      const gotArgs = await readU32(gpu, args);
      gpu.check("sift_select test");
      for (let b = 0; b < n; b++) {
        const want = selectRef(inputs[b], MAX_FEATURES, N_OCT);
        expect(gotCounts[b], `shuffle ${s} image ${b}: count`).toBe(want.length);
        const got = Array.from({ length: gotCounts[b] }, (_, i) =>
          gotKps.slice((b * CAP_OUT + i) * KP_WORDS, (b * CAP_OUT + i + 1) * KP_WORDS),
        );
        for (let o = 0; o < N_OCT; o++) {
          const run = got.slice(gotRanges[b * (N_OCT + 1) + o], gotRanges[b * (N_OCT + 1) + o + 1]).sort(keypointKeyCompare);
          const wantRun = want.filter((k) => k[KP.octave] === o);
          expect(flat(run), `shuffle ${s} image ${b} octave ${o}: kept records`).toEqual(flat(wantRun));
          // Descriptor pass arguments: workgroups for the longest run of the octave over images.
          const longest = Math.max(...IMAGES.map((_, i) => gotRanges[i * (N_OCT + 1) + o + 1] - gotRanges[i * (N_OCT + 1) + o]));
          expect(gotArgs[6 + 9 * o]).toBe(longest);
        }
      }
    }
  });
});
