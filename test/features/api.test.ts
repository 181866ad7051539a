// SIFT host API (src/features/sift.ts around the sift_*.wgsl kernels): capacity overflow is
// counted, not fatal; bad inputs fail with a message naming the fix; GPU-resident results match
// the host convenience path.
import { describe, expect, test } from "vitest";
import { siftPresets } from "../../src/features/config.js";
import { detectAndDescribe, encodeSift, readCounts, readFeatures, siftPlan } from "../../src/features/sift.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { upload } from "../../src/gpu/buffers.js";
import { testGpu } from "../helpers.js";

describe("SIFT API", () => {
  const w = 160;
  const h = 120;
  const img = render(makeTexture(5, 200), w, h);

  test("a tiny capacity drops keypoints (counted by readCounts) without breaking the batch", async () => {
    const gpu = await testGpu();
    const full = await detectAndDescribe(gpu, img, w, h);
    const cfg = { ...siftPresets.opencv, capacity: 16 };
    const plan = siftPlan(gpu, w, h, 1, cfg);
    gpu.device.queue.writeBuffer(plan.input, 0, img);
    const enc = gpu.device.createCommandEncoder();
    const out = encodeSift(plan, enc);
    gpu.device.queue.submit([enc.finish()]);
    const { counts, dropped } = await readCounts(gpu, out);
    const [f] = await readFeatures(gpu, out);
    expect(full.count, "uncapped run").toBeGreaterThan(40);
    expect(counts[0]).toBe(f.count);
    expect(f.count).toBeLessThanOrEqual(16);
    expect(f.count).toBeGreaterThan(0);
    expect(dropped[0], "overflow must be reported").toBeGreaterThan(0);
    for (const v of f.desc) expect(Number.isFinite(v)).toBe(true);
  });

  test("a GPU buffer input gives the same features as the host array", async () => {
    const gpu = await testGpu();
    const a = await detectAndDescribe(gpu, img, w, h);
    const b = await detectAndDescribe(gpu, upload(gpu, "sift test gray", img), w, h);
    expect(b.count).toBe(a.count);
    expect(Array.from(b.xy).sort()).toEqual(Array.from(a.xy).sort());
  });

  test("concurrent calls on the same cached plan each get their own image's features", async () => {
    const gpu = await testGpu();
    const other = render(makeTexture(6, 200), w, h);
    const [a1, b1] = [await detectAndDescribe(gpu, img, w, h), await detectAndDescribe(gpu, other, w, h)];
    const [a2, b2] = await Promise.all([detectAndDescribe(gpu, img, w, h), detectAndDescribe(gpu, other, w, h)]);
    expect(Array.from(a2.xy).sort()).toEqual(Array.from(a1.xy).sort());
    expect(Array.from(b2.xy).sort()).toEqual(Array.from(b1.xy).sort());
  });

  test("bad inputs fail with a clear message", async () => {
    const gpu = await testGpu();
    await expect(detectAndDescribe(gpu, img.subarray(1), w, h)).rejects.toThrow(/expected N\*H\*W/);
    await expect(detectAndDescribe(gpu, new Float32Array(8 * 8), 8, 8)).rejects.toThrow(/at least 16x16/);
    await expect(detectAndDescribe(gpu, img, w, h, { ...siftPresets.opencv, nOctaveLayers: 0 })).rejects.toThrow(/siftPresets.opencv/);
  });
});

describe("scoreWarp (features/eval.ts, used by the quality test and bench/sift.ts)", () => {
  test("identical features under the identity score 1; a wrong homography scores ~0", async () => {
    const { scoreWarp } = await import("../../src/features/eval.js");
    const gpu = await testGpu();
    const img = render(makeTexture(9, 150), 128, 96);
    const f = await detectAndDescribe(gpu, img, 128, 96);
    const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const same = scoreWarp(f, f, I, 128, 96, 128, 96);
    expect(same.repeatability).toBe(1);
    expect(same.matchingScore).toBeGreaterThan(0.99);
    const shifted = scoreWarp(f, f, [1, 0, 20, 0, 1, 0, 0, 0, 1], 128, 96, 128, 96);
    expect(shifted.matchingScore).toBeLessThan(0.1);
  });
});
