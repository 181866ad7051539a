// SIFT kernels (shaders/features/sift_dog.wgsl, sift_extrema.wgsl, sift_orientation.wgsl,
// sift_select.wgsl, sift_descriptor.wgsl, sift_blur.wgsl, plus image/resize_bilinear, downsample2 in
// the scale space) against their CPU twins in src/ref/features/sift.ts. Each stage's twin gets the
// GPU's own input for that stage, so a stage is checked on its own; the last test runs both whole
// pipelines independently. Images: procedural textures (src/features/textures.ts), odd sizes and
// a batch of 2.
import { describe, expect, test } from "vitest";
import { KP, KP_WORDS, type SiftConfig, siftPresets } from "../../src/features/config.js";
import { createSiftPlan, detectAndDescribeBatch, encodeSift, type SiftPlan, siftBlurGrid } from "../../src/features/sift.js";
import { makeTexture, render } from "../../src/features/textures.js";
import { createBuffer, params, readF32, readU32, upload } from "../../src/gpu/buffers.js";
import type { Gpu } from "../../src/gpu/device.js";
import { dispatch, pipeline } from "../../src/gpu/kernel.js";
import {
  descriptorRef,
  detectRef,
  dogRef,
  extremaRef,
  keypointKeyCompare,
  orientationRef,
  scaleSpaceRef,
  selectRef,
  siftBlurPassRef,
  siftRef,
} from "../../src/ref/features/sift.js";
import { gaussianTaps } from "../../src/ref/image.js";
import { expectClose, randomFloats, testGpu } from "../helpers.js";
import { TOL as ALL_TOL } from "../tolerances.js";

const TOL = ALL_TOL.sift;

interface Case {
  name: string;
  w: number;
  h: number;
  n: number;
  cfg: SiftConfig;
}
const CASES: Case[] = [
  { name: "224x224, opencv preset", w: 224, h: 224, n: 1, cfg: siftPresets.opencv },
  { name: "97x61 (odd), opencv preset", w: 97, h: 61, n: 1, cfg: siftPresets.opencv },
  {
    name: "128x96 batch of 2, cap 30, RootSIFT, no upsampling",
    w: 128,
    h: 96,
    n: 2,
    cfg: { ...siftPresets.opencv, upsample: false, maxFeatures: 30, rootSift: true },
  },
];

function images(c: Case, seed: number): Float32Array {
  const out = new Float32Array(c.n * c.w * c.h);
  for (let b = 0; b < c.n; b++) out.set(render(makeTexture(seed + b, Math.max(c.w, c.h) * 1.2), c.w, c.h), b * c.w * c.h);
  return out;
}

async function runPlan(gpu: Gpu, c: Case, gray: Float32Array): Promise<SiftPlan> {
  const plan = createSiftPlan(gpu, c.w, c.h, c.n, c.cfg);
  gpu.device.queue.writeBuffer(plan.input, 0, gray);
  const enc = gpu.device.createCommandEncoder();
  encodeSift(plan, enc);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  gpu.check("sift test");
  return plan;
}

/** Levels of a padded per-octave buffer, unpadded: (levels, N, h, w). */
async function levels(gpu: Gpu, plan: SiftPlan, buf: GPUBuffer, o: number, count: number): Promise<Float32Array> {
  const all = await readF32(gpu, buf);
  const { w, h } = plan.octaves[o];
  const plane = plan.n * w * h;
  const out = new Float32Array(count * plane);
  for (let l = 0; l < count; l++) out.set(all.subarray(l * plan.strides[o], l * plan.strides[o] + plane), l * plane);
  return out;
}

const rec = (a: Float32Array, i: number) => a.slice(i * KP_WORDS, (i + 1) * KP_WORDS);
const keyOf = (k: Float32Array) => `${k[KP.octave]}:${k[KP.layer]}:${k[KP.r]}:${k[KP.c]}`;
const byKey = (a: Float32Array, b: Float32Array) => keyOf(a).localeCompare(keyOf(b)) || a[KP.angle] - b[KP.angle];

/** Same keypoints (by octave, layer, sample, in canonical order) with fields within tolerance. */
function expectSameKeypoints(gpu: Float32Array[], cpu: Float32Array[], what: string): void {
  const g = [...gpu].sort(byKey);
  const c = [...cpu].sort(byKey);
  const gk = g.map(keyOf);
  const ck = c.map(keyOf);
  const missing = ck.filter((k) => !gk.includes(k)).slice(0, 5);
  const extra = gk.filter((k) => !ck.includes(k)).slice(0, 5);
  expect(gk, `${what}: keypoint sets differ (gpu ${g.length}, cpu ${c.length}; missing on gpu ${missing}, extra ${extra})`).toEqual(ck);
  const pick = (list: Float32Array[], f: number) => list.map((k) => k[f]);
  expectClose(pick(g, KP.x), pick(c, KP.x), TOL.px, `${what}: x`);
  expectClose(pick(g, KP.y), pick(c, KP.y), TOL.px, `${what}: y`);
  expectClose(pick(g, KP.size), pick(c, KP.size), TOL.scale, `${what}: size`);
  expectClose(pick(g, KP.response), pick(c, KP.response), TOL.response, `${what}: response`);
  expectClose(pick(g, KP.angle), pick(c, KP.angle), TOL.angleDeg, `${what}: angle`);
}

test.each([
  [37, 23, 2, 0.8],
  [97, 61, 1, 1.6],
  [64, 48, 3, 3.1],
  [9, 40, 1, 2.4],
])("sift_blur.wgsl matches siftBlurPassRef (%ix%i, %i planes, sigma %f, both axes)", async (w, h, n, sigma) => {
  const gpu = await testGpu();
  const x = randomFloats(n * h * w, w * h + n);
  const taps = gaussianTaps(sigma);
  const src = upload(gpu, "blur src", x);
  const tapBuf = upload(gpu, "blur taps", taps);
  for (const axis of [0, 1] as const) {
    const dst = createBuffer(gpu, "blur dst", x.byteLength);
    const p = params(gpu, "blur params", [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", (taps.length - 1) >> 1],
      ["u32", axis],
    ]);
    const enc = gpu.device.createCommandEncoder();
    const wg = siftBlurGrid(axis, w, h, n);
    dispatch(gpu, enc, pipeline(gpu, "features/sift_blur.wgsl", "main", { RADIUS: (taps.length - 1) >> 1 }), [src, tapBuf, dst, p], wg);
    gpu.device.queue.submit([enc.finish()]);
    expectClose(await readF32(gpu, dst), siftBlurPassRef(x, n, h, w, taps, axis), TOL.blur, `sift_blur axis ${axis}`);
  }
});

describe.each(CASES)("SIFT stages vs twins: $name", (c) => {
  const gray = images(c, c.w * 7 + c.n);
  let plan: SiftPlan;
  let gpu: Gpu;
  // Every test runs the GPU pipeline once per case (lazily, so each test also runs on its own).
  const ready = async () => {
    gpu ??= await testGpu();
    plan ??= await runPlan(gpu, c, gray);
  };

  test("scale space (resize_bilinear, sift_blur, downsample2, sift_dog) matches scaleSpaceRef", async () => {
    await ready();
    const ss = scaleSpaceRef(gray, c.n, c.h, c.w, c.cfg);
    expect(plan.octaves).toEqual(ss.octaves);
    const L = c.cfg.nOctaveLayers;
    for (let o = 0; o < plan.octaves.length; o++) {
      expectClose(await levels(gpu, plan, plan.gauss[o], o, L + 3), ss.gauss[o], TOL.level, `gauss octave ${o}`);
      expectClose(await levels(gpu, plan, plan.dog[o], o, L + 2), ss.dog[o], TOL.level, `dog octave ${o}`);
    }
  }, 60_000);

  test("sift_dog matches dogRef on the GPU's Gaussian levels", async () => {
    await ready();
    const L = c.cfg.nOctaveLayers;
    for (let o = 0; o < plan.octaves.length; o++) {
      const { w, h } = plan.octaves[o];
      const g = await levels(gpu, plan, plan.gauss[o], o, L + 3);
      expectClose(await levels(gpu, plan, plan.dog[o], o, L + 2), dogRef(g, L + 3, c.n * w * h), ALL_TOL.exact, `sift_dog octave ${o}`);
    }
  });

  test("sift_extrema, sift_refine and sift_orientation (+ fast_atan2.wgsl) match detectRef / extremaRef / orientationRef on the GPU's DoG and Gaussians", async () => {
    await ready();
    const L = c.cfg.nOctaveLayers;
    const nOct = plan.octaves.length;
    const cap = c.cfg.capacity;
    const counts = await readU32(gpu, plan.out.candCounts);
    const rawCounts = await readU32(gpu, plan.out.rawCounts);
    const claim = await readU32(gpu, plan.claim);
    const cands = await readF32(gpu, plan.cands);
    const oriCounts = await readU32(gpu, plan.out.orientedCounts);
    const oriented = await readF32(gpu, plan.oriented);
    const cpuOriented: Float32Array[][] = Array.from({ length: c.n }, () => []);
    let total = 0;
    for (let o = 0; o < nOct; o++) {
      const { w, h } = plan.octaves[o];
      const dog = await levels(gpu, plan, plan.dog[o], o, L + 2);
      const gauss = await levels(gpu, plan, plan.gauss[o], o, L + 3);
      const cpuRaw = detectRef(dog, c.n, h, w, c.cfg);
      // The GPU's extrema: bit 0 of the flag map (L, N, h, w), read in scan order (layer, r, c).
      const gpuRaw: number[][] = Array.from({ length: c.n }, () => []);
      for (let l = 1; l <= L; l++)
        for (let b = 0; b < c.n; b++)
          for (let i = 0; i < w * h; i++)
            if (claim[plan.claimBase[o] + ((l - 1) * c.n + b) * w * h + i] & 1)
              gpuRaw[b].push(((l << 28) | (Math.trunc(i / w) << 14) | (i % w)) >>> 0);
      for (let b = 0; b < c.n; b++) {
        expect(gpuRaw[b].length, `sift_extrema octave ${o} image ${b}: count`).toBe(rawCounts[b * nOct + o]);
        expect(
          gpuRaw[b].sort((x, y) => x - y),
          `sift_extrema octave ${o} image ${b}`,
        ).toEqual([...cpuRaw[b]].sort((x, y) => x - y));
      }
      // Refinement twin on the GPU's own extrema.
      const cpu = extremaRef(dog, c.n, h, w, o, c.cfg, gpuRaw);
      const gpuCands: Float32Array[][] = [];
      for (let b = 0; b < c.n; b++) {
        const slot = b * nOct + o;
        expect(counts[slot], "candidate overflow").toBeLessThanOrEqual(cap);
        gpuCands.push(Array.from({ length: counts[slot] }, (_, i) => rec(cands.subarray(slot * cap * KP_WORDS), i)));
        expectSameKeypoints(gpuCands[b], cpu[b], `sift_refine octave ${o} image ${b}`);
        total += counts[slot];
      }
      // Orientation twin on the GPU's own candidates.
      orientationRef(gauss, c.n, h, w, gpuCands, c.cfg).forEach((l, b) => {
        cpuOriented[b].push(...l);
      });
    }
    expect(total, "the test images must produce keypoints").toBeGreaterThan(20);
    for (let b = 0; b < c.n; b++) {
      const g = Array.from({ length: oriCounts[b] }, (_, i) => rec(oriented.subarray(b * cap * KP_WORDS), i));
      expectSameKeypoints(g, cpuOriented[b], `sift_orientation image ${b}`);
    }
  });

  test("sift_select and sift_descriptor match selectRef / descriptorRef on the GPU's keypoints", async () => {
    await ready();
    const cap = c.cfg.capacity;
    const nOct = plan.octaves.length;
    const oriCounts = await readU32(gpu, plan.out.orientedCounts);
    const oriented = await readF32(gpu, plan.oriented);
    const counts = await readU32(gpu, plan.out.counts);
    const kps = await readF32(gpu, plan.out.keypoints);
    const desc = await readF32(gpu, plan.out.desc);
    const capOut = plan.out.capacity;
    const L = c.cfg.nOctaveLayers;
    const gauss = await Promise.all(plan.octaves.map((_, o) => levels(gpu, plan, plan.gauss[o], o, L + 3)));
    for (let b = 0; b < c.n; b++) {
      const input = Array.from({ length: oriCounts[b] }, (_, i) => rec(oriented.subarray(b * cap * KP_WORDS), i));
      const want = selectRef(input, c.cfg.maxFeatures, nOct);
      const got = Array.from({ length: counts[b] }, (_, i) => rec(kps.subarray(b * capOut * KP_WORDS), i));
      if (c.cfg.maxFeatures > 0) expect(oriCounts[b], "the cap must be exercised").toBeGreaterThan(c.cfg.maxFeatures);
      // The same records, grouped by octave (the order within an octave's run is not canonical).
      expectClose(
        [...got].sort(keypointKeyCompare).flatMap((k) => Array.from(k)),
        [...want].sort(keypointKeyCompare).flatMap((k) => Array.from(k)),
        ALL_TOL.exact,
        `sift_select image ${b}`,
      );
      const ranges = await readU32(gpu, plan.out.ranges);
      for (let o = 0; o < nOct; o++) {
        const run = got.slice(ranges[b * (nOct + 1) + o], ranges[b * (nOct + 1) + o + 1]);
        expect(
          run.map((k) => k[KP.octave]),
          `sift_select image ${b}: run of octave ${o}`,
        ).toEqual(want.filter((k) => k[KP.octave] === o).map(() => o));
      }
      const want128 = new Float32Array(got.length * 128);
      got.forEach((k, i) => {
        const { w, h } = plan.octaves[k[KP.octave]];
        const base = k[KP.layer] * c.n * w * h + b * w * h;
        want128.set(descriptorRef(gauss[k[KP.octave]].subarray(base, base + w * h), h, w, k, c.cfg), i * 128);
      });
      expectClose(desc.subarray(b * capOut * 128, b * capOut * 128 + got.length * 128), want128, TOL.desc, `sift_descriptor image ${b}`);
    }
  });

  test("whole pipeline (detectAndDescribeBatch) matches siftRef run independently", async () => {
    await ready();
    const feats = await detectAndDescribeBatch(gpu, gray, c.n, c.w, c.h, c.cfg);
    const ref = siftRef(gray, c.n, c.h, c.w, c.cfg);
    for (let b = 0; b < c.n; b++) {
      const f = feats[b];
      expect(f.count, `image ${b}: keypoint count`).toBe(ref.counts[b]);
      // Canonical order: by position, then angle.
      const order = (xy: ArrayLike<number>, ang: ArrayLike<number>, n: number) =>
        Array.from({ length: n }, (_, i) => i).sort(
          (i, j) =>
            Math.round(xy[2 * i + 1] * 100) - Math.round(xy[2 * j + 1] * 100) ||
            Math.round(xy[2 * i] * 100) - Math.round(xy[2 * j] * 100) ||
            ang[i] - ang[j],
        );
      const rxy = new Float32Array(ref.counts[b] * 2);
      const rang = new Float32Array(ref.counts[b]);
      for (let i = 0; i < ref.counts[b]; i++) {
        rxy[2 * i] = ref.keypoints[b][i * KP_WORDS + KP.x];
        rxy[2 * i + 1] = ref.keypoints[b][i * KP_WORDS + KP.y];
        rang[i] = ref.keypoints[b][i * KP_WORDS + KP.angle];
      }
      const go = order(f.xy, f.angle, f.count);
      const ro = order(rxy, rang, ref.counts[b]);
      expectClose(
        go.flatMap((i) => [f.xy[2 * i], f.xy[2 * i + 1]]),
        ro.flatMap((i) => [rxy[2 * i], rxy[2 * i + 1]]),
        TOL.px,
        `image ${b}: xy`,
      );
      expectClose(
        go.map((i) => f.angle[i]),
        ro.map((i) => rang[i]),
        TOL.angleDeg,
        `image ${b}: angle`,
      );
      expectClose(
        go.flatMap((i) => Array.from(f.desc.subarray(i * 128, (i + 1) * 128))),
        ro.flatMap((i) => Array.from(ref.desc[b].subarray(i * 128, (i + 1) * 128))),
        TOL.desc,
        `image ${b}: descriptors`,
      );
      // Unit L2 norm (both L2 and RootSIFT descriptors).
      for (let i = 0; i < f.count; i++) {
        let s = 0;
        for (let k = 0; k < 128; k++) s += f.desc[i * 128 + k] ** 2;
        expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(TOL.descNorm);
      }
    }
  }, 60_000);
});
