import { describe, expect, it } from "vitest";
import { explicitMasking, maskedIndices, noMasking, randomMasking } from "../../src/models/masking.js";
import { Pcg32 } from "../../src/prng.js";

describe("MAE random masking (src/ref/models/masking.ts)", () => {
  it("keeps int(L * (1 - ratio)) lowest-noise patches per sample; ids_restore inverts the shuffle", () => {
    const B = 3;
    const L = 196;
    const m = randomMasking(B, L, 0.9, 1234);
    expect(m.keep).toBe(19);
    for (let b = 0; b < B; b++) {
      // reproduce the noise and check the kept patches are the 19 smallest
      const r = new Pcg32(1234, b);
      const noise = Array.from({ length: L }, () => r.nextFloat());
      const kept = Array.from(m.idsKeep.subarray(b * 19, (b + 1) * 19));
      const maxKept = Math.max(...kept.map((i) => noise[i]));
      const masked = maskedIndices(m, b);
      expect(masked.length).toBe(L - 19);
      expect(Math.min(...masked.map((i) => noise[i]))).toBeGreaterThanOrEqual(maxKept);
      // kept patches are in ascending-noise order and have mask 0; ids_restore puts them first
      for (let j = 1; j < kept.length; j++) expect(noise[kept[j]]).toBeGreaterThanOrEqual(noise[kept[j - 1]]);
      kept.forEach((p, j) => {
        expect(m.mask[b * L + p]).toBe(0);
        expect(m.idsRestore[b * L + p]).toBe(j);
      });
      const restore = Array.from(m.idsRestore.subarray(b * L, (b + 1) * L));
      expect([...restore].sort((x, y) => x - y)).toEqual(Array.from({ length: L }, (_, i) => i));
    }
  });

  it("is deterministic per seed and differs across seeds and samples", () => {
    const a = randomMasking(2, 196, 0.75, 7);
    const b = randomMasking(2, 196, 0.75, 7);
    const c = randomMasking(2, 196, 0.75, 8);
    expect(a.keep).toBe(49);
    expect(Array.from(a.idsKeep)).toEqual(Array.from(b.idsKeep));
    expect(Array.from(a.idsKeep)).not.toEqual(Array.from(c.idsKeep));
    expect(maskedIndices(a, 0)).not.toEqual(maskedIndices(a, 1));
    // stream0 offsets the per-sample streams: sample 1 of stream0=0 == sample 0 of stream0=1
    const d = randomMasking(1, 196, 0.75, 7, 1);
    expect(maskedIndices(d, 0)).toEqual(maskedIndices(a, 1));
  });

  it("explicit masks: kept patches ascending, then masked ones; errors name the problem", () => {
    const m = explicitMasking(2, 16, [3, 0, 15]);
    expect(m.keep).toBe(13);
    expect(maskedIndices(m, 1)).toEqual([0, 3, 15]);
    expect(Array.from(m.idsKeep.subarray(0, 4))).toEqual([1, 2, 4, 5]);
    expect(m.idsRestore[0]).toBe(13);
    expect(m.idsRestore[3]).toBe(14);
    expect(m.idsRestore[15]).toBe(15);
    const per = explicitMasking(2, 4, [[0], [3]]);
    expect(maskedIndices(per, 0)).toEqual([0]);
    expect(maskedIndices(per, 1)).toEqual([3]);
    expect(() => explicitMasking(1, 16, [16])).toThrow(/outside 0\.\.15/);
    expect(() => explicitMasking(1, 16, [2, 2])).toThrow(/listed twice/);
    expect(() => explicitMasking(2, 4, [[0], [1, 2]])).toThrow(/same number/);
    expect(() => explicitMasking(1, 2, [0, 1])).toThrow(/keep at least one/);
    const none = noMasking(1, 5);
    expect(Array.from(none.idsKeep)).toEqual([0, 1, 2, 3, 4]);
    expect(none.mask.every((v) => v === 0)).toBe(true);
  });
});
