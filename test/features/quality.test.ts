// SIFT quality under known geometry (sift_*.wgsl end to end): a procedural texture and its
// rendering through a known homography (rotation, scale, perspective tilt) or a photometric change
// (brightness/contrast, blur, JPEG). Repeatability at 1.5 px and the precision of descriptor
// nearest-neighbour matches (correct within 3 px) must stay above thresholds set from measurement
// (see THRESHOLDS; measured values are printed).
import { expect, test } from "vitest";
import { siftPresets } from "../../src/features/config.js";
import { scoreWarp } from "../../src/features/eval.js";
import { detectAndDescribe } from "../../src/features/sift.js";
import { makeTexture, render, renderWarp, standardWarps } from "../../src/features/textures.js";
import { testGpu } from "../helpers.js";

const W = 224;
const H = 224;

// Thresholds: about 0.1 below the values measured on this texture (lavapipe, opencv preset:
// repeatability / matching score = rotation 0.82/0.78, scale 0.7 0.79/0.76, scale 1.5 0.74/0.72,
// tilt 0.75/0.72, brightness 1.00/1.00, blur 0.91/0.94, JPEG 0.84/0.84), leaving room for other
// adapters' rounding but failing on a broken stage (a wrong orientation convention drops the
// rotation matching score to ~0; a wrong scale-space step drops the scale cases well below).
const MIN: Record<string, { rep: number; ms: number }> = {
  "rotation 30 deg": { rep: 0.7, ms: 0.65 },
  "scale 0.7": { rep: 0.65, ms: 0.65 },
  "scale 1.5": { rep: 0.6, ms: 0.6 },
  "perspective tilt": { rep: 0.65, ms: 0.6 },
  "brightness x0.7 + 0.15": { rep: 0.9, ms: 0.9 },
  "blur sigma 1.5": { rep: 0.8, ms: 0.8 },
  "JPEG quality 40": { rep: 0.7, ms: 0.7 },
};

test("SIFT (sift_extrema, sift_orientation, sift_descriptor) is repeatable and matchable under known homographies", async () => {
  const gpu = await testGpu();
  const tex = makeTexture(42, W);
  const a = render(tex, W, H);
  const fa = await detectAndDescribe(gpu, a, W, H, siftPresets.opencv);
  expect(fa.count, "reference image keypoints").toBeGreaterThan(100);
  const lines: string[] = [];
  const failures: string[] = [];
  const warps = standardWarps(W, H);
  expect(warps.map((w) => w.name)).toEqual(Object.keys(MIN));
  for (const c of warps) {
    const min = MIN[c.name];
    const b = await renderWarp(tex, W, H, c);
    const fb = await detectAndDescribe(gpu, b, W, H, siftPresets.opencv);
    const s = scoreWarp(fa, fb, c.H, W, H, W, H);
    lines.push(
      `${c.name.padEnd(24)} kpA ${fa.count} kpB ${fb.count} visible ${s.visibleA}/${s.visibleB} repeatability ${s.repeatability.toFixed(3)} nnPrecision ${s.nnPrecision.toFixed(3)} matchingScore ${s.matchingScore.toFixed(3)}`,
    );
    if (!(s.repeatability >= min.rep)) failures.push(`${c.name}: repeatability ${s.repeatability.toFixed(3)} < ${min.rep}`);
    if (!(s.matchingScore >= min.ms)) failures.push(`${c.name}: matching score ${s.matchingScore.toFixed(3)} < ${min.ms}`);
  }
  console.log(`SIFT quality, ${W}x${H} procedural texture:\n${lines.join("\n")}`);
  expect(failures, lines.join("\n")).toEqual([]);
}, 60_000);
