import { describe, expect, it } from "vitest";
import {
  assemble,
  correspondencePresets,
  homographyStack,
  patchCorrespondences,
  patchTargets,
  supportFilter,
} from "../../src/geometry/correspondence.js";
import { randomHomography } from "../../src/geometry/synthetic.js";
import { testGpu } from "../helpers.js";

const mimic = correspondencePresets.mimic;

describe("patch_corr.wgsl vs CPU twin (src/ref/geometry/patch_corr.ts)", () => {
  it("same majority targets and correspondences for 24 random homographies", async () => {
    const gpu = await testGpu();
    const Hs = Array.from({ length: 24 }, (_, i) => randomHomography(100 + i, 224, 0.1 + 0.02 * i));
    const stack = homographyStack(Hs);
    // zooms x6 and x12 spread a patch over more than 16 targets (the kernel's fallback count)
    const zoomed = [6, 12].flatMap((z) => [z, 0, -112 * (z - 1), 0, z, -112 * (z - 1), 0, 0, 1]);
    const stack2 = Float32Array.from([...stack, ...zoomed]);
    for (const g of [
      mimic,
      { ...mimic, width: 200, height: 120, patch: 8, samples: 3 },
      { ...mimic, samples: 16 },
      { ...mimic, samples: 7 },
    ]) {
      const got = await patchTargets(gpu, stack2, g);
      const want = await patchTargets("cpu", stack2, g);
      const diff = got.findIndex((v, i) => v !== want[i]);
      expect(diff, `patch_corr: first differing target at ${diff}: gpu ${got[diff]} cpu ${want[diff]}`).toBe(-1);
    }
    const g = await patchCorrespondences(gpu, Hs, mimic);
    const c = await patchCorrespondences("cpu", Hs, mimic);
    expect(g.map((x) => [...x.map])).toEqual(c.map((x) => [...x.map]));
    // one-to-one, and the spread of overlaps covers the interesting range
    for (const x of g) expect(new Set(x.map.values()).size).toBe(x.map.size);
    expect(g.some((x) => x.accepted)).toBe(true);
    expect(g.some((x) => !x.accepted)).toBe(true);
  });

  it("known cases: identity, shift by 1.25 patches, scale 2 (smaller mapping kept)", async () => {
    const gpu = await testGpu();
    const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const shift = [1, 0, 20, 0, 1, -4, 0, 0, 1];
    const zoom = [2, 0, -112, 0, 2, -112, 0, 0, 1]; // centre zoom x2: view 1's centre half fills view 2
    const [id, sh, zo] = await patchCorrespondences(gpu, [I, shift, zoom], mimic);
    expect(id.map.size).toBe(196);
    for (const [k, v] of id.map) expect(v).toBe(k);
    // x + 20, y - 4: samples of patch (r, c) land mostly in (r, c + 1) both ways; col 13 leaves the image
    expect(sh.map.get(0)).toBe(1);
    expect(sh.map.get(14 * 5 + 3)).toBe(14 * 5 + 4);
    expect(sh.map.get(13)).toBeUndefined();
    expect(sh.map.size).toBe(14 * 13);
    expect(sh.overlap).toBeCloseTo(182 / 196, 10);
    // zoom x2 about the centre: forward, view 1 columns 4..9 land whole (3 and 10 are half out -> "out"),
    // 6 x 6 = 36 one-to-one; backward, view 2's 14 columns fall into view 1 columns 3..10 -> 8 x 8 = 64.
    // MIMIC keeps the smaller: the forward 36.
    expect(zo.forward).toBe(36);
    expect(zo.backward).toBe(64);
    expect(zo.map.size).toBe(36);
    expect(zo.map.get(14 * 4 + 4)).toBe(14 + 1);
    expect(zo.accepted).toBe(false);
    // every pixel (samples 16): a shift of exactly half a patch splits each patch 128/128; the
    // target reaching 128 first (row by row: the left half) wins, as in MIMIC's find_majority
    const half = [1, 0, 8, 0, 1, 0, 0, 0, 1];
    const t = await patchTargets(gpu, homographyStack([half]), { ...mimic, samples: 16 });
    for (let p = 0; p < 196; p++) expect(t[p], `patch ${p}`).toBe(p);
    expect(t[196 + 0]).toBe(-1); // backward: x - 8 sends column 0's left half out first
    expect(t[196 + 1]).toBe(0);
  });

  it("improved mode: cycle consistency and inlier support drop unsupported patches", async () => {
    const Hs = [randomHomography(7, 224, 0.15)];
    const targets = await patchTargets("cpu", homographyStack(Hs), mimic);
    const base = assemble(targets, 0, mimic);
    const improved = assemble(targets, 0, correspondencePresets.default);
    expect(improved.map.size).toBeLessThanOrEqual(base.map.size);
    expect(improved.overlap).toBe(base.overlap); // the keep decision stays MIMIC's
    expect(improved.mappedFraction).toBe(improved.map.size / 196);
    for (const [k, v] of improved.map) expect(base.map.get(k)).toBe(v);
    // inliers only in the left half of view 1: right-half patches lose support
    const H = Hs[0];
    const pts: number[] = [];
    const ptsB: number[] = [];
    for (let y = 4; y < 224; y += 9)
      for (let x = 4; x < 100; x += 9) {
        const w = H[6] * x + H[7] * y + H[8];
        pts.push(x, y);
        ptsB.push((H[0] * x + H[1] * y + H[2]) / w, (H[3] * x + H[4] * y + H[5]) / w);
      }
    const s = { xa: Float32Array.from(pts), xb: Float32Array.from(ptsB), inliers: new Uint8Array(pts.length / 2).fill(1) };
    const f = supportFilter(improved, s, correspondencePresets.default);
    expect(f.map.size).toBeGreaterThan(0);
    expect(f.map.size).toBeLessThan(improved.map.size);
    expect(f.overlap).toBe(base.overlap);
    for (const k of f.map.keys()) expect(k % 14).toBeLessThanOrEqual(Math.floor(100 / 16) + 1);
  });
});
