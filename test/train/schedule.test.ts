import { describe, expect, it } from "vitest";
import { absoluteLr, lrAt } from "../../src/train/schedule.js";

describe("MAE lr schedule (src/train/schedule.ts)", () => {
  const s = { lr: 1e-3, minLr: 1e-5, warmupSteps: 10, totalSteps: 110 };
  it("warms up linearly from 0, peaks, then follows a half cosine to minLr", () => {
    expect(lrAt(0, s)).toBe(0);
    expect(lrAt(5, s)).toBeCloseTo(5e-4, 12);
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(lrAt(60, s)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 12);
    expect(lrAt(110, s)).toBeCloseTo(1e-5, 12);
    expect(lrAt(500, s)).toBeCloseTo(1e-5, 12);
    for (let t = 11; t <= 110; t++) expect(lrAt(t, s)).toBeLessThanOrEqual(lrAt(t - 1, s));
  });
  it("scales the base lr by effective batch / 256 and rejects an empty run", () => {
    expect(absoluteLr(1.5e-4, 4096)).toBeCloseTo(2.4e-3, 12);
    expect(() => lrAt(0, { ...s, totalSteps: 0 })).toThrow(/totalSteps/);
  });
});
