// SIFT detection and description on the GPU (shaders/features/sift_*.wgsl), following OpenCV's
// SIFT (features2d/src/sift.simd.hpp). CPU twins: src/ref/features/sift.ts.
//
// A SiftPlan holds every buffer and bind group for N same-size images (one video's frames), so
// encoding a batch allocates nothing. Per batch, in one command encoder:
//   octave 0: [bilinear 2x upsample] + blur to sigma          (image/resize_bilinear, sift_blur)
//   octave o > 0: take every 2nd pixel of level L of o-1      (image/downsample2 mode 0)
//   levels 1..L+2: incremental blurs; DoG                     (sift_blur, sift_dog)
//   per octave: 3x3x3 extrema -> flag map + list; refinement of the list -> candidates
//                                                             (sift_extrema, sift_refine)
//   per octave: orientation -> oriented keypoints             (sift_orientation)
//   per image: cap on the count (strongest responses) + grouping by octave   (sift_select)
//   per octave: 128-D descriptors                             (sift_descriptor)
// Results stay on the GPU (GpuFeatures); readFeatures() copies them back when asked.
import type { Features } from "../contracts.js";
import { createBuffer, params, readbackRanges, readU32, upload } from "../gpu/buffers.js";
import type { Gpu } from "../gpu/device.js";
import { type Binding, type Call, encodeCalls, gpuCall, grid1d, groups, pipeline } from "../gpu/kernel.js";
import { gaussianTaps } from "../image/cpu.js";
import {
  checkSiftConfig,
  KP,
  KP_WORDS,
  type OctaveGeom,
  SIFT_IMG_BORDER,
  SIFT_MAX_OCTAVES,
  SIFT_ORI_RADIUS,
  SIFT_ORI_SIG_FCTR,
  type SiftConfig,
  siftOctaves,
  siftOutCapacity,
  siftPresets,
  siftSigmas,
  siftThreshold,
} from "./config.js";

/** SIFT features of one image: the Features contract plus response and octave per keypoint. */
export interface SiftFeatures extends Features {
  // xy: (N, 2) px in the input image; scale: (N) OpenCV KeyPoint.size (diameter, px);
  // angle: (N) degrees, OpenCV's convention; desc: (N, 128) L2-normalised (RootSIFT: also unit L2).
  response: Float32Array; // (N) |DoG contrast|, [0,1] image units (OpenCV's response / 255)
  octave: Int32Array; // (N) OpenCV's octave numbering (-1 = the doubled image)
}

/** Features of a batch, resident on the GPU (what the matching stage consumes). */
export interface GpuFeatures {
  n: number;
  /** Max keypoints per image (slots per image in `keypoints` and `desc`). */
  capacity: number;
  counts: GPUBuffer; // (N) u32
  keypoints: GPUBuffer; // (N, capacity, KP_WORDS) f32 records (fields: KP in features/config.ts)
  desc: GPUBuffer; // (N, capacity, 128) f32
  /** Per image, where each octave's keypoints start: (N, nOctaves + 1) u32. */
  ranges: GPUBuffer;
  /** Raw extrema (no capacity: a flag map), refined candidates and oriented keypoints counted
   *  before the capacity cut: (N, nOctaves), (N, nOctaves) and (N) u32; oriented keypoints per
   *  octave (N, nOctaves) u32. Past the capacity whole octaves are dropped (see readCounts). */
  rawCounts: GPUBuffer;
  candCounts: GPUBuffer;
  orientedCounts: GPUBuffer;
  orientedOctaveCounts: GPUBuffer;
  /** Slots per image (and octave) of the candidate and oriented buffers (cfg.capacity). */
  candidateCapacity: number;
  /** Octave offset for the octave field of readFeatures (-1 when upsampling). */
  firstOctave: number;
}

export interface SiftPlan {
  gpu: Gpu;
  cfg: SiftConfig;
  n: number;
  width: number;
  height: number;
  octaves: OctaveGeom[];
  /** Floats per level in gauss[o] / dog[o] (N*h*w rounded up to 64 floats = 256 bytes). */
  strides: number[];
  input: GPUBuffer; // (N, H, W) f32 in [0,1]
  gauss: GPUBuffer[]; // per octave (L+3, stride)
  dog: GPUBuffer[]; // per octave (L+2, stride)
  tmp: GPUBuffer; // (stride_0) blur scratch
  /** Per octave (L, N, h, w) u32 flags at claimBase[o]: bit 0 extremum, bit 1 refined sample taken. */
  claim: GPUBuffer;
  claimBase: number[];
  /** Per octave the flag-map indices of its extrema (same layout as `claim`), and their number (nOct). */
  extList: GPUBuffer;
  extCount: GPUBuffer;
  // Indirect dispatch arguments, (nOct, 3 passes, 3) u32 each: refinement (pass 0) and the
  // descriptor pass (2) in `args`, orientation (1) in `args2` (refinement writes it, so its own
  // arguments live in the other buffer); reset from `argsInit` (x = 0) at the start of each batch.
  // Refinement covers every image with one list (y = 1), the others run per image (y = N).
  args: GPUBuffer;
  args2: GPUBuffer;
  argsInit: GPUBuffer;
  cands: GPUBuffer; // (N, nOct, capacity, KP_WORDS)
  oriented: GPUBuffer; // (N, capacity, KP_WORDS)
  out: GpuFeatures;
  /** Every dispatch of a batch, built once (bind groups and params included), replayed per batch. */
  calls: Call[];
  /** Buffers that other stages attached to the plan (features/store.ts), destroyed with it. */
  attached: Set<GPUBuffer>;
}

/** Workgroups of sift_blur.wgsl (64 x 4 invocations, 8 outputs each along the pass axis). */
export function siftBlurGrid(axis: 0 | 1, w: number, h: number, n: number): [number, number, number] {
  return axis === 0 ? [groups(h, 64), groups(Math.ceil(w / 8), 4), n] : [groups(w, 64), groups(Math.ceil(h / 8), 4), n];
}

/** Allocate the buffers and record-ready bind groups for `n` images of width x height. */
export function createSiftPlan(gpu: Gpu, width: number, height: number, n = 1, cfg: SiftConfig = siftPresets.opencv): SiftPlan {
  checkSiftConfig(cfg);
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 16 && height >= 16))
    throw new Error(`SIFT needs an image of at least 16x16 px, got ${width}x${height}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`SIFT batch size must be a positive integer, got ${n}`);
  const L = cfg.nOctaveLayers;
  const octaves = siftOctaves(width, height, cfg);
  if (!octaves.length) throw new Error(`SIFT: ${width}x${height} is too small for one octave`);
  const nOct = octaves.length;
  if (nOct > SIFT_MAX_OCTAVES)
    throw new Error(
      `SIFT: ${width}x${height} has ${nOct} octaves, more than the ${SIFT_MAX_OCTAVES} sift_select.wgsl handles; resize the input`,
    );
  const cap = cfg.capacity;
  const capOut = siftOutCapacity(cfg);
  const strides = octaves.map(({ w, h }) => Math.ceil((n * w * h) / 64) * 64);
  const { base, steps: sig } = siftSigmas(cfg);
  const tag = `sift ${width}x${height}x${n}`;

  const input = createBuffer(gpu, `${tag} input`, n * width * height * 4);
  const gauss = octaves.map((_, o) => createBuffer(gpu, `${tag} gauss o${o}`, (L + 3) * strides[o] * 4));
  const dog = octaves.map((_, o) => createBuffer(gpu, `${tag} dog o${o}`, (L + 2) * strides[o] * 4));
  const tmp = createBuffer(gpu, `${tag} blur tmp`, strides[0] * 4);
  const claimBase: number[] = [];
  let claimWords = 0;
  for (const { w, h } of octaves) {
    claimBase.push(claimWords);
    claimWords += L * n * w * h;
  }
  const claim = createBuffer(gpu, `${tag} claim`, claimWords * 4);
  const extList = createBuffer(gpu, `${tag} extrema list`, claimWords * 4);
  const extCount = createBuffer(gpu, `${tag} extrema counts`, nOct * 4);
  const rawCounts = createBuffer(gpu, `${tag} raw counts`, n * nOct * 4);
  const candCounts = createBuffer(gpu, `${tag} cand counts`, n * nOct * 4);
  const argsWords = Uint32Array.from({ length: nOct * 9 }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 2 || i % 9 < 3 ? 1 : n));
  const argsUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.INDIRECT | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const args = createBuffer(gpu, `${tag} indirect args`, argsWords.byteLength, argsUsage);
  const args2 = createBuffer(gpu, `${tag} indirect args 2`, argsWords.byteLength, argsUsage);
  const argsInit = upload(gpu, `${tag} indirect args init`, argsWords);
  const argAt = (o: number, pass: 0 | 1 | 2) => (o * 3 + pass) * 3; // u32 index of the triple
  const cands = createBuffer(gpu, `${tag} cands`, n * nOct * cap * KP_WORDS * 4);
  const orientedCounts = createBuffer(gpu, `${tag} oriented counts`, n * 4);
  const orientedOctaveCounts = createBuffer(gpu, `${tag} oriented counts per octave`, n * nOct * 4);
  const oriented = createBuffer(gpu, `${tag} oriented`, n * cap * KP_WORDS * 4);
  const out: GpuFeatures = {
    n,
    capacity: capOut,
    counts: createBuffer(gpu, `${tag} counts`, n * 4),
    keypoints: createBuffer(gpu, `${tag} keypoints`, n * capOut * KP_WORDS * 4),
    desc: createBuffer(gpu, `${tag} desc`, n * capOut * 128 * 4),
    ranges: createBuffer(gpu, `${tag} ranges`, n * (nOct + 1) * 4),
    rawCounts,
    candCounts,
    orientedCounts,
    orientedOctaveCounts,
    candidateCapacity: cap,
    firstOctave: cfg.upsample ? -1 : 0,
  };

  const calls: Call[] = [];
  const level = (buf: GPUBuffer, o: number, i: number): Binding => ({
    buffer: buf,
    offset: i * strides[o] * 4,
    size: n * octaves[o].w * octaves[o].h * 4,
  });
  const blurPipe = (radius: number) => pipeline(gpu, "features/sift_blur.wgsl", "main", { RADIUS: radius });
  const taps = new Map<number, GPUBuffer>();
  const blur = (src: Binding, dst: Binding, o: number, sigma: number) => {
    const { w, h } = octaves[o];
    let t = taps.get(sigma);
    if (!t) {
      t = upload(gpu, `${tag} taps ${sigma.toFixed(4)}`, gaussianTaps(sigma));
      taps.set(sigma, t);
    }
    const radius = (gaussianTaps(sigma).length - 1) >> 1;
    const tmpB: Binding = { buffer: tmp, offset: 0, size: n * w * h * 4 };
    for (const axis of [0, 1]) {
      const p = params(gpu, `${tag} blur o${o} axis${axis}`, [
        ["u32", w],
        ["u32", h],
        ["u32", n],
        ["u32", radius],
        ["u32", axis],
      ]);
      const b = axis === 0 ? [src, t, tmpB, p] : [tmpB, t, dst, p];
      calls.push(gpuCall(gpu, blurPipe(radius), b, siftBlurGrid(axis as 0 | 1, w, h, n), { label: `${tag} blur o${o} axis${axis}` }));
    }
  };

  const dogPipe = pipeline(gpu, "features/sift_dog.wgsl");
  const extPipe = pipeline(gpu, "features/sift_extrema.wgsl");
  const refPipe = pipeline(gpu, "features/sift_refine.wgsl");
  const oriPipe = pipeline(gpu, "features/sift_orientation.wgsl");
  const selPipe = pipeline(gpu, "features/sift_select.wgsl");
  const descPipe = pipeline(gpu, "features/sift_descriptor.wgsl");
  const toInput = (o: number) => 2 ** o * (cfg.upsample ? 0.5 : 1);

  octaves.forEach(({ w, h }, o) => {
    if (o === 0) {
      if (cfg.upsample) {
        const rp = pipeline(gpu, "image/resize_bilinear.wgsl");
        const p = params(gpu, `${tag} upsample`, [
          ["u32", width],
          ["u32", height],
          ["u32", w],
          ["u32", h],
          ["u32", n],
        ]);
        // The doubled image goes to level 1 (free until the blurs reach it), then blurs into level 0.
        calls.push(gpuCall(gpu, rp, [input, level(gauss[0], 0, 1), p], [groups(w, 16), groups(h, 16), n], { label: `${tag} upsample` }));
        blur(level(gauss[0], 0, 1), level(gauss[0], 0, 0), 0, base);
      } else blur(input, level(gauss[0], 0, 0), 0, base);
    } else {
      const prev = octaves[o - 1];
      const dp = pipeline(gpu, "image/downsample2.wgsl");
      const p = params(gpu, `${tag} downsample o${o}`, [
        ["u32", prev.w],
        ["u32", prev.h],
        ["u32", n],
        ["u32", 0],
      ]);
      const b = [level(gauss[o - 1], o - 1, L), level(gauss[o], o, 0), p];
      calls.push(gpuCall(gpu, dp, b, [groups(w, 16), groups(h, 16), n], { label: `${tag} downsample o${o}` }));
    }
    for (let i = 1; i < L + 3; i++) blur(level(gauss[o], o, i - 1), level(gauss[o], o, i), o, sig[i - 1]);
    const dogCount4 = ((L + 2) * strides[o]) / 4; // strides are multiples of 64 floats
    const dp = params(gpu, `${tag} dog o${o}`, [
      ["u32", dogCount4],
      ["u32", strides[o] / 4],
    ]);
    const [gx, gy] = grid1d(dogCount4, 256);
    calls.push(gpuCall(gpu, dogPipe, [gauss[o], dog[o], dp], [gx, gy, 1], { label: `${tag} dog o${o}` }));

    const xp = params(gpu, `${tag} extrema o${o}`, [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", L],
      ["u32", o],
      ["u32", nOct],
      ["u32", claimBase[o]],
      ["u32", strides[o]],
      ["u32", SIFT_IMG_BORDER],
      ["f32", siftThreshold(cfg)],
      ["u32", argAt(o, 0)],
    ]);
    const xwg: [number, number, number] = [groups(h, 8), groups(Math.ceil(w / 8), 8), L * n];
    const xb = [dog[o], claim, rawCounts, extList, extCount, args, xp];
    calls.push(gpuCall(gpu, extPipe, xb, xwg, { label: `${tag} extrema o${o}` }));
    const ep = params(gpu, `${tag} refine o${o}`, [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", L],
      ["u32", o],
      ["u32", nOct],
      ["u32", cap],
      ["u32", cfg.maxInterpSteps],
      ["u32", strides[o]],
      ["u32", claimBase[o]],
      ["u32", SIFT_IMG_BORDER],
      ["u32", 0],
      ["f32", siftThreshold(cfg)],
      ["f32", cfg.contrastThreshold],
      ["f32", cfg.edgeThreshold],
      ["f32", cfg.sigma],
      ["f32", toInput(o)],
      ["u32", argAt(o, 1)],
    ]);
    const eb = [dog[o], claim, candCounts, cands, args2, extList, extCount, ep];
    const rIndirect = { buffer: args, offset: argAt(o, 0) * 4 };
    calls.push(gpuCall(gpu, refPipe, eb, [1, 1, 1], { label: `${tag} refine o${o}`, indirect: rIndirect }));
    const op = params(gpu, `${tag} orientation o${o}`, [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", o],
      ["u32", nOct],
      ["u32", cap],
      ["u32", strides[o]],
      ["u32", cfg.oriBins],
      ["f32", cfg.oriPeakRatio],
      ["f32", SIFT_ORI_RADIUS],
      ["f32", SIFT_ORI_SIG_FCTR],
    ]);
    const ob = [gauss[o], cands, candCounts, oriented, orientedCounts, orientedOctaveCounts, op];
    const indirect = { buffer: args2, offset: argAt(o, 1) * 4 };
    calls.push(gpuCall(gpu, oriPipe, ob, [groups(cap, 64), n, 1], { label: `${tag} orientation o${o}`, indirect }));
  });

  const sp = params(gpu, `${tag} select`, [
    ["u32", n],
    ["u32", cap],
    ["u32", capOut],
    ["u32", cfg.maxFeatures],
    ["u32", nOct],
    ["u32", argAt(0, 2)],
  ]);
  const sb = [oriented, orientedOctaveCounts, out.keypoints, out.counts, out.ranges, args, sp];
  calls.push(gpuCall(gpu, selPipe, sb, [n, 1, 1], { label: `${tag} select` }));
  octaves.forEach(({ w, h }, o) => {
    const p = params(gpu, `${tag} descriptor o${o}`, [
      ["u32", w],
      ["u32", h],
      ["u32", n],
      ["u32", o],
      ["u32", nOct],
      ["u32", capOut],
      ["u32", strides[o]],
      ["u32", cfg.rootSift ? 1 : 0],
      ["f32", cfg.descMagnification],
      ["f32", cfg.descClip],
    ]);
    const indirect = { buffer: args, offset: argAt(o, 2) * 4 };
    const db = [gauss[o], out.keypoints, out.ranges, out.desc, p];
    calls.push(gpuCall(gpu, descPipe, db, [groups(capOut, 64), n, 1], { label: `${tag} descriptor o${o}`, indirect }));
  });

  return {
    gpu,
    cfg,
    n,
    width,
    height,
    octaves,
    strides,
    input,
    gauss,
    dog,
    tmp,
    claim,
    claimBase,
    extList,
    extCount,
    args,
    args2,
    argsInit,
    cands,
    oriented,
    out,
    calls,
    attached: new Set(),
  };
}

/** Release a plan's GPU memory. */
export function destroySiftPlan(plan: SiftPlan): void {
  for (const b of [
    ...plan.attached,
    plan.input,
    ...plan.gauss,
    ...plan.dog,
    plan.tmp,
    plan.claim,
    plan.extList,
    plan.extCount,
    plan.args,
    plan.args2,
    plan.argsInit,
    plan.cands,
    plan.oriented,
    plan.out.counts,
    plan.out.keypoints,
    plan.out.desc,
    plan.out.ranges,
    plan.out.rawCounts,
    plan.out.candCounts,
    plan.out.orientedCounts,
    plan.out.orientedOctaveCounts,
  ])
    b.destroy();
}

/**
 * Record SIFT for the plan's N images into `enc`. `gray`: (N, H, W) f32 in [0,1] (default: the
 * plan's own input buffer, filled by the caller). Returns the plan's GPU-resident results, valid
 * until the plan is encoded again.
 */
export function encodeSift(plan: SiftPlan, enc: GPUCommandEncoder, gray: GPUBuffer = plan.input): GpuFeatures {
  const bytes = plan.n * plan.width * plan.height * 4;
  if (gray !== plan.input) {
    if (gray.size < bytes)
      throw new Error(
        `encodeSift: input buffer '${gray.label}' has ${gray.size} bytes, needs ${bytes} for (${plan.n}, ${plan.height}, ${plan.width}) f32`,
      );
    enc.copyBufferToBuffer(gray, 0, plan.input, 0, bytes);
  }
  enc.clearBuffer(plan.claim);
  enc.clearBuffer(plan.extCount);
  enc.clearBuffer(plan.out.rawCounts);
  enc.clearBuffer(plan.out.candCounts);
  enc.clearBuffer(plan.out.orientedCounts);
  enc.clearBuffer(plan.out.orientedOctaveCounts);
  enc.copyBufferToBuffer(plan.argsInit, 0, plan.args, 0, plan.args.size);
  enc.copyBufferToBuffer(plan.argsInit, 0, plan.args2, 0, plan.args2.size);
  encodeCalls(enc, plan.calls, `sift ${plan.width}x${plan.height}x${plan.n}`);
  return plan.out;
}

/**
 * Per-image counts after the cap, and how many keypoints were lost to the fixed capacities (raise
 * cfg.capacity when non-zero). Past a capacity, whole octaves are dropped, never an arbitrary part
 * (which part fits would depend on invocation order): an octave with more refined candidates than
 * the capacity (its candidates are counted), and the oriented keypoints of the octave whose
 * records crossed the capacity and of the octaves after it.
 */
export async function readCounts(gpu: Gpu, f: GpuFeatures): Promise<{ counts: Uint32Array; dropped: Uint32Array }> {
  const counts = await readU32(gpu, f.counts, f.n);
  const cand = await readU32(gpu, f.candCounts);
  const ori = await readU32(gpu, f.orientedOctaveCounts);
  const per = cand.length / f.n;
  const dropped = new Uint32Array(f.n);
  for (let b = 0; b < f.n; b++) {
    let appended = 0;
    for (let o = 0; o < per; o++) {
      if (cand[b * per + o] > f.candidateCapacity) dropped[b] += cand[b * per + o];
      appended += ori[b * per + o];
      if (appended > f.candidateCapacity) dropped[b] += ori[b * per + o];
    }
  }
  return { counts, dropped };
}

/**
 * Copy a batch's features back to the host: one SiftFeatures per image. Two round trips whatever
 * the batch size: the counts, then every image's keypoint records and descriptors copied into one
 * staging buffer and mapped once.
 */
export async function readFeatures(gpu: Gpu, f: GpuFeatures): Promise<SiftFeatures[]> {
  const counts = await readU32(gpu, f.counts, f.n);
  const ranges = [...counts].flatMap((count, b) => [
    { buf: f.keypoints, bytes: count * KP_WORDS * 4, offset: b * f.capacity * KP_WORDS * 4 },
    { buf: f.desc, bytes: count * 128 * 4, offset: b * f.capacity * 128 * 4 },
  ]);
  const data = await readbackRanges(gpu, ranges, "SIFT features");
  return [...counts].map((count, b) =>
    recordsToFeatures(new Float32Array(data[2 * b]), new Float32Array(data[2 * b + 1]), count, f.firstOctave),
  );
}

/**
 * Keypoint records (count, KP_WORDS) + descriptors -> SiftFeatures, in the canonical order
 * (octave, y, x, size, angle, response, then layer, r, c; the order sift_order.wgsl gives): the
 * GPU appends keypoints through atomic counters, so their order in the buffers varies from run to
 * run; sorting makes everything downstream (matching ties, RANSAC refits) reproducible.
 */
export function recordsToFeatures(kp: Float32Array, descIn: Float32Array, count: number, firstOctave: number): SiftFeatures {
  const xy = new Float32Array(count * 2);
  const scale = new Float32Array(count);
  const angle = new Float32Array(count);
  const response = new Float32Array(count);
  const octave = new Int32Array(count);
  const at = (i: number, f: number) => kp[i * KP_WORDS + f];
  const keys = [KP.octave, KP.y, KP.x, KP.size, KP.angle, KP.response, KP.layer, KP.r, KP.c];
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => {
    for (const f of keys) if (at(a, f) !== at(b, f)) return at(a, f) - at(b, f);
    return a - b;
  });
  const desc = new Float32Array(count * 128);
  for (let j = 0; j < count; j++) {
    const i = order[j];
    desc.set(descIn.subarray(i * 128, i * 128 + 128), j * 128);
  }
  for (let j = 0; j < count; j++) {
    const q = order[j] * KP_WORDS;
    const i = j;
    xy[2 * i] = kp[q + KP.x];
    xy[2 * i + 1] = kp[q + KP.y];
    scale[i] = kp[q + KP.size];
    angle[i] = kp[q + KP.angle];
    response[i] = kp[q + KP.response];
    octave[i] = kp[q + KP.octave] + firstOctave;
  }
  return { count, xy, scale, angle, desc, response, octave };
}

// ---- host conveniences -----------------------------------------------------------------------------

const plans = new WeakMap<GPUDevice, Map<string, SiftPlan>>();
const MAX_CACHED_PLANS = 4;

/** A cached plan for (width, height, n, cfg) on this device (the 4 most recently used are kept). */
export function siftPlan(gpu: Gpu, width: number, height: number, n = 1, cfg: SiftConfig = siftPresets.opencv): SiftPlan {
  let cache = plans.get(gpu.device);
  if (!cache) {
    cache = new Map();
    plans.set(gpu.device, cache);
  }
  const key = `${width}x${height}x${n}:${JSON.stringify(cfg)}`;
  let plan = cache.get(key);
  if (plan) cache.delete(key);
  else {
    plan = createSiftPlan(gpu, width, height, n, cfg);
    if (cache.size >= MAX_CACHED_PLANS) {
      const [oldKey, old] = cache.entries().next().value as [string, SiftPlan];
      cache.delete(oldKey);
      destroySiftPlan(old);
    }
  }
  cache.set(key, plan);
  return plan;
}

/**
 * SIFT on N same-size gray images: `gray` (N, H, W) f32 in [0,1] on the host or the GPU.
 * Returns one SiftFeatures per image.
 */
export async function detectAndDescribeBatch(
  gpu: Gpu,
  gray: Float32Array | GPUBuffer,
  n: number,
  width: number,
  height: number,
  cfg: SiftConfig = siftPresets.opencv,
): Promise<SiftFeatures[]> {
  if (gray instanceof Float32Array && gray.length !== n * width * height)
    throw new Error(`detectAndDescribe: gray has ${gray.length} values, expected N*H*W = ${n}*${height}*${width} = ${n * width * height}`);
  const plan = siftPlan(gpu, width, height, n, cfg);
  // Calls sharing a cached plan run one after another: a second batch must not overwrite the
  // plan's buffers while the first is still being read back.
  const prev = busy.get(plan) ?? Promise.resolve();
  const run = prev.then(async () => {
    if (gray instanceof Float32Array) gpu.device.queue.writeBuffer(plan.input, 0, gray.buffer, gray.byteOffset, gray.byteLength);
    const enc = gpu.device.createCommandEncoder({ label: "sift" });
    const out = encodeSift(plan, enc, gray instanceof Float32Array ? plan.input : gray);
    gpu.device.queue.submit([enc.finish()]);
    const res = await readFeatures(gpu, out);
    gpu.check(`SIFT on ${n} image(s) of ${width}x${height}`);
    return res;
  });
  busy.set(
    plan,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}

const busy = new WeakMap<SiftPlan, Promise<void>>();

/** SIFT on one gray image (H, W) f32 in [0,1]. */
export async function detectAndDescribe(
  gpu: Gpu,
  gray: Float32Array | GPUBuffer,
  width: number,
  height: number,
  cfg: SiftConfig = siftPresets.opencv,
): Promise<SiftFeatures> {
  return (await detectAndDescribeBatch(gpu, gray, 1, width, height, cfg))[0];
}
