// SIFT on the adapter (shaders/features/sift_*.wgsl) vs OpenCV's SIFT (Debian python3-opencv,
// bench/peers/sift.py) on the same 8-bit PNG images in the same run:
//  - images/s and keypoints/image at 224x224 and 640x480 (ours: one image per call with upload and
//    readback, and a batch of same-size images in one submission; OpenCV: one detectAndCompute per
//    image, its default threads);
//  - repeatability (1.5 px) and matching score (descriptor NN within 3 px) of both on the same
//    warped pairs (src/features/textures.ts standardWarps, 224x224), scored by the same code
//    (src/features/eval.ts).
// --profile: instead of the peer, where one batch's time goes at 224x224 with the 2x upsampling
// (1 image and 8): dispatches, bind groups, uniforms, submits and readbacks per batch; stage times
// in one pass (the batch timed with the later stages dropped in turn); the blur pass's cost per
// pixel at each radius octave 0 uses; and GPU time per kernel from timestamp queries (one pass
// per dispatch, so each includes a pass's overhead: on lavapipe the sum is well above the batch).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Features } from "../src/contracts.js";
import { siftPresets, siftSigmas } from "../src/features/config.js";
import { scoreWarp } from "../src/features/eval.js";
import {
  createSiftPlan,
  destroySiftPlan,
  detectAndDescribe,
  detectAndDescribeBatch,
  encodeSift,
  readFeatures,
  siftPlan,
} from "../src/features/sift.js";
import { createFeatureStore, describeToStore, destroyFeatureStore, releaseFeatures } from "../src/features/store.js";
import { makeTexture, render, renderWarp, standardWarps } from "../src/features/textures.js";
import { describeAdapter, type Gpu, getGpu } from "../src/gpu/device.js";
import { type Call, encodeCalls } from "../src/gpu/kernel.js";
import { gaussianTaps } from "../src/image/cpu.js";
import { writePng } from "../src/image/io.js";
import { type BenchOptions, type BenchResult, type BenchRow, row, runPython, timeMs, timestampCalls } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const peerScript = () => {
  // bench/peers/sift.py in the source tree (dist/bench/../../bench or bench/ itself).
  for (const p of [path.join(here, "peers", "sift.py"), path.join(here, "..", "..", "bench", "peers", "sift.py")])
    if (fs.existsSync(p)) return p;
  throw new Error("bench/peers/sift.py not found");
};

const to8 = (img: Float32Array) => Uint8Array.from(img, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
const from8 = (img: Uint8Array) => Float32Array.from(img, (v) => v / 255);

function readPeer(dir: string, name: string): Features {
  const f32 = (file: string) => {
    const b = fs.readFileSync(path.join(dir, file));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
  };
  const kp = f32(`${name}.kp.f32`);
  const desc = f32(`${name}.desc.f32`);
  const count = kp.length / 4;
  const xy = new Float32Array(count * 2);
  const scale = new Float32Array(count);
  const angle = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    xy[2 * i] = kp[4 * i];
    xy[2 * i + 1] = kp[4 * i + 1];
    scale[i] = kp[4 * i + 2];
    angle[i] = kp[4 * i + 3];
  }
  return { count, xy, scale, angle, desc };
}

// ---- profile -------------------------------------------------------------------------------------

/** Bind groups, buffers, buffer writes, submits and maps made while `fn` runs. */
async function countGpuObjects(gpu: Gpu, fn: () => Promise<unknown>) {
  const dev = gpu.device as unknown as Record<string, unknown>;
  const q = gpu.device.queue as unknown as Record<string, unknown>;
  const n = { bindGroups: 0, buffers: 0, writes: 0, submits: 0 };
  const wrap = (o: Record<string, unknown>, key: string, k: keyof typeof n) => {
    const f = o[key] as (...a: unknown[]) => unknown;
    o[key] = function (this: unknown, ...a: unknown[]) {
      n[k]++;
      return f.apply(this, a);
    };
  };
  wrap(dev, "createBindGroup", "bindGroups");
  wrap(dev, "createBuffer", "buffers");
  wrap(q, "writeBuffer", "writes");
  wrap(q, "submit", "submits");
  try {
    await fn();
  } finally {
    // Own properties shadowed the prototype's methods; deleting them restores those.
    for (const k of ["createBindGroup", "createBuffer"]) delete dev[k];
    for (const k of ["writeBuffer", "submit"]) delete q[k];
  }
  return n;
}

// SIFT's stages in dependency order, latest first: a batch without the first k of them still
// computes the others exactly, so the differences of its times are the stages' times in one pass.
const DOWNSTREAM = ["descriptor", "select", "orientation", "refine", "extrema", "dog"] as const;
const kindOf = (c: Call) => c.label.replace(/^sift \S+ /, "").replace(/ o\d+.*$/, "");

/**
 * Min wall ms of each of `count` pieces of GPU work, over `reps` rounds that time every piece in
 * turn (so a slow spell of a shared machine hits all of them); `encode(i, enc)` records piece i,
 * which is then submitted alone and waited for. A first round warms up and is not counted.
 */
async function interleavedMin(
  gpu: Gpu,
  count: number,
  reps: number,
  encode: (i: number, enc: GPUCommandEncoder) => void,
): Promise<number[]> {
  const best = Array.from({ length: count }, () => Number.POSITIVE_INFINITY);
  for (let r = 0; r <= reps; r++)
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const enc = gpu.device.createCommandEncoder({ label: "sift profile" });
      encode(i, enc);
      gpu.device.queue.submit([enc.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
      if (r > 0) best[i] = Math.min(best[i], performance.now() - t0);
    }
  return best;
}

/** Min wall ms per image of the plan's batch with only each of `lists` recorded (one pass each). */
async function timeCallLists(gpu: Gpu, plan: ReturnType<typeof createSiftPlan>, lists: Call[][], reps: number): Promise<number[]> {
  const all = plan.calls;
  try {
    const best = await interleavedMin(gpu, lists.length, reps, (i, enc) => {
      plan.calls = lists[i];
      encodeSift(plan, enc);
    });
    return best.map((ms) => ms / plan.n);
  } finally {
    plan.calls = all;
  }
}

/**
 * Stage times of one batch in one pass: the whole batch, then without the descriptor pass, then
 * also without selection, and so on (DOWNSTREAM); what is left is the scale space, split into
 * octave 0 (the 2x upsampling and its 12 blur passes) and the other octaves. Min of `reps`.
 */
async function stagesInPass(gpu: Gpu, plan: ReturnType<typeof createSiftPlan>, reps: number): Promise<Array<[string, number]>> {
  const all = plan.calls;
  const lists = DOWNSTREAM.map((_, k) => all.filter((c) => !(DOWNSTREAM.slice(0, k + 1) as readonly string[]).includes(kindOf(c))));
  const t = await timeCallLists(gpu, plan, [all, ...lists, all.filter((c) => /upsample| blur o0 /.test(c.label))], reps);
  const out: Array<[string, number]> = [["whole batch", t[0]]];
  for (const [i, k] of DOWNSTREAM.entries()) out.push([k, t[i] - t[i + 1]]);
  const [scale, o0] = [t[DOWNSTREAM.length], t[DOWNSTREAM.length + 1]];
  out.push(["scale space, octave 0 (upsampling + 12 blur passes)", o0], ["scale space, other octaves", scale - o0]);
  return out;
}

/**
 * One blur pass of octave 0 (the doubled image) at each radius the plan uses, axis 0 and 1, alone:
 * ns per output pixel, min over `reps` rounds (each times every pass in turn, 4 dispatches each).
 */
async function blurPassCost(gpu: Gpu, plan: ReturnType<typeof createSiftPlan>, reps: number): Promise<string[]> {
  const { base, steps } = siftSigmas(plan.cfg);
  const radii = [base, ...steps].map((sigma) => (gaussianTaps(sigma).length - 1) >> 1);
  const blurs = plan.calls.filter((c) => / blur o0 /.test(c.label)); // (level, axis) in order
  const levels = radii.map((r, level) => ({ r, level })).filter((e, i) => radii.indexOf(e.r) === i);
  const calls = levels.flatMap(({ level }) => [blurs[2 * level], blurs[2 * level + 1]]);
  const best = await interleavedMin(gpu, calls.length, reps, (i, enc) => encodeCalls(enc, Array(4).fill(calls[i]), calls[i].label));
  const px = plan.n * plan.octaves[0].w * plan.octaves[0].h;
  const ns = (i: number) => ((best[i] * 1e6) / 4 / px).toFixed(2);
  return levels.map(({ r }, j) => `| ${r} | ${2 * r + 1} | ${ns(2 * j)} | ${ns(2 * j + 1)} |`);
}

/**
 * Issue 22 item 5's A/B, same process, alternating: a batch replaying the plan's recorded calls in
 * one pass, vs the same dispatches issued as `dispatch` did per batch: per dispatch a new bind
 * group, a new params uniform (created and written; the plan's uniform stays bound, as uniform
 * buffers cannot be copied) and a pass. Median wall ms per batch, features read back.
 */
async function replayVsPerBatch(gpu: Gpu, gray: Float32Array, n: number, W: number): Promise<{ replayed: number; perBatch: number }> {
  const dev = gpu.device as unknown as Record<string, unknown>;
  const descs = new Map<GPUBindGroup, GPUBindGroupDescriptor>();
  const cbg = gpu.device.createBindGroup.bind(gpu.device);
  dev.createBindGroup = (d: GPUBindGroupDescriptor) => {
    const g = cbg(d);
    descs.set(g, d);
    return g;
  };
  let plan: ReturnType<typeof createSiftPlan>;
  try {
    plan = createSiftPlan(gpu, W, W, n, siftPresets.opencv);
  } finally {
    delete dev.createBindGroup;
  }
  const calls = plan.calls;
  gpu.device.queue.writeBuffer(plan.input, 0, gray.buffer, gray.byteOffset, gray.byteLength);
  const replayed = async () => {
    const enc = gpu.device.createCommandEncoder({ label: "sift A/B replayed" });
    encodeSift(plan, enc);
    gpu.device.queue.submit([enc.finish()]);
    await readFeatures(gpu, plan.out);
  };
  const perBatch = async () => {
    const made: GPUBuffer[] = [];
    const enc = gpu.device.createCommandEncoder({ label: "sift A/B per batch" });
    plan.calls = []; // encodeSift's clears and copies only
    encodeSift(plan, enc);
    plan.calls = calls;
    for (const c of calls) {
      const d = descs.get(c.group) as GPUBindGroupDescriptor;
      for (const e of d.entries as Iterable<GPUBindGroupEntry>) {
        const b = (e.resource as GPUBufferBinding).buffer;
        if (!(b.usage & GPUBufferUsage.UNIFORM)) continue;
        const u = gpu.device.createBuffer({ label: `${b.label} per batch`, size: b.size, usage: b.usage });
        gpu.device.queue.writeBuffer(u, 0, new Uint8Array(b.size));
        made.push(u);
      }
      encodeCalls(enc, [{ ...c, group: cbg(d) }], c.label);
    }
    gpu.device.queue.submit([enc.finish()]);
    await readFeatures(gpu, plan.out);
    for (const u of made) u.destroy();
  };
  const t = { replayed: [] as number[], perBatch: [] as number[] };
  await replayed();
  await perBatch();
  for (let r = 0; r < 7; r++)
    for (const [k, f] of [
      ["replayed", replayed],
      ["perBatch", perBatch],
    ] as const) {
      const t0 = performance.now();
      await f();
      t[k].push(performance.now() - t0);
    }
  destroySiftPlan(plan);
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  return { replayed: med(t.replayed), perBatch: med(t.perBatch) };
}

async function profile(gpu: Gpu): Promise<BenchResult> {
  if (!gpu.hasTimestamps) throw new Error("bench sift --profile needs the adapter's timestamp-query feature");
  const cfg = siftPresets.opencv;
  const W = 224;
  const lines: string[] = [];
  const rows: BenchRow[] = [];
  for (const n of [1, 8]) {
    const gray = new Float32Array(n * W * W);
    for (let i = 0; i < n; i++) gray.set(render(makeTexture(100 + i, W), W, W), i * W * W);
    await detectAndDescribeBatch(gpu, gray, n, W, W, cfg); // builds and caches the plan
    const counts = await countGpuObjects(gpu, () => detectAndDescribeBatch(gpu, gray, n, W, W, cfg));
    const plan = siftPlan(gpu, W, W, n, cfg);
    const stages = await stagesInPass(gpu, plan, 9);
    const whole = stages[0][1];
    const blurLines = n === 8 ? await blurPassCost(gpu, plan, 9) : [];
    const per = new Map<string, { dispatches: number; ns: number[] }>();
    const reps = 5;
    for (let r = 0; r < reps; r++) {
      const ns = await timestampCalls(gpu, plan.calls);
      plan.calls.forEach((c, i) => {
        const kind = kindOf(c);
        const e = per.get(kind) ?? { dispatches: 0, ns: Array(reps).fill(0) };
        if (r === 0) e.dispatches++;
        e.ns[r] += ns[i];
        per.set(kind, e);
      });
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const total = [...per.values()].reduce((a, e) => a + med(e.ns), 0);
    lines.push(
      `#### ${W}x${W}, 2x upsampling, batch of ${n}: per batch ${plan.calls.length} dispatches in one pass, ${counts.bindGroups} bind groups, ${counts.buffers} buffers (readback staging), ${counts.writes} buffer writes, ${counts.submits} submits`,
      "",
      "| stage, in one pass (the batch timed with the later stages dropped in turn; min of 9) | ms per image | share |",
      "|---|---|---|",
      `| whole batch | ${whole.toFixed(2)} | 100% |`,
      ...stages.slice(1).map(([k, ms]) => `| ${k} | ${ms.toFixed(2)} | ${((100 * ms) / whole).toFixed(0)}% |`),
      "",
      ...(blurLines.length
        ? [
            `One blur pass of octave 0 (${plan.octaves[0].w}x${plan.octaves[0].h} x ${n} images), alone, min of 9 rounds of 4 dispatches:`,
            "",
            "| radius | taps | ns per pixel, horizontal | ns per pixel, vertical |",
            "|---|---|---|---|",
            ...blurLines,
            "",
          ]
        : []),
      "| kernel | dispatches | ms per image (GPU timestamps, median of 5) | share |",
      "|---|---|---|---|",
      ...[...per]
        .sort((a, b) => med(b[1].ns) - med(a[1].ns))
        .map(([k, e]) => `| ${k} | ${e.dispatches} | ${(med(e.ns) / 1e6 / n).toFixed(2)} | ${((100 * med(e.ns)) / total).toFixed(0)}% |`),
      "",
    );
    rows.push(row(`SIFT ${W}x${W} batch of ${n}: kernels in one pass (min of 9)`, "ms/image", whole, null, true));
    rows.push(row(`SIFT ${W}x${W} batch of ${n}: kernels (sum of timestamped dispatches)`, "ms/image", total / 1e6 / n, null, true));
    const ab = await replayVsPerBatch(gpu, gray, n, W);
    rows.push(
      row(
        `SIFT ${W}x${W} batch of ${n}: calls replayed (1 pass) vs built per batch (a bind group, uniform and pass each)`,
        "ms/image",
        ab.replayed / n,
        ab.perBatch / n,
        true,
      ),
    );
  }
  return {
    name: "sift",
    peer: "- (profile)",
    adapter: describeAdapter(gpu.adapter),
    rows,
    notes: [
      "--profile: the stage tables time whole passes; the timestamp tables time each dispatch in its own pass, whose sum is above a batch's time in one pass.",
    ],
    extra: lines.join("\n"),
  };
}

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  if (opts.profile) return profile(gpu);
  const cfg = siftPresets.opencv;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimic-sift-bench-"));
  const repeats = opts.quick ? 1 : 3;
  const sizes: Array<[number, number, number]> = opts.quick
    ? [[224, 224, 2]]
    : [
        [224, 224, 8],
        [640, 480, 4],
      ];

  // Images (8-bit, identical for both sides).
  const groups: Array<{ w: number; h: number; names: string[]; gray: Float32Array }> = [];
  for (const [w, h, count] of sizes) {
    const names: string[] = [];
    const gray = new Float32Array(count * w * h);
    for (let i = 0; i < count; i++) {
      const img8 = to8(render(makeTexture(100 + i, Math.max(w, h)), w, h));
      const name = `t${w}x${h}_${i}.png`;
      await writePng(path.join(dir, name), w, h, img8, 1);
      names.push(name);
      gray.set(from8(img8), i * w * h);
    }
    groups.push({ w, h, names, gray });
  }
  const W = 224;
  const warps = standardWarps(W, W);
  const tex = makeTexture(42, W);
  const a8 = to8(render(tex, W, W));
  await writePng(path.join(dir, "pairA.png"), W, W, a8, 1);
  const views: Float32Array[] = [];
  for (let i = 0; i < warps.length; i++) {
    const b8 = to8(await renderWarp(tex, W, W, warps[i]));
    await writePng(path.join(dir, `pairB${i}.png`), W, W, b8, 1);
    views.push(from8(b8));
  }
  fs.writeFileSync(
    path.join(dir, "manifest.json"),
    JSON.stringify({ timing: groups.map((g) => g.names), score: ["pairA.png", ...warps.map((_, i) => `pairB${i}.png`)] }),
  );

  // Peer.
  const peer = JSON.parse(runPython(peerScript(), [dir, String(repeats)])) as {
    opencv: string;
    threads: number;
    timing: Array<{ images: number; sec: number; kp_per_image: number }>;
  };

  // Ours.
  const rows: BenchRow[] = [];
  for (const [gi, g] of groups.entries()) {
    const n = g.names.length;
    const plane = g.w * g.h;
    let kps = 0;
    const single = await timeMs(
      async () => {
        kps = 0;
        for (let i = 0; i < n; i++) kps += (await detectAndDescribe(gpu, g.gray.subarray(i * plane, (i + 1) * plane), g.w, g.h, cfg)).count;
      },
      repeats,
      1,
    );
    const batched = await timeMs(() => detectAndDescribeBatch(gpu, g.gray, n, g.w, g.h, cfg), repeats, 1);
    // Mining's path: the descriptors go into a feature store and stay on the GPU (keypoint
    // records and counts come back, in the canonical order).
    const store = createFeatureStore(gpu);
    const stored = await timeMs(
      async () => {
        const plan = siftPlan(gpu, g.w, g.h, n, cfg);
        gpu.device.queue.writeBuffer(plan.input, 0, g.gray);
        const enc = gpu.device.createCommandEncoder();
        encodeSift(plan, enc);
        const { feats } = await describeToStore(plan, enc, store);
        for (const f of feats) releaseFeatures(f);
      },
      repeats,
      1,
    );
    destroyFeatureStore(store);
    const p = peer.timing[gi];
    const tag = `${g.w}x${g.h}`;
    rows.push(row(`SIFT ${tag}, 1 image per call (upload + readback)`, "images/s", n / (single / 1e3), p.images / p.sec));
    rows.push(row(`SIFT ${tag}, batch of ${n} per submission`, "images/s", n / (batched / 1e3), p.images / p.sec));
    rows.push(
      row(
        `SIFT ${tag}, batch of ${n}, descriptors kept on the GPU (feature store, as mining)`,
        "images/s",
        n / (stored / 1e3),
        p.images / p.sec,
      ),
    );
    rows.push(row(`SIFT ${tag} keypoints/image`, "kp", kps / n, p.kp_per_image));
    // Without the 2x upsampling (not an option of cv2.SIFT_create): a quarter of the scale space.
    const noUp = { ...cfg, upsample: false };
    let kpsNoUp = 0;
    const singleNoUp = await timeMs(
      async () => {
        kpsNoUp = 0;
        for (let i = 0; i < n; i++)
          kpsNoUp += (await detectAndDescribe(gpu, g.gray.subarray(i * plane, (i + 1) * plane), g.w, g.h, noUp)).count;
      },
      repeats,
      1,
    );
    rows.push(
      row(
        `SIFT ${tag} without 2x upsampling, 1 image per call (${(kpsNoUp / n).toFixed(0)} kp/image)`,
        "images/s",
        n / (singleNoUp / 1e3),
        p.images / p.sec,
      ),
    );
  }

  // Quality on the warped pairs.
  const fa = await detectAndDescribe(gpu, from8(a8), W, W, cfg);
  const pa = readPeer(dir, "pairA.png");
  let sumRep = [0, 0];
  let sumMs = [0, 0];
  for (const [i, wp] of warps.entries()) {
    const fb = await detectAndDescribe(gpu, views[i], W, W, cfg);
    const pb = readPeer(dir, `pairB${i}.png`);
    const ours = scoreWarp(fa, fb, wp.H, W, W, W, W);
    const theirs = scoreWarp(pa, pb, wp.H, W, W, W, W);
    rows.push(row(`repeatability @1.5px, ${wp.name}`, "fraction", ours.repeatability, theirs.repeatability));
    rows.push(row(`matching score (NN within 3px), ${wp.name}`, "fraction", ours.matchingScore, theirs.matchingScore));
    sumRep = [sumRep[0] + ours.repeatability, sumRep[1] + theirs.repeatability];
    sumMs = [sumMs[0] + ours.matchingScore, sumMs[1] + theirs.matchingScore];
  }
  rows.push(row("repeatability @1.5px, mean of warps", "fraction", sumRep[0] / warps.length, sumRep[1] / warps.length));
  rows.push(row("matching score, mean of warps", "fraction", sumMs[0] / warps.length, sumMs[1] / warps.length));
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    name: "sift",
    peer: `OpenCV ${peer.opencv} SIFT (CPU, ${peer.threads} threads)`,
    adapter: describeAdapter(gpu.adapter),
    rows,
    notes: [
      "Same 8-bit PNGs for both (procedural textures). Ours: siftPresets.opencv (2x upsampling, 3 layers, contrast 0.04, edge 10), no feature cap; OpenCV: cv2.SIFT_create() defaults.",
      `images/s: median of ${repeats} passes over the group. Quality: ${W}x${W} texture vs its warps (src/features/textures.ts), scored by src/features/eval.ts for both.`,
    ],
  };
}
