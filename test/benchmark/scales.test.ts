// The named benchmark scales (src/benchmark/scales.ts): valid, fixed, documented recipes.
import { describe, expect, it } from "vitest";
import { type BenchmarkScale, benchmarkScales, getScale, samplesSeen, scaleProblems } from "../../src/benchmark/scales.js";

describe("benchmark scales", () => {
  it("every named scale is valid", () => {
    for (const [name, s] of Object.entries(benchmarkScales)) expect(scaleProblems(name, s), name).toEqual([]);
  });

  it("nano and tiny use their model presets; tiny sees more pairs than nano", () => {
    expect(benchmarkScales.nano.model).toBe("nano");
    expect(benchmarkScales.tiny.model).toBe("tiny");
    expect(samplesSeen(benchmarkScales.nano)).toBe(benchmarkScales.nano.steps * benchmarkScales.nano.batch);
    expect(samplesSeen(benchmarkScales.tiny)).toBeGreaterThan(samplesSeen(benchmarkScales.nano));
  });

  it("scaleProblems names each bad field", () => {
    const bad = { model: "huge", steps: 0, batch: 2.5, blr: -1, seed: -1, probeEpochs: 0, probeHead: "conv" } as unknown as BenchmarkScale;
    const p = scaleProblems("x", bad).join("\n");
    for (const field of ["model", "steps", "batch", "blr", "seed", "probeEpochs", "probeHead"]) expect(p).toContain(`scale x: ${field}`);
  });

  it("getScale rejects an unknown name and lists the known ones", () => {
    expect(getScale("nano")).toBe(benchmarkScales.nano);
    expect(() => getScale("huge")).toThrow(/unknown scale 'huge'; use one of nano, tiny/);
    expect(() => getScale("toString")).toThrow(/unknown scale/);
  });
});
