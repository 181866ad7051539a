// MIM training throughput: images/s (pairs/s for CroCo) of one full training step (forward, masked
// MSE, backward, AdamW) of the GPU model (src/models/mim_gpu.ts via GpuMimTrainer) on the adapter,
// beside the same model in PyTorch on the CPU (bench/peers/train.py, which imports
// test/fixtures/make_reference.py's MIM) in the same run. Presets nano (batch 8) and tiny (batch 4;
// --quick: nano only, fewer steps). Random inputs, fresh random masks per step, as in training.
//
// The peer's setup is explicit: its process runs WITHOUT OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (these
// machines set them, which pins OpenBLAS to older kernels), and the notes print its BLAS, the
// OpenBLAS core it picked and its threads. Only the peer's environment changes; tests and CI keep
// theirs. The peer runs twice per case, on all cores and on 1 thread, and the faster counts: on
// the shared 2-core VM, torch's 2-thread step was several times slower than its 1-thread step
// whenever other processes ran (presumably OpenMP threads waiting at barriers for a descheduled one).
//
// --profile: instead of the peer, where one training step's time goes, per dispatch group (kind of
// kernel call): GPU timestamp queries around every dispatch (one compute pass each) when the device
// has 'timestamp-query', else wall time of each group's dispatches submitted alone with a flush
// (onSubmittedWorkDone) minus an empty submit's. Plus per-step counts of dispatches, bind groups
// created, queue.writeBuffer calls and submits.
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeAdapter, type Gpu, getGpu } from "../src/gpu/device.js";
import { packageRoot } from "../src/gpu/kernel.js";
import { type ArchName, modelConfig, numPatches } from "../src/models/config.js";
import { type Masking, randomMasking } from "../src/models/masking.js";
import { initParams } from "../src/models/params.js";
import type { Call } from "../src/nn/core.js";
import { Pcg32 } from "../src/prng.js";
import type { MimBatch } from "../src/train/data.js";
import { GpuMimTrainer } from "../src/train/gpu_trainer.js";
import { type BenchOptions, type BenchResult, type BenchRow, peerEnv, peerEnvNote, row, runPython, timestampCalls } from "./lib.js";

export interface Case {
  arch: ArchName;
  objective: "croco" | "mae";
  batch: number;
  warmup: number;
  steps: number;
}

function randomViews(n: number, seed: number): Float32Array {
  const r = new Pcg32(seed, 3);
  return Float32Array.from({ length: n }, () => 2 * r.nextFloat() - 1);
}

/** A trainer for the case with MAE-initialised weights, a random batch and a step function. */
export async function setupCase(gpu: Gpu, c: Case) {
  const config = modelConfig(c.arch, c.objective);
  const trainer = new GpuMimTrainer(gpu, config);
  await trainer.importParams(initParams(config, 0).data);
  const S = config.imgSize;
  const B = c.batch;
  const batch: MimBatch = {
    epoch: 0,
    index: 0,
    B,
    view1: randomViews(B * 3 * S * S, 1),
    view2: c.objective === "croco" ? randomViews(B * 3 * S * S, 2) : null,
    items: new Int32Array(B),
    swapped: new Uint8Array(B),
  };
  const L = numPatches(config);
  const masking = (s: number): Masking => randomMasking(B, L, config.maskRatio, 7, s * B);
  const step = async (s: number) => {
    await trainer.microStep(batch, masking(s));
    await trainer.optimizerStep(1e-4, 1);
  };
  return { config, trainer, batch, masking, step };
}

/** Seconds per training step of the GPU trainer (mean over `steps` after `warmup`). */
async function oursSecPerStep(c: Case): Promise<number> {
  const gpu = await getGpu();
  const { step } = await setupCase(gpu, c);
  for (let s = 0; s < c.warmup; s++) await step(s);
  const t0 = performance.now();
  for (let s = 0; s < c.steps; s++) await step(c.warmup + s);
  await gpu.device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000 / c.steps;
}

// ---- profile -------------------------------------------------------------------------------------

/** Dispatch groups: a call's label starts with its kind (src/nn builders label them so). */
const KINDS = [
  "linear fwd",
  "linear dx",
  "linear dW",
  "attn S",
  "attn O",
  "attn dP",
  "attn dV",
  "attn dQ",
  "attn dK",
  "attn fwd",
  "attn bwd",
  "softmax fwd",
  "softmax bwd",
  "layernorm fwd",
  "layernorm dx",
  "layernorm dparams",
  "gelu fwd",
  "gelu bwd",
  "head transpose",
  "transpose",
  "bias grad",
  "add",
  "axpy",
  "scale",
  "fill",
  "gather",
  "scatter",
  "patchify",
  "masked mse",
  "adamw",
  "cls_token grad",
  "mask_token grad",
];
export const kindOf = (label: string): string => KINDS.find((k) => label === k || label.startsWith(`${k} `)) ?? label;

export interface StepProfile {
  source: "timestamp-query" | "wall per group";
  /** Per group: dispatches per step and median ms per step. */
  groups: { group: string; dispatches: number; ms: number }[];
  /** Sum of the groups' ms. */
  kernelMs: number;
  /** Median wall ms of one whole training step (micro-step + optimizer step, awaited). */
  stepMs: number;
  dispatches: number;
  bindGroups: number;
  writes: number;
  writeBytes: number;
  submits: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Count bind groups, buffer writes and submits made while `fn` runs. */
async function countCalls(gpu: Gpu, fn: () => Promise<void>) {
  const dev = gpu.device;
  const q = dev.queue;
  const n = { bindGroups: 0, writes: 0, writeBytes: 0, submits: 0 };
  const cbg = dev.createBindGroup;
  const wb = q.writeBuffer;
  const sub = q.submit;
  dev.createBindGroup = function (this: GPUDevice, d: GPUBindGroupDescriptor) {
    n.bindGroups++;
    return cbg.call(this, d);
  };
  q.writeBuffer = function (this: GPUQueue, ...a: Parameters<GPUQueue["writeBuffer"]>) {
    n.writes++;
    const data = a[2] as ArrayBufferView | ArrayBuffer;
    n.writeBytes += a[4] !== undefined ? a[4] * ("BYTES_PER_ELEMENT" in data ? (data.BYTES_PER_ELEMENT as number) : 1) : data.byteLength;
    return wb.apply(this, a);
  };
  q.submit = function (this: GPUQueue, bufs: Iterable<GPUCommandBuffer>) {
    n.submits++;
    return sub.call(this, bufs);
  };
  try {
    await fn();
  } finally {
    // Own properties shadowed the prototype's methods; deleting them restores those.
    delete (dev as Partial<GPUDevice>).createBindGroup;
    delete (q as Partial<GPUQueue>).writeBuffer;
    delete (q as Partial<GPUQueue>).submit;
  }
  return n;
}

/** Wall ms of `calls` in one pass of one submit, flushed, minus an empty submit's (median of reps). */
async function wallCalls(gpu: Gpu, calls: readonly Call[], reps: number): Promise<number> {
  const once = async (cs: readonly Call[]) => {
    const t0 = performance.now();
    const enc = gpu.device.createCommandEncoder({ label: "profile group" });
    const pass = enc.beginComputePass({ label: "profile group" });
    for (const c of cs) {
      pass.setPipeline(c.pipe);
      pass.setBindGroup(0, c.group);
      pass.dispatchWorkgroups(...c.wg);
    }
    pass.end();
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  const full: number[] = [];
  const empty: number[] = [];
  for (let r = 0; r < reps; r++) {
    empty.push(await once([]));
    full.push(await once(calls));
  }
  return Math.max(0, median(full) - median(empty));
}

/** The calls of one training step in order: forward, backward, AdamW (its uniform is written now). */
export function stepCalls(trainer: GpuMimTrainer, B: number): Call[] {
  const plan = trainer.model.plan(B);
  return [...plan.forwardCalls, ...plan.backwardCalls, ...trainer.opt.step(1e-4, 1)];
}

export async function profileCase(gpu: Gpu, c: Case, reps = 3): Promise<StepProfile> {
  const { trainer, step } = await setupCase(gpu, c);
  for (let s = 0; s < c.warmup; s++) await step(s);
  const counts = await countCalls(gpu, async () => {
    await step(c.warmup);
    await gpu.device.queue.onSubmittedWorkDone();
  });
  const stepTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await step(c.warmup + 1 + r);
    await gpu.device.queue.onSubmittedWorkDone();
    stepTimes.push(performance.now() - t0);
  }
  const calls = stepCalls(trainer, c.batch);
  const byGroup = new Map<string, Call[]>();
  for (const call of calls) {
    const g = kindOf(call.label);
    byGroup.set(g, [...(byGroup.get(g) ?? []), call]);
  }
  const ms = new Map<string, number>();
  let source: StepProfile["source"];
  if (gpu.hasTimestamps) {
    source = "timestamp-query";
    const runs: number[][] = [];
    for (let r = 0; r < reps; r++) runs.push(await timestampCalls(gpu, calls));
    calls.forEach((call, i) => {
      const g = kindOf(call.label);
      ms.set(g, (ms.get(g) ?? 0) + median(runs.map((x) => x[i])) / 1e6);
    });
  } else {
    source = "wall per group";
    for (const [g, cs] of byGroup) ms.set(g, await wallCalls(gpu, cs, reps));
  }
  const groups = [...byGroup.entries()]
    .map(([group, cs]) => ({ group, dispatches: cs.length, ms: ms.get(group) ?? 0 }))
    .sort((a, b) => b.ms - a.ms || a.group.localeCompare(b.group));
  return {
    source,
    groups,
    kernelMs: groups.reduce((a, g) => a + g.ms, 0),
    stepMs: median(stepTimes),
    dispatches: calls.length,
    ...counts,
  };
}

export function profileTable(title: string, p: StepProfile): string {
  const lines = [
    `#### ${title}: one training step (${p.source}; median of 3)`,
    "",
    "| dispatch group | dispatches | ms/step | share |",
    "|---|---:|---:|---:|",
    ...p.groups.map((g) => `| ${g.group} | ${g.dispatches} | ${g.ms.toFixed(2)} | ${((100 * g.ms) / p.kernelMs).toFixed(1)}% |`),
    `| all kernels | ${p.dispatches} | ${p.kernelMs.toFixed(1)} | 100% |`,
    "",
    `Per step: ${p.dispatches} dispatches, ${p.bindGroups} bind groups created, ${p.writes} queue.writeBuffer calls ` +
      `(${(p.writeBytes / 1024).toFixed(0)} KiB), ${p.submits} submits; whole step (wall, awaited) ${p.stepMs.toFixed(1)} ms.`,
  ];
  return lines.join("\n");
}

// ---- peer ----------------------------------------------------------------------------------------

interface PeerOut {
  imgPerSec: number;
  secPerStep: number;
  threads: number;
  torch: string;
  blas: string;
  coretype: string;
}

export async function bench(opts: BenchOptions = {}): Promise<BenchResult> {
  const gpu = await getGpu();
  const cases: Case[] = opts.quick
    ? [{ arch: "nano", objective: "croco", batch: 8, warmup: 1, steps: 3 }]
    : [
        { arch: "nano", objective: "croco", batch: 8, warmup: 1, steps: 5 },
        { arch: "nano", objective: "mae", batch: 8, warmup: 1, steps: 5 },
        { arch: "tiny", objective: "croco", batch: 4, warmup: 1, steps: 2 },
        { arch: "tiny", objective: "mae", batch: 4, warmup: 1, steps: 2 },
      ];
  const unitOf = (c: Case) => (c.objective === "croco" ? "pairs/s" : "img/s");
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  if (opts.profile) {
    const tables: string[] = [];
    for (const c of cases) {
      const p = await profileCase(gpu, c);
      rows.push(row(`${c.arch} ${c.objective} train step, batch ${c.batch}`, unitOf(c), (1000 * c.batch) / p.stepMs, null));
      tables.push(profileTable(`${c.arch} ${c.objective}, batch ${c.batch}`, p));
    }
    notes.push("--profile: the peer is not run; ours is the median whole step of the profile run.");
    return {
      name: "train",
      peer: "PyTorch (not run with --profile)",
      adapter: describeAdapter(gpu.adapter),
      rows,
      notes,
      extra: tables.join("\n\n"),
    };
  }
  const peerScript = path.join(packageRoot(), "bench", "peers", "train.py");
  let peerName = "PyTorch (CPU)";
  for (const c of cases) {
    const config = modelConfig(c.arch, c.objective);
    const sec = await oursSecPerStep(c);
    // The peer at its best: all cores, and one thread (on a shared VM, OpenMP's barriers over
    // 2 threads can make the step several times slower than 1 thread); the faster one counts.
    const peerRun = (threads: number | null) =>
      JSON.parse(
        runPython(
          peerScript,
          [JSON.stringify({ config, batch: c.batch, warmup: c.warmup, steps: c.steps, threads })],
          undefined,
          peerEnv(),
        ),
      ) as PeerOut;
    const all = peerRun(null);
    const one = all.threads > 1 ? peerRun(1) : all;
    const out = one.imgPerSec > all.imgPerSec ? one : all;
    peerName = `PyTorch ${out.torch} on the CPU (the faster of ${all.threads} threads and 1 thread)`;
    rows.push(row(`${c.arch} ${c.objective} train step, batch ${c.batch}`, unitOf(c), c.batch / sec, out.imgPerSec));
    notes.push(
      `${c.arch} ${c.objective} batch ${c.batch}: ours ${sec.toFixed(3)} s/step (${(1 / sec).toFixed(2)} steps/s), torch ` +
        `${all.secPerStep.toFixed(3)} s/step with ${all.threads} threads, ${one.secPerStep.toFixed(3)} with 1 (peer: ${out.threads})`,
    );
    if (notes.length === 1)
      notes.unshift(
        `Peer setup: CPU ${os.cpus()[0]?.model ?? "unknown"} (${os.cpus().length} cores); BLAS ${out.blas}; OpenBLAS core ` +
          `${out.coretype}; threads: all ${all.threads} and 1, the faster counts (per case below); ${peerEnvNote()}.`,
      );
  }
  return { name: "train", peer: peerName, adapter: describeAdapter(gpu.adapter), rows, notes };
}
