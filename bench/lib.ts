// Shared benchmark plumbing: every bench/<name>.ts exports `bench(opts)` returning a BenchResult;
// bench/run.ts prints it as a table or, with --json, one JSON object.
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { Gpu } from "../src/gpu/device.js";
import type { Call } from "../src/gpu/kernel.js";

export interface BenchRow {
  /** What was measured, e.g. "blur sigma=1.6 640x480". */
  case: string;
  unit: string;
  /** Our figure (higher is better unless `lowerIsBetter`). */
  ours: number;
  /** The peer's figure in the same run, or null when the peer does not do this case. */
  peer: number | null;
  /** ours / peer for throughputs, peer / ours for times (so > 1 always means we are faster). */
  ratio: number | null;
  lowerIsBetter?: boolean;
}

export interface BenchResult {
  name: string;
  peer: string;
  adapter: string;
  rows: BenchRow[];
  notes?: string[];
  /** Further markdown (e.g. profile tables), printed after the notes. */
  extra?: string;
}

export interface BenchOptions {
  /** Smaller inputs and fewer repeats (used by a smoke test). */
  quick?: boolean;
  /** Per-kernel profile of one step where the bench has one (bench/train.ts; skips the peer). */
  profile?: boolean;
}

export function row(c: string, unit: string, ours: number, peer: number | null, lowerIsBetter = false): BenchRow {
  const ratio = peer === null || peer === 0 || ours === 0 ? null : lowerIsBetter ? peer / ours : ours / peer;
  return { case: c, unit, ours, peer, ratio, lowerIsBetter };
}

/** Median wall time in ms of `fn` over `repeats` runs after `warmup` runs. */
export async function timeMs(fn: () => Promise<unknown> | unknown, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** A BLAS peer's environment: ours without the variables that pin OpenBLAS to older kernels. */
export function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** How a BLAS peer ran, for its bench's notes: which kernels it got and what we removed for it. */
export const peerEnvNote = (): string =>
  `its process runs without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (here: ${process.env.OPENBLAS_CORETYPE ?? "unset"} / ${process.env.OPENBLAS_L2_SIZE ?? "unset"})`;

/**
 * Run a peer script with Debian's python3 (where python3-opencv / python3-torch live). `env`
 * replaces the environment of the peer's process only (e.g. without OPENBLAS_CORETYPE).
 */
export function runPython(script: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync("/usr/bin/python3", [script, ...args], { encoding: "utf8", input, maxBuffer: 1 << 28, env: env ?? process.env });
  if (r.status !== 0)
    throw new Error(
      `peer ${script} failed (${r.status}): ${r.stderr}\nFix: 'node scripts/bootstrap.mjs --bench' installs python3-opencv, python3-torch and numpy`,
    );
  return r.stdout;
}

const fmt = (v: number | null) =>
  v === null ? "-" : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);

export function formatTable(r: BenchResult): string {
  const head = ["case", "unit", "mimic-kit", r.peer, "ratio"];
  const rows = r.rows.map((x) => [x.case, x.unit, fmt(x.ours), fmt(x.peer), x.ratio === null ? "-" : `${fmt(x.ratio)}x`]);
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((c) => `| ${c.join(" | ")} |`)];
  return `### ${r.name} (adapter: ${r.adapter})\n\n${lines.join("\n")}\n${(r.notes ?? []).map((n) => `\n${n}`).join("")}${r.extra ? `\n\n${r.extra}` : ""}`;
}

/**
 * GPU ns of each recorded call from timestamp queries: one compute pass per call (direct or
 * indirect dispatch), in submits of at most `chunk` calls (query sets stay small).
 */
export async function timestampCalls(gpu: Gpu, calls: readonly Call[], chunk = 2048): Promise<number[]> {
  const dev = gpu.device;
  const out: number[] = [];
  for (let c0 = 0; c0 < calls.length; c0 += chunk) {
    const part = calls.slice(c0, c0 + chunk);
    const count = 2 * part.length;
    const qs = dev.createQuerySet({ label: "profile timestamps", type: "timestamp", count });
    const resolve = dev.createBuffer({
      label: "profile resolve",
      size: count * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const read = dev.createBuffer({ label: "profile read", size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = dev.createCommandEncoder({ label: "profile" });
    part.forEach((c, i) => {
      const pass = enc.beginComputePass({
        label: c.label,
        timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      pass.setPipeline(c.pipe);
      pass.setBindGroup(0, c.group);
      if (c.indirect) pass.dispatchWorkgroupsIndirect(c.indirect.buffer, c.indirect.offset);
      else pass.dispatchWorkgroups(...c.wg);
      pass.end();
    });
    enc.resolveQuerySet(qs, 0, count, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
    dev.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    for (let i = 0; i < part.length; i++) out.push(Number(t[2 * i + 1] - t[2 * i]));
    for (const b of [qs, resolve, read]) b.destroy();
  }
  return out;
}
