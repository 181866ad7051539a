// SIFT quality under known geometry (sift_*.wgsl end to end): a procedural texture and its
// rendering through a known homography (rotation, scale, perspective tilt) or a photometric change
// (brightness/contrast, blur, JPEG). Repeatability at 1.5 px and the precision of descriptor
// nearest-neighbour matches (correct within 3 px) must stay above thresholds set from measurement
// (see THRESHOLDS; measured values are printed).
import sharp from "sharp";
import { expect, test } from "vitest";
import { siftPresets } from "../../src/features/config.js";
import { scoreWarp } from "../../src/features/eval.js";
import { detectAndDescribe } from "../../src/features/sift.js";
import { gaussianBlurRef } from "../../src/ref/image.js";
import { testGpu } from "../helpers.js";
import { makeTexture, render } from "./textures.js";

const W = 224;
const H = 224;

/** Homography about the image centre: translate(-c) then M then translate(c). */
function aboutCentre(m: number[]): number[] {
  const cx = W / 2;
  const cy = H / 2;
  const T = [1, 0, cx, 0, 1, cy, 0, 0, 1];
  const Ti = [1, 0, -cx, 0, 1, -cy, 0, 0, 1];
  const mul = (a: number[], b: number[]) =>
    Array.from({ length: 9 }, (_, k) => {
      const r = Math.floor(k / 3);
      const c = k % 3;
      return a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    });
  return mul(T, mul(m, Ti));
}
const rot = (deg: number) => {
  const t = (deg * Math.PI) / 180;
  return aboutCentre([Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t), 0, 0, 0, 1]);
};
const scale = (s: number) => aboutCentre([s, 0, 0, 0, s, 0, 0, 0, 1]);
const tilt = aboutCentre([1, 0.05, 0, 0.02, 0.9, 0, 0.0012, 0.0004, 1]);
const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function inv(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

async function jpeg(gray: Float32Array, quality: number): Promise<Float32Array> {
  const bytes = Uint8Array.from(gray, (v) => Math.round(v * 255));
  const buf = await sharp(bytes, { raw: { width: W, height: H, channels: 1 } })
    .jpeg({ quality })
    .toBuffer();
  const { data } = await sharp(buf).greyscale().raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data, (v) => v / 255);
}

interface Case {
  name: string;
  H: number[];
  make: (tex: ReturnType<typeof makeTexture>) => Promise<Float32Array>;
  minRep: number;
  /** Minimum matching score: correct descriptor-NN matches / min(visible A, visible B). */
  minMS: number;
}

// Thresholds: about 0.1 below the values measured on this texture (lavapipe, opencv preset:
// repeatability / matching score = rotation 0.82/0.78, scale 0.7 0.79/0.76, scale 1.5 0.74/0.72,
// tilt 0.75/0.72, brightness 1.00/1.00, blur 0.91/0.94, JPEG 0.84/0.84), leaving room for other
// adapters' rounding but failing on a broken stage (a wrong orientation convention drops the
// rotation matching score to ~0; a wrong scale-space step drops the scale cases well below).
const CASES: Case[] = [
  { name: "rotation 30 deg", H: rot(30), make: async (t) => render(t, W, H, inv(rot(30))), minRep: 0.7, minMS: 0.65 },
  { name: "scale 0.7", H: scale(0.7), make: async (t) => render(t, W, H, inv(scale(0.7))), minRep: 0.65, minMS: 0.65 },
  { name: "scale 1.5", H: scale(1.5), make: async (t) => render(t, W, H, inv(scale(1.5))), minRep: 0.6, minMS: 0.6 },
  { name: "perspective tilt", H: tilt, make: async (t) => render(t, W, H, inv(tilt)), minRep: 0.65, minMS: 0.6 },
  { name: "brightness x0.7 + 0.15", H: identity, make: async (t) => render(t, W, H, identity, 0.7, 0.15), minRep: 0.9, minMS: 0.9 },
  { name: "blur sigma 1.5", H: identity, make: async (t) => gaussianBlurRef(render(t, W, H), 1, H, W, 1.5), minRep: 0.8, minMS: 0.8 },
  { name: "JPEG quality 40", H: identity, make: async (t) => jpeg(render(t, W, H), 40), minRep: 0.7, minMS: 0.7 },
];

test("SIFT (sift_extrema, sift_orientation, sift_descriptor) is repeatable and matchable under known homographies", async () => {
  const gpu = await testGpu();
  const tex = makeTexture(42, W);
  const a = render(tex, W, H);
  const fa = await detectAndDescribe(gpu, a, W, H, siftPresets.opencv);
  expect(fa.count, "reference image keypoints").toBeGreaterThan(100);
  const lines: string[] = [];
  const failures: string[] = [];
  for (const c of CASES) {
    const b = await c.make(tex);
    const fb = await detectAndDescribe(gpu, b, W, H, siftPresets.opencv);
    const s = scoreWarp(fa, fb, c.H, W, H, W, H);
    lines.push(
      `${c.name.padEnd(24)} kpA ${fa.count} kpB ${fb.count} visible ${s.visibleA}/${s.visibleB} repeatability ${s.repeatability.toFixed(3)} nnPrecision ${s.nnPrecision.toFixed(3)} matchingScore ${s.matchingScore.toFixed(3)}`,
    );
    if (!(s.repeatability >= c.minRep)) failures.push(`${c.name}: repeatability ${s.repeatability.toFixed(3)} < ${c.minRep}`);
    if (!(s.matchingScore >= c.minMS)) failures.push(`${c.name}: matching score ${s.matchingScore.toFixed(3)} < ${c.minMS}`);
  }
  console.log(`SIFT quality, ${W}x${H} procedural texture:\n${lines.join("\n")}`);
  expect(failures, lines.join("\n")).toEqual([]);
}, 60_000);
